"""Redis behind Sentinel on this machine: a primary, a replica and three sentinels, each a
`redis-server` process on a free port with its own directory and configuration.

The sentinels notice a dead master after DOWN_AFTER_MS and agree on it with a quorum of two.
Ready is asked of the servers (INFO replication, SENTINEL MASTER), never waited for blindly.
"""

from __future__ import annotations

import shutil
import signal
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import redis

from bench.servers import ServerProcess, free_port
from tests.support import unavailable

SERVICE = "mymaster"
QUORUM = 2
DOWN_AFTER_MS = 1000
FAILOVER_TIMEOUT_MS = 3000
READY_SECONDS = 20
CHECK_EVERY_SECONDS = 0.05


class RedisProcess(ServerProcess):
    """`redis-server <config>` (with `--sentinel`, a sentinel), logging to its output."""

    def __init__(self, directory: Path, lines: list[str], *, sentinel: bool = False) -> None:
        port = free_port()
        directory.mkdir()
        config = directory / "redis.conf"
        settings = [f"port {port}", "bind 127.0.0.1", f'dir "{directory}"', 'logfile ""', *lines]
        config.write_text("\n".join(settings) + "\n")
        self.ready_line = b"+monitor master" if sentinel else b"Ready to accept connections"
        command = ["redis-server", str(config), *(["--sentinel"] if sentinel else [])]
        super().__init__(command, port=port, cwd=directory)
        self.client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=2, decode_responses=True)

    def pause(self) -> None:
        """SIGSTOP: the process answers nothing, replication included, until `resume`."""
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        self.process.send_signal(signal.SIGCONT)


@dataclass
class SentinelCluster:
    primary: RedisProcess
    replica: RedisProcess
    sentinels: list[RedisProcess]

    @property
    def url(self) -> str:
        """SINPLUMA_REDIS_URL for the service: its sentinels and the service they watch."""
        hosts = ",".join(f"127.0.0.1:{sentinel.port}" for sentinel in self.sentinels)
        return f"redis+sentinel://{hosts}/{SERVICE}/0"

    def master_port(self) -> int:
        """The master's port as the first sentinel names it now."""
        _, port = self.sentinels[0].client.sentinel_get_master_addr_by_name(SERVICE)
        return int(port)

    def promoted(self) -> bool:
        """Whether every sentinel names the replica as the master, and the replica says it is one."""
        named = {int(s.client.sentinel_get_master_addr_by_name(SERVICE)[1]) for s in self.sentinels}
        return named == {self.replica.port} and self.replica.client.info("replication")["role"] == "master"

    def replicating(self) -> bool:
        """Whether the replica follows the primary and every sentinel sees both and its peers."""
        if self.replica.client.info("replication").get("master_link_status") != "up":
            return False
        for sentinel in self.sentinels:
            state = sentinel.client.sentinel_master(SERVICE)
            if state["num-slaves"] < 1 or state["num-other-sentinels"] < len(self.sentinels) - 1:
                return False
        return True


def wait_for(condition: Callable[[], bool], what: str, seconds: float = READY_SECONDS) -> float:
    """Ask until `condition()` holds; how long that took. Fails after `seconds`."""
    started = time.monotonic()
    while True:
        try:
            if condition():
                return time.monotonic() - started
        except redis.RedisError:
            pass
        assert time.monotonic() - started < seconds, f"{what} not within {seconds} s"
        time.sleep(CHECK_EVERY_SECONDS)


@contextmanager
def sentinel_cluster() -> Iterator[SentinelCluster]:
    """A primary, its replica and three sentinels watching them, stopped and removed afterwards."""
    if shutil.which("redis-server") is None:
        unavailable("redis-server is not installed")
    with ExitStack() as stack:
        root = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="sinpluma-sentinel-")))
        in_memory = ['save ""', "appendonly no"]
        primary = stack.enter_context(RedisProcess(root / "primary", in_memory))
        replica_of = f"replicaof 127.0.0.1 {primary.port}"
        replica = stack.enter_context(RedisProcess(root / "replica", [*in_memory, replica_of]))
        watch = [
            f"sentinel monitor {SERVICE} 127.0.0.1 {primary.port} {QUORUM}",
            f"sentinel down-after-milliseconds {SERVICE} {DOWN_AFTER_MS}",
            f"sentinel failover-timeout {SERVICE} {FAILOVER_TIMEOUT_MS}",
        ]
        sentinels = [
            stack.enter_context(RedisProcess(root / f"sentinel-{n}", watch, sentinel=True)) for n in range(3)
        ]
        cluster = SentinelCluster(primary, replica, sentinels)
        for process in [primary, replica, *sentinels]:
            stack.callback(process.client.close)
        wait_for(cluster.replicating, "the replica and the sentinels")
        yield cluster
