"""The suite's own command-line options, and what each process of a run reads from them."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from locust.env import Environment

DEFAULT_MIX = "reader=6,writer=2,editor=2"
DEFAULT_BUDGET = "rest.p99=250,ack.p99=250"


def add_options(parser: Any) -> None:
    """Registered on locust's parser (init_command_line_parser), so workers receive them too."""
    group = parser.add_argument_group("sinpluma")
    group.add_argument("--fixtures", default="var/loadtest/fixtures.json", help="made by python -m loadtest")
    group.add_argument("--mix", default=DEFAULT_MIX, help="weights of the user kinds, e.g. reader=1,editor=1")
    group.add_argument(
        "--budget", default=DEFAULT_BUDGET, help="percentile budgets in ms: rest.p99=250,ack.p95=100,..."
    )
    group.add_argument(
        "--token-renewal", type=float, default=720.0, help="seconds before a writer renews its tokens"
    )


@cache
def _fixtures(path: str) -> dict[str, Any]:
    fixtures: dict[str, Any] = json.loads(Path(path).read_text())
    return fixtures


def fixtures_of(environment: Environment) -> dict[str, Any]:
    """The accounts and published notebooks made before the run (loadtest/fixtures.py)."""
    return _fixtures(environment.parsed_options.fixtures)


def parse_mix(mix: str) -> dict[str, int]:
    """`reader=6,writer=2,editor=2` as weights by kind; a kind left out gets no users."""
    weights: dict[str, int] = {}
    for part in filter(None, (item.strip() for item in mix.split(","))):
        kind, _, weight = part.partition("=")
        weights[kind.strip().lower()] = int(weight)
    return weights


def parse_budget(budget: str) -> dict[tuple[str, float], float]:
    """`rest.p99=250,ack.p95=100` as {(kind, 0.99): 250.0, (kind, 0.95): 100.0}."""
    limits: dict[tuple[str, float], float] = {}
    for part in filter(None, (item.strip() for item in budget.split(","))):
        name, _, milliseconds = part.partition("=")
        kind, _, percentile = name.strip().partition(".p")
        if kind not in ("rest", "ack") or not percentile:
            raise ValueError(f"budget {part!r}: expected rest.pNN=ms or ack.pNN=ms")
        limits[kind, float(f"0.{percentile}")] = float(milliseconds)
    return limits
