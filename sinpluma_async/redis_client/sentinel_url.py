"""`redis+sentinel://[[user]:password@]host:port,host:port,.../service[/db]` (API.md, Configuration).

The sentinels are listed in the host part; the path names the service (Sentinel's master name) and
the database number. The user and password, when given, are the Redis servers' (the master's); the
sentinels themselves are asked without a password.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import unquote

SCHEME = "redis+sentinel://"
SENTINEL_PORT = 26379


class SentinelUrlError(ValueError):
    """A `redis+sentinel://` URL that does not say which sentinels, service or database."""


@dataclass(frozen=True, kw_only=True)
class SentinelAddress:
    """Where the sentinels listen, which master they watch, and how to talk to it."""

    sentinels: tuple[tuple[str, int], ...]
    service: str
    db: int = 0
    username: str | None = None
    password: str | None = field(default=None, repr=False)


def is_sentinel_url(url: str) -> bool:
    """Whether the URL names Redis through its sentinels rather than one server."""
    return url.lower().startswith(SCHEME)


def parse_sentinel_url(url: str) -> SentinelAddress:
    """The address a `redis+sentinel://` URL describes; SentinelUrlError says what is wrong with it."""
    if not is_sentinel_url(url):
        raise SentinelUrlError(f"a Sentinel URL starts with {SCHEME}")
    rest = url[len(SCHEME) :]
    if "?" in rest or "#" in rest:
        raise SentinelUrlError("a Sentinel URL takes no query or fragment")
    location, _, path = rest.partition("/")
    userinfo, at, hosts = location.rpartition("@")
    username, password = _credentials(userinfo) if at else (None, None)
    service, db = _service_and_db(path)
    sentinels = tuple(_sentinel(host) for host in hosts.split(","))
    return SentinelAddress(sentinels=sentinels, service=service, db=db, username=username, password=password)


def _credentials(userinfo: str) -> tuple[str | None, str | None]:
    user, colon, password = userinfo.partition(":")
    if not colon:
        # As redis:// URLs read it: a lone userinfo is the password.
        return None, unquote(user) or None
    return unquote(user) or None, unquote(password) or None


def _service_and_db(path: str) -> tuple[str, int]:
    service, _, db = path.strip("/").partition("/")
    if not service:
        raise SentinelUrlError("a Sentinel URL names the service after the hosts: .../mymaster/0")
    if not db:
        return unquote(service), 0
    if not db.isdigit():
        raise SentinelUrlError(f"the database after the service must be a number, not {db!r}")
    return unquote(service), int(db)


def _sentinel(host: str) -> tuple[str, int]:
    if host.startswith("["):
        name, bracket, port = host[1:].partition("]")
        if not bracket or (port and not port.startswith(":")):
            raise SentinelUrlError(f"{host!r} is not a host or host:port")
        port = port[1:]
    else:
        name, _, port = host.partition(":")
    if not name:
        raise SentinelUrlError(f"every sentinel needs a host, not {host!r}")
    if not port:
        return name, SENTINEL_PORT
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise SentinelUrlError(f"{host!r} has no valid port")
    return name, int(port)
