"""Which database a backend name names: the one test of "is this MySQL"."""

from __future__ import annotations

MYSQL_BACKENDS = ("mysql", "mariadb")


def is_mysql(backend: str) -> bool:
    """Whether a backend (`dialect.name`, `url.get_backend_name()`) is MySQL or MariaDB."""
    return backend in MYSQL_BACKENDS
