"""Live servers for the tests and the benchmarks: Hypercorn processes of the service, moto's S3.

A server runs in a session of its own, and every process it starts (Hypercorn's workers,
multiprocessing's resource tracker) inherits its output. Stopping it therefore reaches them all,
even after its first process was killed on its own, and the end of that output is the event that
says they are all gone. It is ready once it prints that it is listening.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import signal
import socket
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Self

import httpx

PROJECT_ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
STARTUP_SECONDS = 30
STOP_SECONDS = 20
# Hypercorn and moto's Werkzeug both print this once their socket accepts connections.
LISTENING = b"Running on http://"
KEPT_LOG_LINES = 500

_started: list[ServerProcess] = []


def process_stats() -> Iterator[tuple[int, list[str]]]:
    """Each process's pid and the fields of /proc/<pid>/stat after its command name.

    Counted from 1 as in proc(5), field N is at index N - 3: state(3) is [0], ppid(4) [1],
    session(6) [3], utime(14) [11], stime(15) [12].
    """
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            yield int(entry.name), (entry / "stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue


def free_port() -> int:
    """A loopback TCP port that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def server_environment(settings: Mapping[str, str]) -> dict[str, str]:
    """This process's environment with `settings` as its only SINPLUMA_* variables."""
    inherited = {name: value for name, value in os.environ.items() if not name.startswith("SINPLUMA_")}
    return inherited | dict(settings)


def still_running() -> list[ServerProcess]:
    """Every server started by this process that has a process left."""
    return [server for server in _started if server.running]


class ServerProcess:
    """A server command on a loopback port, started and stopped together with all its processes.

    It is ready once it prints `ready_line` (and `health_path`, when given, answers 200).
    """

    ready_line = LISTENING

    def __init__(
        self,
        command: Sequence[str],
        *,
        port: int,
        environment: Mapping[str, str] | None = None,
        health_path: str | None = None,
        cwd: Path = PROJECT_ROOT,
    ) -> None:
        self.port = port
        self.url = f"http://{HOST}:{port}"
        self._log: deque[str] = deque(maxlen=KEPT_LOG_LINES)
        self._listening = threading.Event()
        self._output_ended = threading.Event()
        self.process = subprocess.Popen(
            command,
            cwd=cwd,
            env=None if environment is None else dict(environment),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        _started.append(self)
        threading.Thread(target=self._read_output, name=f"server-{port}-output", daemon=True).start()
        try:
            self._wait_until_ready(health_path)
        except BaseException:
            self.stop()
            raise

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        """Whether any process of the server is left: each one holds its output open."""
        return not self._output_ended.is_set()

    def log(self) -> str:
        """The last lines the server printed, standard output and error together."""
        return "".join(self._log)

    def stop(self) -> None:
        """SIGTERM, as a supervisor stops a service; then the same to whatever is left of it (workers
        whose master was killed), and SIGKILL to what is still there after STOP_SECONDS."""
        if self.process.poll() is None:
            self.process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(STOP_SECONDS)
        for signal_number in (signal.SIGTERM, signal.SIGKILL):
            self._signal_all(signal_number)
            if self._output_ended.wait(STOP_SECONDS):
                break
        self.process.wait()

    def kill(self) -> None:
        """SIGKILL to every process of the server at once."""
        self._signal_all(signal.SIGKILL)
        self.process.wait()
        self._output_ended.wait(STOP_SECONDS)

    def _signal_all(self, signal_number: int) -> None:
        # Only while a process still holds the output: until then the session, and so its id
        # (the first process's pid), cannot belong to anything else.
        if self.running:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal_number)

    def _read_output(self) -> None:
        # Read as it comes, so that a server writing a lot never blocks on a full pipe.
        assert self.process.stdout is not None
        with self.process.stdout as output:
            for line in output:
                self._log.append(line.decode(errors="replace"))
                if self.ready_line in line:
                    self._listening.set()
        self._output_ended.set()
        self._listening.set()

    def _wait_until_ready(self, health_path: str | None) -> None:
        listening = self._listening.wait(STARTUP_SECONDS)
        if not self.running:
            raise RuntimeError(f"server exited with {self.process.wait()}:\n{self.log()}")
        if not listening:
            raise RuntimeError(f"server not listening after {STARTUP_SECONDS} s:\n{self.log()}")
        if health_path is not None:
            try:
                status = httpx.get(f"{self.url}{health_path}", timeout=STARTUP_SECONDS).status_code
            except httpx.TransportError as error:
                raise RuntimeError(f"{health_path} failed: {error!r}\n{self.log()}") from error
            if status != 200:
                raise RuntimeError(f"{health_path} answered {status}:\n{self.log()}")


