"""A primary and a GTID replica, each a private mariadbd started by the tests, for the whole run.

The service's writer URL is on the primary; its read URL is on the replica, as a user that holds
only SELECT. The replica's delay (MASTER_DELAY) is switched by the tests.
"""

from __future__ import annotations

import secrets
import shutil
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pymysql
import pytest

from bench.servers import MariadbServer, install_mariadb_datadir
from sinpluma_async.cli import migrate
from tests.conftest import service_missing
from tests.live import LiveServer, server_pair, service_environment

DATABASE = "sinpluma"
CATCH_UP_SECONDS = 30
CHECK_EVERY_SECONDS = 0.05
# userstat: per-user statement counters, to show what the service's read-only user ran there.
REPLICA_FLAGS = ["--read-only=ON", "--relay-log=relay", "--userstat=ON"]


@dataclass
class Replication:
    """The two servers, and what the service and the tests connect with."""

    primary: MariadbServer
    replica: MariadbServer
    writer_url: str
    read_url: str

    def run(self, server: MariadbServer, *statements: str) -> list[tuple[Any, ...]]:
        """Run statements as root on one server; the rows of the last."""
        connection = pymysql.connect(unix_socket=str(server.socket), user="root", autocommit=True)
        with closing(connection), connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
            return list(cursor.fetchall())

    def counter(self, server: MariadbServer, name: str) -> int:
        """A global status counter of one server (`Com_select`, ...)."""
        return int(self.run(server, f"SHOW GLOBAL STATUS LIKE '{name}'")[0][1])

    def set_delay(self, seconds: int) -> None:
        """Apply the primary's changes on the replica no sooner than `seconds` after they happened."""
        self.run(
            self.replica,
            "STOP SLAVE",
            f"CHANGE MASTER TO MASTER_DELAY={seconds}",
            "START SLAVE",
        )

    def wait_caught_up(self) -> None:
        """Return once the replica has applied everything the primary has written."""
        target = self.run(self.primary, "SELECT @@gtid_binlog_pos")[0][0]
        deadline = time.monotonic() + CATCH_UP_SECONDS
        while self.run(self.replica, "SELECT @@gtid_slave_pos")[0][0] != target:
            if time.monotonic() > deadline:
                raise AssertionError(f"the replica did not reach {target} in {CATCH_UP_SECONDS} s")
            time.sleep(CHECK_EVERY_SECONDS)


def create_accounts(replication: Replication, passwords: dict[str, str]) -> None:
    """The database, the service's user, the replication user and the read-only user, made on the
    primary (the replica copies them from its binary log)."""
    replication.run(
        replication.primary,
        f"CREATE DATABASE {DATABASE} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci",
        f"CREATE USER 'app'@'%' IDENTIFIED BY '{passwords['app']}'",
        f"GRANT ALL ON {DATABASE}.* TO 'app'@'%'",
        f"CREATE USER 'reader'@'%' IDENTIFIED BY '{passwords['reader']}'",
        f"GRANT SELECT ON {DATABASE}.* TO 'reader'@'%'",
        f"CREATE USER 'repl'@'%' IDENTIFIED BY '{passwords['repl']}'",
        "GRANT REPLICATION SLAVE ON *.* TO 'repl'@'%'",
    )


def start_replicating(replication: Replication, password: str) -> None:
    replication.run(
        replication.replica,
        f"CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT={replication.primary.port}, "
        f"MASTER_USER='repl', MASTER_PASSWORD='{password}', MASTER_USE_GTID=slave_pos, "
        "MASTER_CONNECT_RETRY=1",
        "START SLAVE",
    )


@contextmanager
def primary_and_replica(root: Path) -> Iterator[Replication]:
    """Both servers from one installed data directory (copied: installing takes seconds)."""
    install_mariadb_datadir(root / "primary")
    shutil.copytree(root / "primary", root / "replica", symlinks=True)
    binary_log = ["--log-bin=binlog", "--binlog-format=ROW", "--gtid-strict-mode=ON"]
    with (
        MariadbServer(root / "primary", server_id=1, flags=binary_log) as primary,
        MariadbServer(root / "replica", server_id=2, flags=REPLICA_FLAGS) as replica,
    ):
        passwords = {name: secrets.token_hex(12) for name in ("app", "reader", "repl")}
        host = "127.0.0.1"
        replication = Replication(
            primary,
            replica,
            f"mysql+aiomysql://app:{passwords['app']}@{host}:{primary.port}/{DATABASE}?charset=utf8mb4",
            f"mysql+aiomysql://reader:{passwords['reader']}@{host}:{replica.port}/{DATABASE}?charset=utf8mb4",
        )
        create_accounts(replication, passwords)
        start_replicating(replication, passwords["repl"])
        migrate(replication.writer_url)
        replication.wait_caught_up()
        yield replication


@pytest.fixture(scope="session")
def replication(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Replication]:
    """A primary and its replica for the whole run; their data directories go with the run's."""
    if shutil.which("mariadbd") is None or shutil.which("mariadb-install-db") is None:
        service_missing("mariadbd", FileNotFoundError("mariadbd and mariadb-install-db are needed"))
    root = tmp_path_factory.mktemp("replication")
    try:
        with primary_and_replica(root) as topology:
            yield topology
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def replicated_servers(
    replication: Replication, redis_url: str, s3_endpoint: str
) -> Iterator[tuple[LiveServer, LiveServer]]:
    """Two processes of the service, writing on the primary and reading from the replica."""
    environment = service_environment(
        mariadb_url=replication.writer_url, redis_url=redis_url, s3_endpoint=s3_endpoint
    ) | {"SINPLUMA_DATABASE_READ_URL": replication.read_url}
    with server_pair(environment) as pair:
        yield pair
