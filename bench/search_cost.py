"""The cost of `GET /search` under load: the load test's fixtures (published pages of 5-20 KB of
one small vocabulary, so every term matches about every page) on the local load-test service,
searched by a few concurrent clients with the readers' terms.

    flock /tmp/sinpluma-bench.lock .venv/bin/python bench/search_cost.py [--seconds 20] [--profile DIR]

Prints searches made, p50 and p99 in ms, the server's CPU ms per search and, with --profile, the
top py-spy frames of the server's workers.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
from profile_top import sampled

from loadtest.content import SEARCH_TERMS
from loadtest.local_service import local_service

CONCURRENCY = 4


async def search_for(url: str, seconds: float) -> list[float]:
    """Latencies (ms) of searches made back to back by CONCURRENCY clients for `seconds`."""
    rng = random.Random(1)
    latencies: list[float] = []
    deadline = time.monotonic() + seconds
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:

        async def searcher() -> None:
            while time.monotonic() < deadline:
                query = " ".join(rng.sample(SEARCH_TERMS, rng.randint(1, 2)))
                started = time.perf_counter()
                kind = rng.choice(("all", "page"))
                response = await client.get("/search", params={"q": query, "kind": kind})
                latencies.append((time.perf_counter() - started) * 1000)
                response.raise_for_status()

        await asyncio.gather(*(searcher() for _ in range(CONCURRENCY)))
    return sorted(latencies)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--profile", type=Path)
    arguments = parser.parse_args()
    with local_service() as service:
        fixtures = [sys.executable, "-m", "loadtest", "--host", service.url, "--prepare-only"]
        subprocess.run(fixtures, check=True)
        asyncio.run(search_for(service.url, 3))  # warm-up
        cpu_before = service.cpu()["server_cpu_s"]
        with sampled(service.process_id, arguments.seconds, arguments.profile) as top:
            latencies = asyncio.run(search_for(service.url, arguments.seconds))
        cpu = service.cpu()["server_cpu_s"] - cpu_before
    result = {
        "searches": len(latencies),
        "p50_ms": round(latencies[len(latencies) // 2], 1),
        "p99_ms": round(latencies[int(len(latencies) * 0.99)], 1),
        "server_cpu_ms_per_search": round(cpu * 1000 / len(latencies), 2),
    }
    print(json.dumps(result))
    print("\n".join(top))


if __name__ == "__main__":
    main()
