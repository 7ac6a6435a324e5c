"""deploy/nginx.conf: `nginx -t` accepts it, and a live Hypercorn answers through a real nginx on
loopback (REST, an upload, the autosave socket), with the file changed only where a container's
addresses become loopback ones. Debian's `nginx` package; `.ci/run` installs it."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect

from sinpluma_async.config import Settings
from tests.images.support import padded, picture
from tests.live import LiveServer, free_port, settings_environment
from tests.support import create_notebook, create_page, slate, unavailable, wait_until

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "deploy" / "nginx.conf"
TIMEOUT = 10
# What the file says for a container, and what it becomes on loopback.
CONTAINER_ONLY = {
    "/tmp/": "{prefix}/",
    "listen 8080;": "listen 127.0.0.1:{port};",
    "http://api:8000": "http://{upstream}",
}


def nginx_or_skip() -> str:
    binary = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/sbin")
    if binary is None:
        unavailable("nginx is not installed (apt-get install nginx)")
    return binary


def loopback_config(prefix: Path, *, port: int, upstream: str) -> Path:
    """deploy/nginx.conf, in the foreground, with its paths under `prefix` and loopback addresses.

    Run by root, nginx's workers would switch to `nobody`, who cannot enter the test's directory.
    """
    text = CONFIG.read_text()
    for container, loopback in CONTAINER_ONLY.items():
        assert container in text, container
        text = text.replace(container, loopback.format(prefix=prefix, port=port, upstream=upstream))
    user = "user root;\n" if os.geteuid() == 0 else ""
    path = prefix / "nginx.conf"
    path.write_text(f"daemon off;\n{user}{text}")
    return path


def test_nginx_accepts_the_configuration(tmp_path: Path) -> None:
    config = loopback_config(tmp_path, port=free_port(), upstream="127.0.0.1:8000")
    result = subprocess.run(
        [nginx_or_skip(), "-t", "-p", str(tmp_path), "-c", str(config)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def accepts_connections(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


@contextmanager
def nginx_in_front_of(server: LiveServer, prefix: Path) -> Iterator[str]:
    """A real nginx on a free loopback port passing /api/ to `server`; its base URL."""
    port = free_port()
    config = loopback_config(prefix, port=port, upstream=f"127.0.0.1:{server.port}")
    process = subprocess.Popen(
        [nginx_or_skip(), "-p", str(prefix), "-c", str(config)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:

        async def listening() -> bool:
            assert process.poll() is None, "nginx exited"
            return accepts_connections(port)

        asyncio.run(wait_until(listening))
        yield f"http://127.0.0.1:{port}/api"
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(TIMEOUT)


@pytest.fixture
def proxied(settings: Settings, app, tmp_path: Path) -> Iterator[str]:
    environment = settings_environment(settings, SINPLUMA_TRUSTED_PROXIES="127.0.0.1")
    with LiveServer(environment) as server, nginx_in_front_of(server, tmp_path) as base:
        yield base


async def test_rest_through_nginx_strips_api_and_passes_the_request_id(proxied, writer):
    async with httpx.AsyncClient(base_url=proxied, timeout=TIMEOUT) as http:
        mine = await http.get("/notebooks/", headers={**writer.headers, "X-Request-ID": "via-nginx"})
        made = await http.get("/healthz")
        missing = await http.get("/notebooks/987654321")
    assert mine.status_code == 200 and mine.headers["X-Request-ID"] == "via-nginx"
    assert made.json() == {"status": "ok"} and len(made.headers["X-Request-ID"]) == 32
    assert missing.status_code == 404
    assert missing.json()["request_id"] == missing.headers["X-Request-ID"]


async def test_an_upload_through_nginx_is_stored_and_one_over_the_limit_is_the_services_413(proxied, writer):
    path = f"/user/{writer.username}/image/"
    headers = {**writer.headers, "Content-Type": "image/png"}
    image = picture("PNG", (8, 8))
    async with httpx.AsyncClient(base_url=proxied, timeout=TIMEOUT) as http:
        stored = await http.post(path, headers=headers, content=image)
        assert stored.status_code == 201, stored.text
        assert (await http.get(path)).content == image
        too_large = await http.post(path, headers=headers, content=padded(5 * 1024 * 1024 + 1))
    assert too_large.status_code == 413
    assert too_large.headers["Content-Type"] == "application/problem+json"


async def test_the_autosave_socket_through_nginx_acks_a_save(proxied, client, writer):
    notebook = await create_notebook(client, writer)
    page = await create_page(client, writer, notebook["notebook_id"])
    url = proxied.replace("http://", "ws://") + "/ws/autosave"
    async with connect(url, additional_headers={"X-Request-ID": "socket-via-nginx"}) as editor:
        assert editor.response.headers["X-Request-ID"] == "socket-via-nginx"
        await editor.send(json.dumps({"type": "auth", "token": writer.access_token}))
        assert json.loads(await asyncio.wait_for(editor.recv(), TIMEOUT))["type"] == "ready"
        save = {"type": "save", "page_id": page["page_id"], "client_seq": 1, "content": slate("nginx")}
        await editor.send(json.dumps(save))
        ack = json.loads(await asyncio.wait_for(editor.recv(), TIMEOUT))
    assert ack["type"] == "ack" and ack["client_seq"] == 1 and ack["version"] >= 1
