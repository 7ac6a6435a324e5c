"""Whether a run held: no failed request or user error, and every percentile within its budget."""

from __future__ import annotations

from dataclasses import dataclass, field

from locust.env import Environment
from locust.stats import StatsEntry

from loadtest.editors import SOCKET
from loadtest.options import parse_budget

ACK = "save → ack"


@dataclass
class Verdict:
    """Each budgeted percentile as measured (`rest.p99` -> ms), and what made the run fail."""

    measured: dict[str, float] = field(default_factory=dict)
    breaches: list[str] = field(default_factory=list)


def combined(environment: Environment, kind: str) -> StatsEntry:
    """Every REST request together (`rest`), or every save's ack (`ack`)."""
    total = StatsEntry(environment.stats, kind, "", use_response_times_cache=False)
    for entry in environment.stats.entries.values():
        is_ack = entry.method == SOCKET and entry.name == ACK
        if (kind == "ack" and is_ack) or (kind == "rest" and entry.method != SOCKET):
            total.extend(entry)
    return total


def judge(environment: Environment) -> Verdict:
    verdict = Verdict()
    failures = environment.stats.total.num_failures
    if failures:
        verdict.breaches.append(f"{failures} requests failed")
    errors = sum(error["count"] for error in getattr(environment.runner, "exceptions", {}).values())
    if errors:
        verdict.breaches.append(f"{errors} user errors")
    for (kind, percentile), limit in parse_budget(environment.parsed_options.budget).items():
        entry = combined(environment, kind)
        name = f"{kind}.p{percentile * 100:g}"
        if entry.num_requests == 0:
            verdict.breaches.append(f"no {kind} requests were made")
            continue
        verdict.measured[name] = measured = entry.get_response_time_percentile(percentile)
        if measured > limit:
            verdict.breaches.append(f"{name} is {measured:.0f} ms, over its {limit:g} ms budget")
    return verdict
