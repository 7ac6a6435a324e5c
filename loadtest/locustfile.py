"""What locust loads: the three user kinds, the suite's options, and the verdict at the end.

  .venv/bin/python -m locust -f loadtest/locustfile.py --host http://127.0.0.1:8000 \
      --fixtures var/loadtest/fixtures.json --mix reader=6,writer=2,editor=2

`make loadtest` (loadtest/__main__.py) makes the fixtures first and runs this headless.
"""

from __future__ import annotations

import json
import logging
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from locust import events
from locust.env import Environment
from locust.runners import WorkerRunner

from loadtest.budgets import judge
from loadtest.editors import Editor
from loadtest.options import add_options, parse_mix
from loadtest.readers import Reader
from loadtest.writers import Writer

__all__ = ["Editor", "Reader", "Writer"]
KINDS = {"reader": Reader, "writer": Writer, "editor": Editor}
logger = logging.getLogger("loadtest")


@events.init_command_line_parser.add_listener
def on_parser(parser: Any) -> None:
    add_options(parser)


@events.init.add_listener
def on_init(environment: Environment, **_: Any) -> None:
    """MIX decides the weights; a kind it leaves out runs no users."""
    weights = parse_mix(environment.parsed_options.mix)
    unknown = set(weights) - set(KINDS)
    if unknown:
        raise SystemExit(f"--mix names unknown kinds: {sorted(unknown)}; known: {sorted(KINDS)}")
    chosen = [user for kind, user in KINDS.items() if weights.get(kind, 0) > 0]
    for kind, user in KINDS.items():
        user.weight = weights.get(kind, 0)
    environment.user_classes = chosen


@events.quitting.add_listener
def on_quitting(environment: Environment, **_: Any) -> None:
    """Exit non-zero when a request failed or a percentile went over its budget; the percentiles
    go beside the CSV files as <prefix>_budget.json."""
    if isinstance(environment.runner, WorkerRunner):
        return
    verdict = judge(environment)
    figures = ", ".join(f"{name} {ms:.0f} ms" for name, ms in verdict.measured.items())
    lines = [f"FAILED: {breach}" for breach in verdict.breaches] or [f"HELD: no failures; {figures}"]
    for line in lines:
        logger.info("%s", line)
        print(line, file=sys.stderr, flush=True)
    if prefix := environment.parsed_options.csv_prefix:
        Path(f"{prefix}_budget.json").write_text(json.dumps(asdict(verdict), indent=1))
    if verdict.breaches:
        environment.process_exit_code = 1
