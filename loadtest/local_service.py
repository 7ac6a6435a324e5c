"""The service `make loadtest` runs when it is given no host: the benchmarks' server on MariaDB +
Redis (a throwaway database and key prefix), two Hypercorn workers, rate limits off."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

# bench/ is a folder of scripts, which import each other by their own names.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

from harness import machine_busy_cpu, named_processes_cpu, running_server

WORKERS = 2
SETTINGS = {"SINPLUMA_RATE_LIMITS": "off", "SINPLUMA_BCRYPT_ROUNDS": "4"}


class LocalService:
    """A running local service and the CPU seconds used so far by it and by MariaDB."""

    def __init__(self, server: Any) -> None:
        self._server = server
        self.url: str = server.url
        self.process_id: int = server.process.pid

    def cpu(self) -> dict[str, float]:
        """CPU seconds so far: the server's processes, MariaDB's, and every core's busy time, which
        shows when something else shared the machine."""
        return {
            "server_cpu_s": self._server.cpu(),
            "mariadb_cpu_s": named_processes_cpu("mariadbd"),
            "machine_busy_cpu_s": machine_busy_cpu(),
        }


@contextmanager
def local_service() -> Iterator[LocalService]:
    with running_server("mariadb", workers=WORKERS, env=SETTINGS) as server:
        yield LocalService(server)
