"""Redis's own cost of counting one authenticated call, against the bare revocation check.

Run: BENCH_REDIS_URL=redis://127.0.0.1:6390/0 .venv/bin/python bench/redis_counting.py [--calls N]
Use a Redis of the benchmark's own: the figures are the server-wide `INFO commandstats` time (and
`INFO cpu`) over the calls. Compares `RedisCounters.count` (the `read` policy with a token's two
revocation keys, as an authenticated GET makes it) with the `MGET` of those keys alone.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

from redis.asyncio import Redis

from sinpluma_async.ratelimits.counting import Hit
from sinpluma_async.ratelimits.policies import Policy, Rate
from sinpluma_async.ratelimits.shared import RedisCounters
from sinpluma_async.security.tokens import Claims

READ = Policy("read", Rate(100_000_000, 60))


async def redis_time(redis: Redis) -> tuple[int, float]:
    """Microseconds Redis spent in commands, and its process CPU seconds, so far."""
    stats: dict[str, Any] = await redis.info("commandstats")
    cpu: dict[str, Any] = await redis.info("cpu")
    spent = sum(int(value["usec"]) for key, value in stats.items() if key.startswith("cmdstat_"))
    return spent, float(cpu["used_cpu_user"]) + float(cpu["used_cpu_sys"])


async def measure(redis: Redis, name: str, call: Callable[[], Awaitable[object]], calls: int) -> None:
    for _ in range(200):
        await call()
    spent, cpu = await redis_time(redis)
    client = time.process_time()
    for _ in range(calls):
        await call()
    client = time.process_time() - client
    spent_after, cpu_after = await redis_time(redis)
    print(
        f"{name:22s} redis {(spent_after - spent) / calls:6.2f} us in commands, "
        f"{(cpu_after - cpu) / calls * 1e6:6.2f} us of CPU; client {client / calls * 1e6:6.1f} us of CPU"
    )


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20_000)
    args = parser.parse_args()
    redis = Redis.from_url(os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"))
    prefix = f"sinpluma-bench-{secrets.token_hex(4)}:"
    guards = [f"{prefix}revoked:jti:x", f"{prefix}revoked:sid:y"]
    counters = RedisCounters(redis, prefix, revocation_keys=lambda claims: guards)
    now = int(time.time())
    token = Claims(user_id=7, jti="x", sid="y", type="access", issued_at=now, expires_at=now + 900)
    try:
        for _ in range(2):
            await measure(redis, "revocation MGET", lambda: redis.mget(guards), args.calls)
            await measure(
                redis,
                "count with the token",
                lambda: counters.count([Hit(READ, "user:7")], token=token),
                args.calls,
            )
    finally:
        keys = [key async for key in redis.scan_iter(f"{prefix}*")]
        if keys:
            await redis.delete(*keys)
        await redis.aclose()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
