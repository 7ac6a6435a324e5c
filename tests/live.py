"""Real Hypercorn processes for tests that need a live server or several of them."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx

PROJECT_ROOT = Path(__file__).resolve().parent.parent
STARTUP_SECONDS = 30


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def s3_environment(endpoint: str, *, bucket: str) -> dict[str, str]:
    """The SINPLUMA_S3_* variables for the test S3 server."""
    return {
        "SINPLUMA_S3_ENDPOINT": endpoint,
        "SINPLUMA_S3_ACCESS_KEY": "test-access-key",
        "SINPLUMA_S3_SECRET_KEY": "test-secret-key",
        "SINPLUMA_S3_SECURE": "false",
        "SINPLUMA_S3_BUCKET": bucket,
    }


def service_environment(*, mariadb_url: str, redis_url: str, s3_endpoint: str) -> dict[str, str]:
    """The SINPLUMA_* variables of a server on the test MariaDB, Redis and S3, with its own Redis
    prefix and bucket; servers given the same environment share them, as processes of one service."""
    run = uuid.uuid4().hex
    return {
        "SINPLUMA_DATABASE_URL": mariadb_url,
        "SINPLUMA_REDIS_URL": redis_url,
        "SINPLUMA_REDIS_KEY_PREFIX": f"sinpluma:live:{run}:",
        "SINPLUMA_JWT_SECRET": secrets.token_urlsafe(48),
        "SINPLUMA_BCRYPT_ROUNDS": "4",
        **s3_environment(s3_endpoint, bucket=f"live-{run}"),
    }


@contextmanager
def server_pair(environment: Mapping[str, str]) -> Iterator[tuple[LiveServer, LiveServer]]:
    """Two processes of one service: same database, Redis, storage and secret."""
    first = LiveServer(environment)
    try:
        second = LiveServer(environment)
    except Exception:
        first.stop()
        raise
    try:
        yield first, second
    finally:
        first.stop()
        second.stop()


class LiveServer:
    """One `hypercorn --config hypercorn.toml` process on a free loopback port."""

    def __init__(self, environment: Mapping[str, str]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._log = tempfile.NamedTemporaryFile(prefix="hypercorn-", suffix=".log", delete=False)  # noqa: SIM115
        env = {key: value for key, value in os.environ.items() if not key.startswith("SINPLUMA_")}
        env.update(environment)
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "hypercorn",
                "--config",
                str(PROJECT_ROOT / "hypercorn.toml"),
                "--bind",
                f"127.0.0.1:{self.port}",
                "--access-logfile",
                "-",
                "sinpluma_async.asgi:app",
            ],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=self._log,
        )
        self._wait_until_healthy()

    def _wait_until_healthy(self) -> None:
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}:\n{self.log()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"server did not become healthy:\n{self.log()}")

    def log(self) -> str:
        return Path(self._log.name).read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()
        Path(self._log.name).unlink(missing_ok=True)
