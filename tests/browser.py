"""Headless Chromium for the tests, driven over the DevTools protocol: open a page, run a script.

Debian's `chromium` package (`.ci/run` installs it). Tests that need it call `chromium_or_skip`
and skip without it, unless SINPLUMA_REQUIRE_SERVICES=1, which makes that a failure.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from websockets.sync.client import ClientConnection, connect

from bench.servers import process_stats
from tests.support import unavailable

STARTUP_SECONDS = 30
DEVTOOLS_URL = re.compile(rb"DevTools listening on (ws://\S+)")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-default-apps",
    "--disable-sync",
    "--no-first-run",
    "--remote-debugging-address=127.0.0.1",
    "--remote-debugging-port=0",
)


def chromium_or_skip() -> str:
    """The Chromium binary; skips the test without one (fails with SINPLUMA_REQUIRE_SERVICES=1)."""
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if binary is None:
        unavailable("Chromium is not installed (apt-get install chromium)")
    return binary


class Page:
    """One tab, attached through the browser's DevTools connection."""

    def __init__(self, devtools: ClientConnection, ids: Iterator[int], session_id: str) -> None:
        self._devtools = devtools
        self._ids = ids
        self._session_id = session_id

    def call(self, method: str, timeout: float = STARTUP_SECONDS, **params: Any) -> dict[str, Any]:
        return _call(self._devtools, self._ids, method, params, session_id=self._session_id, timeout=timeout)

    def evaluate(self, expression: str, timeout: float = 60) -> Any:
        """The value of a script (a promise is awaited), as JSON."""
        result = self.call(
            "Runtime.evaluate", timeout, expression=expression, awaitPromise=True, returnByValue=True
        )
        if "exceptionDetails" in result:
            raise AssertionError(f"the script failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    def evaluate_when(self, ready: str, expression: str, within: float = 30) -> Any:
        """The value of `expression` once `ready` is true in the page (looked at every 50 ms), or
        after `within` seconds as it is then: for what a page's scripts render after its load."""
        script = (
            "new Promise(done => { const started = Date.now(); const look = () => {"
            f" if (({ready}) || Date.now() - started > {round(within * 1000)}) done({expression});"
            " else setTimeout(look, 50); }; look(); })"
        )
        return self.evaluate(script, timeout=within + STARTUP_SECONDS)


@contextmanager
def chromium_page(url: str) -> Iterator[Page]:
    """A fresh headless Chromium (its own profile, no background traffic) showing `url`."""
    binary = chromium_or_skip()
    with tempfile.TemporaryDirectory(prefix="chromium-") as home:
        profile, scratch = Path(home, "profile"), Path(home, "tmp")
        scratch.mkdir()
        # Chromium keeps its singleton socket in TMPDIR and removes it only on a clean exit; it is
        # killed here, so its TMPDIR is a directory that goes with the profile.
        process = subprocess.Popen(
            [binary, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
            env={**os.environ, "TMPDIR": str(scratch)},
        )
        try:
            with connect(_devtools_url(process), max_size=None, open_timeout=STARTUP_SECONDS) as devtools:
                ids = itertools.count(1)
                target = _call(devtools, ids, "Target.createTarget", {"url": "about:blank"})
                attached = _call(
                    devtools, ids, "Target.attachToTarget", {"targetId": target["targetId"], "flatten": True}
                )
                page = Page(devtools, ids, attached["sessionId"])
                page.call("Page.navigate", url=url)
                page.evaluate(
                    "new Promise(done => document.readyState === 'complete' ? done()"
                    " : addEventListener('load', () => done()))"
                )
                yield page
        finally:
            stop_session(process)


def stop_session(process: subprocess.Popen[bytes]) -> None:
    """Kill Chromium and every process it started (renderers, GPU, utilities), and wait for them.

    Killing the browser alone leaves its children writing into the profile for a moment, and the
    profile's removal then fails on a directory that is not empty yet.
    """
    deadline = time.monotonic() + STARTUP_SECONDS
    while members := [
        pid for pid, fields in process_stats() if int(fields[3]) == process.pid and fields[0] != "Z"
    ]:
        for pid in members:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        if process.poll() is None:
            process.wait()
        if time.monotonic() > deadline:
            raise RuntimeError("Chromium's processes did not exit")
        time.sleep(0.01)
    process.wait()


def _devtools_url(process: subprocess.Popen[bytes]) -> str:
    found: list[str] = []
    ready = threading.Event()

    def read() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            match = DEVTOOLS_URL.search(line)
            if match and not found:
                found.append(match[1].decode())
                ready.set()
        ready.set()

    threading.Thread(target=read, name="chromium-stderr", daemon=True).start()
    if not ready.wait(STARTUP_SECONDS) or not found:
        raise RuntimeError(f"Chromium did not open its DevTools port (exit code {process.poll()})")
    return found[0]


def _call(
    devtools: ClientConnection,
    ids: Iterator[int],
    method: str,
    params: dict[str, Any],
    *,
    session_id: str | None = None,
    timeout: float = STARTUP_SECONDS,
) -> dict[str, Any]:
    message_id = next(ids)
    message: dict[str, Any] = {"id": message_id, "method": method, "params": params}
    if session_id is not None:
        message["sessionId"] = session_id
    devtools.send(json.dumps(message))
    while True:
        answer = json.loads(devtools.recv(timeout=timeout))
        if answer.get("id") != message_id:
            continue  # an event, or the answer to another session's call
        if "error" in answer:
            raise RuntimeError(f"{method} failed: {answer['error']}")
        result: dict[str, Any] = answer["result"]
        return result
