"""A load generator that spends little CPU: aiohttp on uvloop, in a process of its own.

Run by bench/side_by_side.py, which reads its output; by hand:
  .venv/bin/python bench/load_client.py SPEC.json

The spec (JSON) says what to send: `{"url", "method", "paths": [...], "headers": {...}, "body": str
| null, "seconds", "warmup", and either "connections" (each sends its next request as soon as its
last one is answered) or "editors" and "period" (each editor sends to its own path every `period`
seconds, their starts spread over one period)}`. It prints `measuring` when the measured window
opens, then one JSON line: requests, failures, req/s, latency percentiles, and its own CPU seconds
in the window.
"""

from __future__ import annotations

import asyncio
import json
import random
import statistics
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import uvloop


@dataclass
class Tally:
    """What the measured window saw: latencies of answered requests, and what failed."""

    measure_from: float
    stop_at: float
    latencies_ms: list[float] = field(default_factory=list)
    failures: dict[str, int] = field(default_factory=dict)

    def record(self, started: float, outcome: str | None) -> None:
        if started < self.measure_from or started >= self.stop_at:
            return
        if outcome is None:
            self.latencies_ms.append((time.perf_counter() - started) * 1000)
        else:
            self.failures[outcome] = self.failures.get(outcome, 0) + 1


async def send(session: aiohttp.ClientSession, spec: dict[str, Any], path: str, tally: Tally) -> None:
    started = time.perf_counter()
    outcome: str | None = None
    try:
        async with session.request(spec["method"], spec["url"] + path, data=spec["body"]) as response:
            await response.read()
            if response.status not in spec.get("expect", (200,)):
                outcome = str(response.status)
    except (aiohttp.ClientError, TimeoutError) as error:
        outcome = type(error).__name__
    tally.record(started, outcome)


async def connection_loop(
    session: aiohttp.ClientSession, spec: dict[str, Any], index: int, tally: Tally
) -> None:
    paths = spec["paths"]
    turn = index
    while time.perf_counter() < tally.stop_at:
        await send(session, spec, paths[turn % len(paths)], tally)
        turn += 1


async def editor_loop(
    session: aiohttp.ClientSession, spec: dict[str, Any], path: str, offset: float, tally: Tally
) -> None:
    await asyncio.sleep(offset)
    next_at = time.perf_counter()
    while next_at < tally.stop_at:
        await send(session, spec, path, tally)
        next_at += spec["period"]
        await asyncio.sleep(max(0.0, next_at - time.perf_counter()))


async def announce_window(tally: Tally) -> float:
    """Print `measuring` when the window opens; the process's CPU seconds at that moment."""
    await asyncio.sleep(max(0.0, tally.measure_from - time.perf_counter()))
    print("measuring", flush=True)
    return time.process_time()


async def run(spec: dict[str, Any]) -> dict[str, Any]:
    begin = time.perf_counter()
    tally = Tally(begin + spec["warmup"], begin + spec["warmup"] + spec["seconds"])
    connector = aiohttp.TCPConnector(limit=0, force_close=False)
    timeout = aiohttp.ClientTimeout(total=spec.get("timeout", 10))
    async with aiohttp.ClientSession(
        connector=connector, timeout=timeout, headers=spec["headers"], skip_auto_headers=("User-Agent",)
    ) as session:
        window = asyncio.create_task(announce_window(tally))
        if "editors" in spec:
            rng = random.Random(11)
            paths = spec["paths"][: spec["editors"]]
            loops = [editor_loop(session, spec, path, rng.random() * spec["period"], tally) for path in paths]
        else:
            loops = [connection_loop(session, spec, index, tally) for index in range(spec["connections"])]
        await asyncio.gather(*loops)
        cpu_at_start = await window
        cpu_s = time.process_time() - cpu_at_start
    return summary(tally, spec["seconds"], cpu_s)


def summary(tally: Tally, seconds: float, cpu_s: float) -> dict[str, Any]:
    latencies = tally.latencies_ms or [0.0, 0.0]
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    answered = len(tally.latencies_ms)
    return {
        "requests": answered,
        "failures": sum(tally.failures.values()),
        "failure_kinds": tally.failures,
        "req_per_s": round(answered / seconds, 1),
        "p50_ms": round(cuts[49], 1),
        "p99_ms": round(cuts[98], 1),
        "max_ms": round(max(latencies), 1),
        "client_cpu_s": round(cpu_s, 2),
    }


def main() -> int:
    with open(sys.argv[1], encoding="utf-8") as file:
        spec = json.load(file)
    result = uvloop.run(run(spec))
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
