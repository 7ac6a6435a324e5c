"""The service beside a bare Quart route on the same Hypercorn: req/s, latency and CPU per request.

Run (the machine-wide lock held, as every benchmark here):
  flock /tmp/sinpluma-bench.lock .venv/bin/python bench/side_by_side.py \
      [--rounds 2] [--seconds 15] [--editors 200,500] [--before ../before [--after ../after]]
      [--profile var/profiles] [--only read,save]

Each round starts, one after another, the bare route (bench/bare_app.py) and the service on a fresh
MariaDB database + Redis, both `hypercorn --config hypercorn.toml --workers 2` (uvloop), and runs:
`bare` (GET of a fixed 20 KB JSON body, 64 connections); `floor` (only if `--only` names it: the
same bytes after one Redis and one MariaDB round trip, bench/bare_app.py; `floor-save`, a
save's: the same 20 KB PUT parsed, one Redis and one MariaDB round trip); `read` (an
authenticated reader's GET /pages/<id> of 20 published 20 KB pages, 64 connections); `save`
(unconditional 20 KB PUT /pages/<id> to 20 pages of one notebook, 64 connections); `editors-N`
(N editors, each PUTting its own page of its own notebook every 2 s, starts spread); `contended`
(50 editors on 50 pages of one notebook). `--before` serves a second checkout's package too,
alternating it with this one (or `--after`) round by round: checkouts at fixed commits keep edits
out of a sitting. The load comes from bench/load_client.py (aiohttp, its own process); every line
reports req/s, p50, p99, failures and CPU ms per request of the server (and the kernel's share of
it), mariadbd, redis-server and the load generator. `--profile` also samples the server's workers
with py-spy during each scenario (its CPU then counts too) and prints their top frames
(bench/profile_top.py).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from harness import PYTHON, cpu_now, running_server
from profile_top import sampled
from seeding import PageSet, page_document, seed_pages
from servers import HOST, PROJECT_ROOT, ServerProcess, free_port

BENCH = Path(__file__).resolve().parent
CONNECTIONS = 64
CONTENDED_EDITORS = 50
READ_PAGES = 20


def bare_server(body: bytes, workers: int = 2) -> ServerProcess:
    port = free_port()
    command = [PYTHON, "-m", "hypercorn", "--config", str(PROJECT_ROOT / "hypercorn.toml")]
    command += ["--bind", f"{HOST}:{port}", "--workers", str(workers), "--access-logfile=", "bare_app:app"]
    environment = {**os.environ, "PYTHONPATH": str(BENCH), "BARE_BODY": body.decode()}
    return ServerProcess(command, port=port, environment=environment, health_path="/healthz")


def load(spec: dict[str, Any], server_pid: int, profile: Path | None) -> dict[str, Any]:
    """Run bench/load_client.py with `spec`; its figures with the CPU each process spent per request."""
    with tempfile.NamedTemporaryFile("w", suffix=".json") as file:
        json.dump(spec, file)
        file.flush()
        client = subprocess.Popen([PYTHON, str(BENCH / "load_client.py"), file.name], stdout=subprocess.PIPE)
        assert client.stdout is not None
        if client.stdout.readline().strip() != b"measuring":
            raise RuntimeError(f"load client failed: {client.wait()}")
        before = cpu_now(server_pid)
        with sampled(server_pid, spec["seconds"], profile) as top:
            result = json.loads(client.stdout.readline())
        spent = {name: value - before[name] for name, value in cpu_now(server_pid).items()}
        client.wait()
    served = max(1, result["requests"])
    result |= {
        f"{name}_cpu_ms": round(1000 * spent[name] / served, 2)
        for name in ("server", "server_system", "mariadb", "redis")
    }
    result["client_cpu_ms"] = round(1000 * result.pop("client_cpu_s") / served, 2)
    result["machine_cpu_s"] = round(spent["machine"], 1)
    if top:
        result["top_frames"] = top
    return result


def scenarios(url: str, pages: PageSet, args: argparse.Namespace) -> Iterator[tuple[str, dict[str, Any]]]:
    base = {"url": url, "seconds": args.seconds, "warmup": args.warmup, "body": None}
    reader = {"Authorization": f"Bearer {pages.reader_token}"}
    writer = {"Authorization": f"Bearer {pages.writer_token}", "Content-Type": "application/json"}
    read_paths = [f"/pages/{page_id}" for page_id in pages.published]
    yield "read", base | {"method": "GET", "paths": read_paths, "headers": reader, "connections": CONNECTIONS}
    put = base | {"method": "PUT", "headers": writer, "body": pages.save_body}
    yield "save", put | {"paths": read_paths, "connections": CONNECTIONS}
    for editors in args.editors:
        paths = [f"/pages/{page_id}" for page_id in pages.own_notebook]
        yield f"editors-{editors}", put | {"paths": paths, "editors": editors, "period": 2.0}
    paths = [f"/pages/{page_id}" for page_id in pages.one_notebook]
    yield "contended", put | {"paths": paths, "editors": CONTENDED_EDITORS, "period": 2.0}


def run_service(label: str, source: Path, args: argparse.Namespace, report: Callable[..., None]) -> None:
    env = {"SINPLUMA_BCRYPT_ROUNDS": "4"}
    with running_server("mariadb", workers=2, env=env, source=source) as server:
        assert server.database is not None
        pages = seed_pages(server.url, server.database, READ_PAGES, max(args.editors), CONTENDED_EDITORS)
        for scenario, spec in scenarios(server.url, pages, args):
            if args.only is not None and scenario not in args.only:
                continue
            figures = load(spec, server.process.pid, profile_dir(args, label, scenario))
            report(label, scenario, figures)
            if "500" in figures["failure_kinds"]:  # what the server said about them
                print(
                    f"--- {label} {scenario}: server log (tail) ---\n{server.live.log()[-6000:]}",
                    file=sys.stderr,
                )


def run_bare(args: argparse.Namespace, report: Callable[..., None]) -> None:
    """`bare` always (every ratio is against it); `floor` and `floor-save` when `--only` names them."""
    body = json.dumps({"page_id": 1, "content": page_document()}).encode()
    with bare_server(body) as server:
        spec = {"url": server.url, "seconds": args.seconds, "warmup": args.warmup, "body": None}
        spec |= {"method": "GET", "paths": ["/bare"], "headers": {}, "connections": CONNECTIONS}
        save = {"method": "PUT", "paths": ["/floor"], "body": json.dumps({"content": page_document()})}
        save["headers"] = {"Content-Type": "application/json"}
        for scenario, changes in (("bare", {}), ("floor", {"paths": ["/floor"]}), ("floor-save", save)):
            if scenario == "bare" or (args.only is not None and scenario in args.only):
                figures = load(spec | changes, server.process.pid, profile_dir(args, "bare", scenario))
                report("bare", scenario, figures)


def profile_dir(args: argparse.Namespace, label: str, scenario: str) -> Path | None:
    return None if args.profile is None else args.profile / f"{label}-{scenario}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--warmup", type=float, default=4.0)
    parser.add_argument("--editors", type=lambda text: [int(n) for n in text.split(",")], default=[200, 500])
    parser.add_argument("--before", type=Path, help="a checkout of the code before, served alternately")
    parser.add_argument("--after", type=Path, default=PROJECT_ROOT, help="the code after (this checkout)")
    parser.add_argument("--profile", type=Path, help="py-spy the workers; raw samples go here")
    parser.add_argument("--only", type=lambda text: set(text.split(",")), help="these scenarios alone")
    args = parser.parse_args()
    services = [("after" if args.before else "service", args.after.resolve())]
    if args.before is not None:
        services.append(("before", args.before.resolve()))

    def report(label: str, scenario: str, figures: dict[str, Any]) -> None:
        print(json.dumps({"round": round_number, "code": label, "scenario": scenario, **figures}), flush=True)

    for round_number in range(1, args.rounds + 1):
        run_bare(args, report)
        order = services if round_number % 2 else services[::-1]
        for label, source in order:
            run_service(label, source, args, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
