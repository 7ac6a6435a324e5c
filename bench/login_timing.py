"""Login latency for a known and an unknown username (wrong password), unlocked and locked.

Run: .venv/bin/python bench/login_timing.py --backend sqlite|mariadb [--attempts N] [--bcrypt-rounds R]
     [--json]

A real Hypercorn server with the production bcrypt cost (12 unless told) and the default `login`
policy (5 failures per account and address per 10 minutes); `login-account` and `login-client`
are raised so that only `login` locks. The server trusts 127.0.0.1 as a proxy, so each unlocked
attempt comes from a fresh `X-Forwarded-For` address (never locked), and the locked ones from one
address whose five failures were spent first. Known and unknown attempts alternate, so that drift
on the machine weighs on both alike.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import statistics
import sys
import time
from collections.abc import Mapping
from typing import Any

import httpx
from harness import BENCH_RATE_LIMITS, expect, latency_summary, running_server

WARMUP = 3
LOCK_AFTER = 5
CASES = ("known_unlocked", "unknown_unlocked", "known_locked", "unknown_locked")


def server_environment(rounds: int) -> dict[str, str]:
    limits = ",".join(item for item in BENCH_RATE_LIMITS.split(",") if not item.startswith("login="))
    return {
        "SINPLUMA_RATE_LIMITS": limits,  # `login` keeps its default
        "SINPLUMA_TRUSTED_PROXIES": "127.0.0.1",
        "SINPLUMA_BCRYPT_ROUNDS": str(rounds),
    }


class Prober:
    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.addresses = (f"198.18.{n // 250}.{n % 250 + 1}" for n in range(10**6))

    async def attempt(self, username: str, address: str, status: int) -> tuple[float, httpx.Response]:
        body = {"username": username, "password": "not the password"}
        headers = {"X-Forwarded-For": address}
        start = time.perf_counter()
        response = await self.client.post("/user/login", json=body, headers=headers)
        elapsed = (time.perf_counter() - start) * 1000
        expect(response, status)
        return elapsed, response

    async def alternate(
        self, names: Mapping[str, str], attempts: int, *, locked_at: str | None
    ) -> dict[str, list[float]]:
        """`attempts` tries of each name in turn: from fresh addresses, or from the locked one."""
        latencies: dict[str, list[float]] = {case: [] for case in names}
        for _ in range(attempts):
            for case, username in names.items():
                address = locked_at or next(self.addresses)
                elapsed, _ = await self.attempt(username, address, 429 if locked_at else 401)
                latencies[case].append(elapsed)
        return latencies


async def measure(url: str, args: argparse.Namespace) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        known = f"bench_{secrets.token_hex(6)}"
        unknown = f"nobody_{secrets.token_hex(6)}"
        body = {"username": known, "email": f"{known}@example.com", "password": secrets.token_urlsafe(18)}
        expect(await client.post("/user/register", json=body), 201)
        prober = Prober(client)
        await prober.alternate({"known": known, "unknown": unknown}, WARMUP, locked_at=None)
        unlocked = await prober.alternate(
            {"known_unlocked": known, "unknown_unlocked": unknown}, args.attempts, locked_at=None
        )
        locked_address = next(prober.addresses)
        for username in (known, unknown):
            for _ in range(LOCK_AFTER):
                await prober.attempt(username, locked_address, 401)
        _, known_refusal = await prober.attempt(known, locked_address, 429)
        _, unknown_refusal = await prober.attempt(unknown, locked_address, 429)
        if known_refusal.content != unknown_refusal.content:
            raise RuntimeError("a locked known and unknown username got different bodies")
        locked = await prober.alternate(
            {"known_locked": known, "unknown_locked": unknown}, args.attempts, locked_at=locked_address
        )
    latencies = unlocked | locked
    result: dict[str, Any] = {
        "backend": args.backend,
        "attempts": args.attempts,
        "bcrypt_rounds": args.rounds,
    }
    for case in CASES:
        result[case] = latency_summary(latencies[case])
    for state in ("unlocked", "locked"):
        known_mean = statistics.fmean(latencies[f"known_{state}"])
        result[f"{state}_unknown_minus_known_mean_ms"] = (
            statistics.fmean(latencies[f"unknown_{state}"]) - known_mean
        )
    return result


def summary(result: Mapping[str, Any]) -> str:
    lines = [
        f"backend={result['backend']} attempts={result['attempts']} bcrypt_rounds={result['bcrypt_rounds']}"
    ]
    for case in CASES:
        figures = result[case]
        lines.append(
            f"{case:17} p50 {figures['p50_ms']:8.3f}  p90 {figures['p90_ms']:8.3f}"
            f"  p99 {figures['p99_ms']:8.3f}  mean {figures['mean_ms']:8.3f} ms"
        )
    for state in ("unlocked", "locked"):
        lines.append(
            f"{state}: unknown - known mean = {result[f'{state}_unknown_minus_known_mean_ms']:+.3f} ms"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(
        description="Login latency: known vs unknown username, unlocked vs locked."
    )
    parser.add_argument("--backend", choices=("sqlite", "mariadb"), required=True)
    parser.add_argument("--attempts", type=int, default=200, help="per case")
    parser.add_argument("--bcrypt-rounds", dest="rounds", type=int, default=12)
    parser.add_argument("--json", action="store_true", help="also print the result as one JSON line")
    args = parser.parse_args()
    if args.attempts < 2:
        parser.error("need --attempts >= 2")
    with running_server(args.backend, env=server_environment(args.rounds)) as server:
        result = asyncio.run(measure(server.url, args))
    print(summary(result))
    if args.json:
        print(json.dumps(result, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
