"""`make loadtest`: make the fixtures, run locust headless, keep its report, say whether the run held.

  .venv/bin/python -m loadtest [--users 50] [--spawn-rate 10] [--duration 60s] [--mix ...]
                               [--host URL] [--processes N] [--budget rest.p99=250,ack.p99=250]

Without --host it serves the service itself: MariaDB + Redis, two Hypercorn workers, rate limits
off. CSV, the full history, the HTML report, locust's log and summary.json go to --out.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from bench.servers import process_stats
from loadtest.fixtures import build, prepare
from loadtest.options import DEFAULT_BUDGET, DEFAULT_MIX

ROOT = Path(__file__).resolve().parent.parent
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
SAMPLE_SECONDS = 0.2


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m loadtest", description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--spawn-rate", type=float, default=10)
    parser.add_argument("--duration", default="60s", help="locust's --run-time: 90s, 5m, 1h")
    parser.add_argument("--mix", default=DEFAULT_MIX)
    parser.add_argument("--host", default="", help="a deployment to load; empty: a local server")
    parser.add_argument("--processes", type=int, default=0, help="locust worker processes (distributed)")
    parser.add_argument("--budget", default=DEFAULT_BUDGET)
    parser.add_argument("--authors", type=int, default=10, help="authors of published notebooks to read")
    parser.add_argument("--token-renewal", type=float, default=720.0)
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "loadtest")
    parser.add_argument(
        "--prepare-only", action="store_true", help="with --host: make the fixtures, run nothing"
    )
    return parser.parse_args(argv)


def locust_command(args: argparse.Namespace, host: str, fixtures: Path) -> list[str]:
    out = args.out
    command = [
        sys.executable, "-m", "locust", "-f", str(ROOT / "loadtest" / "locustfile.py"),
        "--headless", "--host", host, "--users", str(args.users), "--spawn-rate", str(args.spawn_rate),
        "--run-time", args.duration, "--stop-timeout", "5", "--only-summary",
        "--csv", str(out / "run"), "--csv-full-history", "--html", str(out / "report.html"),
        "--logfile", str(out / "locust.log"), "--fixtures", str(fixtures), "--mix", args.mix,
        "--budget", args.budget, "--token-renewal", str(args.token_renewal),
    ]  # fmt: skip
    if args.processes:
        command += ["--processes", str(args.processes)]
    return command


def run_locust(command: list[str]) -> tuple[int, float]:
    """Locust's exit code and the CPU seconds used by it and by its worker processes, which may
    outlive it for a moment: all of them are in its session, sampled until the last has gone."""
    locust = subprocess.Popen(command, cwd=ROOT, start_new_session=True)
    cpu_by_process: dict[int, float] = {}
    while True:
        members = {
            pid: (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
            for pid, fields in process_stats()
            if int(fields[3]) == locust.pid and fields[0] != "Z"
        }
        cpu_by_process |= members
        if locust.poll() is not None and not members:
            return locust.returncode, sum(cpu_by_process.values())
        try:
            time.sleep(SAMPLE_SECONDS)
        except KeyboardInterrupt:  # its own session hears no Ctrl-C: pass it on, as the terminal would
            locust.send_signal(signal.SIGINT)


def against_host(args: argparse.Namespace) -> dict[str, Any]:
    host = args.host.rstrip("/")
    print(f"Loading {host}; its own rate limits apply.", flush=True)
    fixtures = args.out / "fixtures.json"
    prepare(host, args.users, args.authors, fixtures)
    if args.prepare_only:
        print(f"Fixtures for {args.users} users: {fixtures}", flush=True)
        return {"host": host, "exit_code": 0}
    code, locust_cpu = run_locust(locust_command(args, host, fixtures))
    return {"host": host, "exit_code": code, "locust_cpu_s": round(locust_cpu, 1)}


def against_local_service(args: argparse.Namespace) -> dict[str, Any]:
    from loadtest.local_service import local_service

    with ExitStack() as stack:
        service = stack.enter_context(local_service())
        print(
            f"Serving on {service.url}: MariaDB + Redis, two Hypercorn workers, bcrypt at 4 rounds,"
            " rate limits OFF (SINPLUMA_RATE_LIMITS=off).",
            flush=True,
        )
        fixtures = args.out / "fixtures-local.json"
        fixtures.write_text(json.dumps(asyncio.run(build(service.url, args.users, args.authors)), indent=1))
        stack.callback(fixtures.unlink, missing_ok=True)
        before, started = service.cpu(), time.monotonic()
        code, locust_cpu = run_locust(locust_command(args, service.url, fixtures))
        used = {name: round(seconds - before[name], 1) for name, seconds in service.cpu().items()}
        used["window_s"] = round(time.monotonic() - started, 1)
    return {"host": "local", "exit_code": code, "locust_cpu_s": round(locust_cpu, 1), **used}


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for previous in ("locust.log", "run_budget.json"):
        (args.out / previous).unlink(missing_ok=True)
    run = against_host(args) if args.host else against_local_service(args)
    summary = {"users": args.users, "mix": args.mix, "duration": args.duration, **run}
    verdict = args.out / "run_budget.json"
    if verdict.exists():
        summary |= json.loads(verdict.read_text())
    (args.out / "summary.json").write_text(json.dumps(summary, indent=1))
    print(f"Report: {args.out / 'report.html'}, CSV: {args.out}/run_*.csv", flush=True)
    print(json.dumps(summary), flush=True)
    return int(run["exit_code"])


if __name__ == "__main__":
    sys.exit(main())
