"""The load test itself, in small: `python -m loadtest` against a live server on each backend.

Locust runs in its own process (it patches the standard library with gevent, which this process's
asyncio must not meet), and what it measured is read back from its CSV files.
"""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest

from bench.servers import PROJECT_ROOT
from tests.browser import chromium_page
from tests.live import LiveServer, settings_environment
from tests.support import RELAXED_RATE_LIMITS

USERS_PER_KIND = 10
SECONDS = 10
READER_REQUESTS = ("/notebooks/?scope=public", "/notebooks/[id]", "/pages/[id] (reader)", "/search")
WRITER_REQUESTS = ("/user/login", "/notebooks/", "/pages/", "/pages/[id]", "/user/token/refresh")
EDITOR_REQUESTS = ("connect + auth", "save → ack", "auth renewal")
# The report is a React page, rendered after its load event.
REPORT_SHOWN = (
    "document.body.innerText.includes('Request Statistics')"
    " && document.querySelectorAll('canvas').length >= 3"
)
REPORT = "({text: document.body.innerText, charts: document.querySelectorAll('canvas').length})"


@pytest.fixture
def live(backend):
    """The service on the test's backend: two workers on MariaDB + Redis, one on SQLite."""
    environment = settings_environment(backend.settings, SINPLUMA_RATE_LIMITS=RELAXED_RATE_LIMITS)
    with LiveServer(environment, workers=2 if backend.name == "mariadb" else 1) as server:
        yield server


@pytest.fixture
def short_run(live, tmp_path: Path) -> tuple[subprocess.CompletedProcess[str], dict[str, dict[str, str]]]:
    """10 users of each kind for 10 s, tokens renewed every 3 s; the run and its rows by name."""
    command = [
        sys.executable, "-m", "loadtest", "--host", live.url, "--out", str(tmp_path),
        "--users", str(3 * USERS_PER_KIND), "--spawn-rate", str(3 * USERS_PER_KIND),
        "--duration", f"{SECONDS}s", "--mix", "reader=1,writer=1,editor=1",
        "--token-renewal", "3", "--budget", "", "--authors", "3",
    ]  # fmt: skip
    run = subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=180, check=False)
    with (tmp_path / "run_stats.csv").open() as stats:
        rows = {row["Name"]: row for row in csv.DictReader(stats)}
    return run, rows


def test_a_short_mixed_run_holds_measures_every_kind_and_its_report_opens(short_run, tmp_path):
    run, rows = short_run
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert rows["Aggregated"]["Failure Count"] == "0", rows["Aggregated"]
    assert (tmp_path / "run_exceptions.csv").read_text().count("\n") <= 1
    for name in (*READER_REQUESTS, *WRITER_REQUESTS, *EDITOR_REQUESTS):
        assert name in rows and int(rows[name]["Request Count"]) > 0, (name, run.stdout[-6000:])
    assert (tmp_path / "run_stats_history.csv").read_text().count("\n") > SECONDS // 2
    with chromium_page((tmp_path / "report.html").as_uri()) as page:
        shown = page.evaluate_when(REPORT_SHOWN, REPORT)
    text, charts = shown["text"], shown["charts"]
    assert "Locust Test Report" in text and "Request Statistics" in text
    assert "save → ack" in text and "/pages/[id] (reader)" in text
    assert charts == 3
