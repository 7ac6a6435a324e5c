"""The text /metrics answers: this process's series, or the sum over every worker's files."""

from __future__ import annotations

import contextlib
import logging
import os
import re
from pathlib import Path

from prometheus_client import REGISTRY, CollectorRegistry, generate_latest, multiprocess

log = logging.getLogger(__name__)
# prometheus-client names each worker's files `<kind>_<pid>.db` (gauge_livesum_1234.db, ...).
WORKER_FILE = re.compile(r"_(\d+)\.db$")


def exposition(metrics_dir: Path | None) -> bytes:
    """Prometheus text: summed over the workers that share `metrics_dir`, or this process's own.

    It reads every worker's files: the route runs it on a thread, off the event loop.
    """
    if metrics_dir is None:
        return generate_latest(REGISTRY)
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=str(metrics_dir))  # type: ignore[no-untyped-call]
    return generate_latest(registry)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def forget_dead_workers(metrics_dir: Path) -> list[int]:
    """Drop the live gauges of workers that have died (Hypercorn replaces a worker that dies).

    Their counters and histograms stay, so that totals never go backwards; the directory itself
    is emptied when the server starts (`sinpluma serve`), so it holds one run's workers only.
    """
    dead = set()
    for path in metrics_dir.glob("*.db"):
        match = WORKER_FILE.search(path.name)
        if match and not alive(int(match[1])):
            dead.add(int(match[1]))
    for pid in sorted(dead):
        with contextlib.suppress(FileNotFoundError):
            multiprocess.mark_process_dead(pid, str(metrics_dir))  # type: ignore[no-untyped-call]
    if dead:
        log.info("Forgot the live gauges of %d dead workers", len(dead))
    return sorted(dead)
