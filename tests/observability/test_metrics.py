"""GET /metrics through the app: the exposition, route templates, and the series that move."""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import replace
from pathlib import Path

import pytest

from sinpluma_async import create_app
from tests.observability.metrics_support import REQUIRED_FAMILIES, scrape, value
from tests.ratelimits.support import limited_app
from tests.support import create_notebook, create_page, problem, settings_without_redis, slate

TIMEOUT = 10


async def test_the_exposition_parses_and_names_every_series(client):
    await client.get("/healthz")
    families = await scrape(client)
    assert set(families) >= REQUIRED_FAMILIES
    assert value(families, "sinpluma_http_requests_total", method="GET", route="/healthz", status="200") >= 1


async def test_requests_are_counted_and_timed_by_route_template(client, writer):
    route = {"method": "GET", "route": "/notebooks/{notebook_id}"}
    before = await scrape(client)
    for _ in range(2):
        await client.get("/notebooks/987654321", headers=writer.headers)
    after = await scrape(client)
    counted = value(after, "sinpluma_http_requests_total", **route, status="404")
    assert counted - value(before, "sinpluma_http_requests_total", **route, status="404") == 2
    timed = value(after, "sinpluma_http_request_duration_seconds_count", **route)
    assert timed - value(before, "sinpluma_http_request_duration_seconds_count", **route) == 2


async def test_route_labels_never_hold_a_raw_path(client, writer):
    await client.get("/notebooks/987654321")
    await client.get(f"/user/{writer.username}")
    await client.get("/a/path/that/matches/nothing/5550123")
    text = await (await client.get("/metrics")).get_data(as_text=True)
    routes = set(re.findall(r'route="([^"]*)"', text))
    assert {"/notebooks/{notebook_id}", "/user/{username}", "unmatched"} <= routes
    assert not [route for route in routes if re.search(r"\d|writer", route)]


async def test_a_429_is_counted_under_its_policy(settings):
    async with limited_app(settings)("read=1/1m") as client:
        before = value(await scrape(client), "sinpluma_rate_limited_total", policy="read")
        statuses = [(await client.get("/genres/")).status_code for _ in range(3)]
        after = value(await scrape(client), "sinpluma_rate_limited_total", policy="read")
    assert statuses == [200, 429, 429]
    assert after - before == 2


async def test_a_503_is_counted_under_its_dependency(tmp_path, sqlite_template):
    app = create_app(settings_without_redis(tmp_path, sqlite_template))
    async with app.test_app():
        client = app.test_client()
        before = value(await scrape(client), "sinpluma_dependency_errors_total", dependency="redis")
        await problem(await client.get("/readyz"), 503, "service_unavailable")
        after = value(await scrape(client), "sinpluma_dependency_errors_total", dependency="redis")
    assert after - before == 1


async def test_the_metrics_token_guards_the_exposition(settings):
    app = create_app(replace(settings, metrics_token="a-long-scrape-token"))
    async with app.test_app():
        client = app.test_client()
        await problem(await client.get("/metrics"), 401, "token_invalid")
        wrong = {"Authorization": "Bearer another-token"}
        await problem(await client.get("/metrics", headers=wrong), 401, "token_invalid")
        families = await scrape(client, Authorization="Bearer a-long-scrape-token")
    assert set(families) >= REQUIRED_FAMILIES


async def test_autosave_acks_and_open_sockets_move_with_saves(client, writer):
    notebook = await create_notebook(client, writer)
    page = await create_page(client, writer, notebook["notebook_id"])
    before = await scrape(client)
    async with client.websocket("/ws/autosave") as socket:
        await socket.send(json.dumps({"type": "auth", "token": writer.access_token}))
        assert json.loads(await asyncio.wait_for(socket.receive(), TIMEOUT))["type"] == "ready"
        for seq in (1, 2):
            save = {"type": "save", "page_id": page["page_id"], "client_seq": seq, "content": slate("x")}
            await socket.send(json.dumps(save))
            while json.loads(await asyncio.wait_for(socket.receive(), TIMEOUT))["type"] != "ack":
                pass
        during = await scrape(client)
    after = await scrape(client)
    opened = value(during, "sinpluma_websocket_connections")
    assert opened - value(before, "sinpluma_websocket_connections") == 1
    assert value(after, "sinpluma_websocket_connections") == value(before, "sinpluma_websocket_connections")
    assert value(after, "sinpluma_autosave_acks_total") - value(before, "sinpluma_autosave_acks_total") == 2
    timed = value(after, "sinpluma_autosave_ack_seconds_count")
    assert timed - value(before, "sinpluma_autosave_ack_seconds_count") == 2


@pytest.mark.parametrize("backend", ["mariadb"], indirect=True)
async def test_a_save_on_mariadb_is_counted_among_the_transactions_committed(client, writer):
    notebook = await create_notebook(client, writer)
    page = await create_page(client, writer, notebook["notebook_id"])
    before = await scrape(client)
    saved = await client.put(f"/pages/{page['page_id']}", headers=writer.headers, json={"title": "Otra"})
    assert saved.status_code == 200
    after = await scrape(client)
    series = "sinpluma_database_transactions_per_commit"
    assert value(after, f"{series}_sum") - value(before, f"{series}_sum") == 1
    assert value(after, f"{series}_count") - value(before, f"{series}_count") == 1


async def test_pool_and_bcrypt_gauges_return_to_rest(client, writer):
    families = await scrape(client)
    assert value(families, "sinpluma_bcrypt_queue") == 0
    engines = {point.labels["engine"] for point in families["sinpluma_database_connections_in_use"].samples}
    assert engines == {"writer", "reader"}
    assert value(families, "sinpluma_database_connections_in_use") == 0


@pytest.mark.parametrize("name", sorted(REQUIRED_FAMILIES))
def test_every_series_is_documented_in_the_readme(name):
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    assert name in readme
