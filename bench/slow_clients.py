"""Slow clients: connections that send their request head a byte at a time, and /healthz meanwhile.

Run: .venv/bin/python bench/slow_clients.py [--connections 1000] [--interval 1] [--read-timeout 60] [--json]

A live Hypercorn with the service's hypercorn.toml (on a throwaway SQLite database; /healthz
touches nothing) gets `--connections` connections, each sending a request head one byte every
`--interval` seconds, a head longer than the read timeout lets it finish. Meanwhile a separate
client asks for /healthz every PROBE_SECONDS on one keep-alive connection. Reported: when the
server cut the slow connections (seconds after each one opened), and the /healthz latency while
they were all open and after they were cut. `--read-timeout` is passed on Hypercorn's command
line (the file says 60). The run stops by itself: at most the read timeout plus GRACE_SECONDS.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import statistics
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

PROBE_SECONDS = 0.05
GRACE_SECONDS = 15.0
AFTER_CUT_SECONDS = 3.0


@dataclass
class SlowConnection:
    """One slow client: when it opened, and when (if ever) the server closed it."""

    opened: float = 0.0
    closed: float | None = None
    refused: str | None = None

    @property
    def lasted(self) -> float | None:
        return None if self.closed is None else self.closed - self.opened


@dataclass
class Probe:
    """/healthz latencies, in milliseconds, labelled by phase."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: {"slow": [], "after": []})
    failures: list[str] = field(default_factory=list)
    phase: str = "slow"
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self, url: str) -> None:
        with httpx.Client(base_url=url, timeout=10) as client:
            while not self.stop.wait(PROBE_SECONDS):
                phase, started = self.phase, time.perf_counter()
                try:
                    response = client.get("/healthz")
                except httpx.HTTPError as error:
                    self.failures.append(f"{phase}: {error!r}")
                    continue
                if response.status_code != 200:
                    self.failures.append(f"{phase}: {response.status_code}")
                self.latencies[phase].append((time.perf_counter() - started) * 1000)


async def dribble(host: str, port: int, head: bytes, interval: float, connection: SlowConnection) -> None:
    """Send `head` a byte every `interval` seconds until the server closes the connection."""
    # Timed from before the connect: the server's clock starts when it accepts, which a busy
    # client can learn of well after (and a cut would then seem to come before the timeout).
    connection.opened = time.monotonic()
    try:
        reader, writer = await asyncio.open_connection(host, port)
    except OSError as error:
        connection.refused = repr(error)
        return
    try:
        for byte in head:
            writer.write(bytes([byte]))
            await writer.drain()
            try:
                if await asyncio.wait_for(reader.read(1024), interval) == b"":
                    break
            except TimeoutError:
                continue
        else:
            return  # the whole head went through: the server never cut it
    except OSError:
        pass
    finally:
        writer.close()
    connection.closed = time.monotonic()


def slow_head(host: str, read_timeout: float, interval: float) -> bytes:
    """A request head that takes twice the read timeout to send at a byte per `interval`."""
    length = int(2 * read_timeout / interval) + 64
    start = f"GET /healthz HTTP/1.1\r\nHost: {host}\r\nX-Slow: ".encode()
    return start + b"a" * max(length - len(start), 1) + b"\r\n\r\n"


async def measure(url: str, *, connections: int, interval: float, read_timeout: float) -> dict[str, Any]:
    """Open the slow connections against `url`, probe /healthz meanwhile, and summarise."""
    host, port = url.removeprefix("http://").split(":")
    probe = Probe()
    prober = threading.Thread(target=probe.run, args=(url,), name="healthz-probe", daemon=True)
    prober.start()
    slow = [SlowConnection() for _ in range(connections)]
    head = slow_head(host, read_timeout, interval)
    started = time.monotonic()
    try:
        async with asyncio.timeout(read_timeout + GRACE_SECONDS):
            await asyncio.gather(*(dribble(host, int(port), head, interval, each) for each in slow))
        probe.phase = "after"
        await asyncio.sleep(AFTER_CUT_SECONDS)
    except TimeoutError:
        pass
    finally:
        probe.stop.set()
        await asyncio.to_thread(prober.join, 10)
    return summary(slow, probe, time.monotonic() - started)


def percentiles(values: list[float]) -> dict[str, float | int]:
    if not values:
        return {"count": 0}
    ordered = sorted(values)
    return {
        "count": len(ordered),
        "p50": round(statistics.median(ordered), 2),
        "p99": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 2),
        "max": round(ordered[-1], 2),
    }


def summary(slow: list[SlowConnection], probe: Probe, seconds: float) -> dict[str, Any]:
    lasted = [each.lasted for each in slow if each.lasted is not None]
    return {
        "connections": len(slow),
        "refused": sum(each.refused is not None for each in slow),
        "cut": len(lasted),
        "never_cut": sum(each.refused is None and each.closed is None for each in slow),
        "cut_after_seconds": {
            "min": round(min(lasted), 2) if lasted else None,
            "median": round(statistics.median(lasted), 2) if lasted else None,
            "max": round(max(lasted), 2) if lasted else None,
        },
        "healthz_ms_while_slow": percentiles(probe.latencies["slow"]),
        "healthz_ms_after_cut": percentiles(probe.latencies["after"]),
        "healthz_failures": probe.failures[:10],
        "seconds": round(seconds, 1),
    }


def allow_open_files(wanted: int) -> None:
    """Raise this process's open-file limit (the server inherits it) to hold every connection."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(wanted, hard), hard))


def main() -> None:
    from harness import running_server  # run as a script, with bench/ on the path

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=1000)
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between two bytes of a head")
    parser.add_argument("--read-timeout", type=int, default=60, help="passed to Hypercorn's command line")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    allow_open_files(2 * args.connections + 256)
    flags = ["--read-timeout", str(args.read_timeout)]
    with running_server("sqlite", flags=flags) as server:
        result = asyncio.run(
            measure(
                server.url,
                connections=args.connections,
                interval=args.interval,
                read_timeout=args.read_timeout,
            )
        )
    result |= {"read_timeout": args.read_timeout, "interval": args.interval}
    print(json.dumps(result) if args.json else json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
