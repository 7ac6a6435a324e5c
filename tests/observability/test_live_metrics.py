"""/metrics of live Hypercorn processes sharing one PROMETHEUS_MULTIPROC_DIR: the sum of them all."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from sinpluma_async.config import Settings
from tests.live import LiveServer, settings_environment
from tests.observability.metrics_support import parse_exposition, value

# A worker that died holding three sockets open, as its files say.
DEAD_WORKER = """
from prometheus_client import Gauge
Gauge("sinpluma_websocket_connections", "", multiprocess_mode="livesum").inc(3)
"""


@pytest.fixture
def metrics_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "metrics"
    directory.mkdir()
    return directory


@pytest.fixture
def two_processes(settings: Settings, app, metrics_dir: Path) -> Iterator[tuple[LiveServer, LiveServer]]:
    """Two processes of one service writing their series to the same directory, as Hypercorn's
    workers do, after a worker that died left its files there."""
    subprocess.run(
        [sys.executable, "-c", DEAD_WORKER],
        env={"PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)},
        check=True,
    )
    environment = settings_environment(settings, PROMETHEUS_MULTIPROC_DIR=str(metrics_dir))
    with LiveServer(environment) as first, LiveServer(environment) as second:
        yield first, second


def healthz_count(server: LiveServer) -> float:
    response = httpx.get(f"{server.url}/metrics")
    assert response.status_code == 200, response.text
    families = parse_exposition(response.text)
    # A labelled counter shows once it has counted something: no 429 or 503 has happened yet.
    assert set(families) >= {"sinpluma_http_requests", "sinpluma_autosave_acks", "sinpluma_bcrypt_queue"}
    return value(families, "sinpluma_http_requests_total", route="/healthz", status="200")


def test_counts_from_two_processes_add_up(two_processes, metrics_dir):
    first, second = two_processes
    before = healthz_count(first)
    for server, calls in ((first, 3), (second, 4)):
        for _ in range(calls):
            assert httpx.get(f"{server.url}/healthz").status_code == 200
    assert healthz_count(first) - before == 7
    assert healthz_count(second) == healthz_count(first)
    workers = {path.name.rsplit("_", 1)[1] for path in metrics_dir.glob("counter_*.db")}
    assert len(workers) == 2


def test_a_dead_workers_open_sockets_are_forgotten(two_processes, metrics_dir):
    first, _ = two_processes
    families = parse_exposition(httpx.get(f"{first.url}/metrics").text)
    assert value(families, "sinpluma_websocket_connections") == 0
    assert len(list(metrics_dir.glob("gauge_livesum_*.db"))) == 2