class LiveServer(ServerProcess):
    """`hypercorn --config hypercorn.toml` serving the service on a free port, its SINPLUMA_*
    variables all from `settings` (none inherited from this process); `flags` override the file.
    `source` serves the package of another checkout (an earlier commit, for before and after)."""

    def __init__(
        self,
        settings: Mapping[str, str],
        *,
        workers: int | None = None,
        flags: Sequence[str] = (),
        source: Path | None = None,
    ) -> None:
        port = free_port()
        command = ["--config", "hypercorn.toml", "--bind", f"{HOST}:{port}"]
        if workers is not None:
            command += ["--workers", str(workers)]
        # Hypercorn writes no access log (the service writes its own line per request); an empty
        # --access-logfile keeps it so whatever the configuration says.
        command.append("--access-logfile=")
        # Hypercorn imports the app from its working directory, ahead of the installed package.
        super().__init__(
            [sys.executable, "-m", "hypercorn", *command, *flags, "sinpluma_async.asgi:app"],
            port=port,
            environment=server_environment(settings),
            health_path="/healthz",
            cwd=source or PROJECT_ROOT,
        )


class SupervisedServer(ServerProcess):
    """`sinpluma serve --workers N`: Hypercorn workers that are started again when they die
    (sinpluma_async/supervisor.py). Ready once a worker prints that it listens; `workers()` lists
    the worker processes."""

    def __init__(self, settings: Mapping[str, str], *, workers: int) -> None:
        port = free_port()
        command = [sys.executable, "-m", "sinpluma_async.cli", "serve", "--bind", f"{HOST}:{port}"]
        super().__init__(
            [*command, "--workers", str(workers)],
            port=port,
            environment=server_environment(settings),
            health_path="/healthz",
        )

    def workers(self) -> list[int]:
        return [pid for pid, fields in process_stats() if fields[1] == str(self.process.pid)]


class MotoServer(ServerProcess):
    """moto's S3-compatible server, in a process of its own."""

    def __init__(self) -> None:
        port = free_port()
        super().__init__([sys.executable, "-m", "moto.server", "-H", HOST, "-p", str(port)], port=port)


def install_mariadb_datadir(datadir: Path) -> None:
    """A fresh MariaDB data directory (system tables only; root without a password)."""
    subprocess.run(
        [
            "mariadb-install-db",
            "--no-defaults",
            f"--datadir={datadir}",
            f"--user={getpass.getuser()}",
            "--auth-root-authentication-method=normal",
            "--skip-test-db",
            "--skip-name-resolve",
        ],
        check=True,
        capture_output=True,
        timeout=STARTUP_SECONDS * 4,
    )


class MariadbServer(ServerProcess):
    """A private mariadbd: its own data directory (see `install_mariadb_datadir`), port and socket,
    so that the machine's own server is never reconfigured. `flags` are further server options."""

    ready_line = b"ready for connections"

    def __init__(self, datadir: Path, *, server_id: int, flags: Sequence[str] = ()) -> None:
        port = free_port()
        self.datadir = datadir
        self.socket = datadir / "mariadb.sock"
        command = [
            "mariadbd",
            "--no-defaults",
            f"--datadir={datadir}",
            f"--port={port}",
            f"--socket={self.socket}",
            f"--pid-file={datadir / 'mariadb.pid'}",
            "--bind-address=127.0.0.1",
            f"--user={getpass.getuser()}",
            f"--server-id={server_id}",
            "--skip-name-resolve",
            "--innodb-buffer-pool-size=64M",
            "--character-set-server=utf8mb4",
            "--collation-server=utf8mb4_unicode_ci",
            *flags,
        ]
        super().__init__(command, port=port)
