"""A request's own CPU, and that of named functions inside it, with the app called in this process.

Run (the machine-wide lock held):
  flock /tmp/sinpluma-bench.lock .venv/bin/python bench/in_process.py \
      [--scenario read|save] [--requests 3000] [--rounds 3] [--source ../before] \
      [--time sinpluma_async.observability.exchanges:record ...]

A live server (bench/harness.py, one worker) migrates a fresh MariaDB database and seeds it with
20 KB pages (bench/seeding.py); then the app is built in this process on the same database and
Redis, with JSON log lines written to /dev/null, and called one request at a time through its
ASGI interface, as Hypercorn would call it (the garbage collector set as a worker sets it), after
300 of warm-up. Each round reports this
process's CPU per request. `--time module:attribute` (`module:Class.method` for a method) wraps a
synchronous function and reports the wall time spent in it per request: its cost where it runs,
after the rest of the request has had the caches, which is what a loop of it alone cannot show.
`--source` measures another checkout's package (an earlier commit, for before and after).
Hypercorn is not here; a request's share of the server's CPU under load is bench/side_by_side.py's.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import importlib
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import uvloop

if TYPE_CHECKING:
    from seeding import PageSet

WARMUP = 300
Call = tuple[str, str, list[tuple[bytes, bytes]], bytes]


async def call(app: Any, method: str, path: str, headers: list[tuple[bytes, bytes]], body: bytes) -> int:
    """One request through the app's ASGI interface: its status."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "extensions": {},
    }
    bodies = [{"type": "http.request", "body": body, "more_body": False}]
    started: list[int] = []

    async def receive() -> dict[str, Any]:
        if bodies:
            return bodies.pop()
        await asyncio.Event().wait()  # the client stays until the app is done
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            started.append(message["status"])

    await app(scope, receive, send)
    return started[0]


def package_of(app: Any) -> str:
    return str(Path(sys.modules[app.import_name].__file__ or "").parent)


def requests_of(scenario: str, pages: PageSet) -> list[Call]:
    if scenario == "read":
        headers = [(b"host", b"bench"), (b"authorization", f"Bearer {pages.reader_token}".encode())]
        return [("GET", f"/pages/{page}", headers, b"") for page in pages.published]
    body = pages.save_body.encode()
    headers = [
        (b"host", b"bench"),
        (b"authorization", f"Bearer {pages.writer_token}".encode()),
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    return [("PUT", f"/pages/{page}", headers, body) for page in pages.own_notebook]


class Timings:
    """Wall time spent in wrapped synchronous functions, per name."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    def wrap(self, spec: str) -> None:
        module_name, _, path = spec.partition(":")
        owner: Any = importlib.import_module(module_name)
        *parents, attribute = path.split(".")
        for parent in parents:
            owner = getattr(owner, parent)
        setattr(owner, attribute, self._timed(spec, getattr(owner, attribute)))
        self.seconds[spec] = 0.0

    def _timed(self, spec: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds[spec] += time.perf_counter() - started

        return timed


async def measure(env: dict[str, str], pages: PageSet, arguments: argparse.Namespace, log: TextIO) -> None:
    os.environ.update(env)
    from sinpluma_async import create_app
    from sinpluma_async.config import Settings
    from sinpluma_async.observability.logs import configure_logging

    settings = Settings.from_env()
    configure_logging(settings, log)
    app = create_app(settings)
    gc.freeze()  # as sinpluma_async/asgi.py leaves a worker
    gc.set_threshold(10_000, 20, 20)
    timings = Timings()
    for spec in arguments.time:
        timings.wrap(spec)
    await app.startup()
    try:
        await rounds(app, requests_of(arguments.scenario, pages), timings, arguments)
    finally:
        await app.shutdown()


async def rounds(app: Any, calls: list[Call], timings: Timings, arguments: argparse.Namespace) -> None:
    for index in range(WARMUP):
        assert await call(app, *calls[index % len(calls)]) == 200
    for number in range(1, arguments.rounds + 1):
        timings.seconds = dict.fromkeys(timings.seconds, 0.0)
        started = time.process_time()
        for index in range(arguments.requests):
            await call(app, *calls[index % len(calls)])
        count = arguments.requests
        line: dict[str, Any] = {"round": number, "scenario": arguments.scenario, "package": package_of(app)}
        line["cpu_ms"] = round(1000 * (time.process_time() - started) / count, 3)
        line |= {spec: round(1e6 * seconds / count, 1) for spec, seconds in timings.seconds.items()}
        print(json.dumps(line), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scenario", choices=("read", "save"), default="read")
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--time", action="append", default=[], metavar="MODULE:ATTRIBUTE")
    parser.add_argument("--source", type=Path, help="the checkout whose package is measured")
    arguments = parser.parse_args()
    if arguments.source is not None:
        # Before anything imports the service's package: the harness and the seeding do.
        sys.path.insert(0, str(arguments.source.resolve()))
    from harness import running_server
    from seeding import seed_pages

    bcrypt = {"SINPLUMA_BCRYPT_ROUNDS": "4"}
    with running_server("mariadb", env=bcrypt) as server, open(os.devnull, "w") as log:
        assert server.database is not None
        pages = seed_pages(server.url, server.database, 20, 20, 1)
        uvloop.run(measure(dict(server.env), pages, arguments, log))


if __name__ == "__main__":
    main()
