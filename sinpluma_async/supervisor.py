"""`sinpluma serve --workers N`: Hypercorn workers on one socket, each brought back when it dies.

Hypercorn 0.18 runs its workers itself, but when one exits with an error (a crash, an OOM kill,
`kill -9`) it stops all the others and exits: one lost worker takes the whole service down. Here
the listening socket is opened once and handed to N single-process Hypercorns (`--workers 0`,
`--bind fd://`, both documented options); the kernel spreads connections over those still alive,
and a worker that exits is started again. SIGTERM or SIGINT stops every worker gracefully.
"""

from __future__ import annotations

import logging
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from types import FrameType

log = logging.getLogger(__name__)
CHECK_EVERY_SECONDS = 0.05
# A worker that dies this soon after starting is restarted after a pause, not in a tight loop.
CRASH_LOOP_SECONDS = 5.0
STOP_SECONDS = 30.0


def listening_socket(bind: str, backlog: int) -> socket.socket:
    """A TCP socket listening on `host:port`, inherited by every worker."""
    host, _, port = bind.rpartition(":")
    host = host.strip("[]") or "127.0.0.1"
    listener = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((host, int(port)))
    listener.listen(backlog)
    listener.set_inheritable(True)
    return listener


class Supervisor:
    """Keeps `workers` processes of `hypercorn` (the command and its options) serving `application`."""

    def __init__(
        self, hypercorn: Sequence[str], application: str, *, bind: str, workers: int, backlog: int = 2048
    ) -> None:
        self._listener = listening_socket(bind, backlog)
        fd_bind = f"fd://{self._listener.fileno()}"
        self._command = [*hypercorn, "--workers", "0", "--bind", fd_bind, application]
        self._workers = workers
        self._running: dict[int, tuple[subprocess.Popen[bytes], float]] = {}
        self._stopping = False

    def run(self) -> int:
        """Serve until SIGTERM or SIGINT; then stop every worker and return 0."""
        for signal_number in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signal_number, self._stop)
        while not self._stopping:
            self._replace_exited()
            time.sleep(CHECK_EVERY_SECONDS)
        self._stop_all()
        self._listener.close()
        return 0

    def _replace_exited(self) -> None:
        now = time.monotonic()
        for slot, (process, started) in list(self._running.items()):
            code = process.poll()
            if code is None:
                continue
            log.warning("Worker %s (pid %s) exited with %s; starting another", slot, process.pid, code)
            del self._running[slot]
            if now - started < CRASH_LOOP_SECONDS:
                time.sleep(CRASH_LOOP_SECONDS / 5)
        for slot in range(self._workers):
            if slot not in self._running and not self._stopping:
                # The command is this module's own: the interpreter running it, and Hypercorn.
                process = subprocess.Popen(self._command, pass_fds=(self._listener.fileno(),))  # noqa: S603
                self._running[slot] = (process, time.monotonic())

    def _stop(self, _signal: int, _frame: FrameType | None) -> None:
        self._stopping = True

    def _stop_all(self) -> None:
        for process, _ in self._running.values():
            if process.poll() is None:
                process.terminate()
        deadline = time.monotonic() + STOP_SECONDS
        for process, _ in self._running.values():
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def supervise(config_path: str, application: str, *, bind: str, workers: int) -> int:
    """Serve `application` with `workers` supervised Hypercorn processes."""
    hypercorn = [sys.executable, "-m", "hypercorn", "--config", config_path]
    return Supervisor(hypercorn, application, bind=bind, workers=workers).run()
