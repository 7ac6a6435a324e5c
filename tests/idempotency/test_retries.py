"""Idempotent retries (API.md, "Idempotent retries: Idempotency-Key"), on SQLite and on MariaDB + Redis."""

from __future__ import annotations

import asyncio
import dataclasses
from contextlib import AsyncExitStack

import pytest

from sinpluma_async import create_app
from sinpluma_async.idempotency.keys import key_slot
from sinpluma_async.idempotency.records import marker
from sinpluma_async.notebooks import service as notebooks_service
from tests.idempotency.support import REPLAYED, HeldService, keyed, notebook_count, post_notebook
from tests.support import (
    PASSWORD,
    create_notebook,
    create_page,
    make_account,
    problem,
    publish_notebook,
    wait_until,
)


@pytest.fixture
async def build_app(settings):
    """Apps on the test's backend with other idempotency timings, opened until the test ends."""
    async with AsyncExitStack() as stack:

        async def build(**changes):
            application = create_app(dataclasses.replace(settings, **changes))
            await stack.enter_async_context(application.test_app())
            return application

        yield build


async def test_repeat_gets_the_first_response_replayed(client, writer):
    first = await post_notebook(client, writer, "k-1")
    assert first.status_code == 201 and REPLAYED not in first.headers
    again = await post_notebook(client, writer, "k-1")
    assert again.status_code == 201
    assert again.headers[REPLAYED] == "true"
    assert again.headers["Location"] == first.headers["Location"]
    assert again.headers["Content-Type"] == first.headers["Content-Type"] == "application/json"
    assert await again.get_data() == await first.get_data()
    assert await notebook_count(client, writer) == 1


async def test_without_the_header_nothing_changes(client, writer):
    for _ in range(2):
        response = await post_notebook(client, writer, None)
        assert response.status_code == 201 and REPLAYED not in response.headers
    assert await notebook_count(client, writer) == 2


async def test_a_quoted_key_is_the_bare_key(client, writer):
    assert (await post_notebook(client, writer, "abc")).status_code == 201
    assert (await post_notebook(client, writer, '"abc"')).headers[REPLAYED] == "true"


@pytest.mark.parametrize("key", ["", "x" * 256, "a b", '"open', '""'])
async def test_malformed_key_is_400_naming_the_header_and_does_nothing(client, writer, key):
    document = await problem(await post_notebook(client, writer, key), 400, "validation_error")
    assert document["errors"][0]["loc"] == ["header", "Idempotency-Key"]
    assert await notebook_count(client, writer) == 0


async def test_a_key_of_255_characters_is_accepted(client, writer):
    assert (await post_notebook(client, writer, "k" * 255)).status_code == 201


async def test_same_key_with_another_body_is_422_and_does_nothing(client, writer):
    assert (await post_notebook(client, writer, "k-1", title="Uno")).status_code == 201
    document = await problem(
        await post_notebook(client, writer, "k-1", title="Dos"), 422, "idempotency_key_reused"
    )
    assert "body" in document["detail"]
    assert await notebook_count(client, writer) == 1


async def test_same_key_on_another_path_is_422_and_does_nothing(client, writer):
    response = await post_notebook(client, writer, "k-1")
    notebook_id = (await response.get_json())["notebook_id"]
    page = await client.post("/pages/", headers=keyed(writer, "k-1"), json={"notebook_id": notebook_id})
    document = await problem(page, 422, "idempotency_key_reused")
    assert "path" in document["detail"]
    listed = await client.get(f"/pages/?notebook_id={notebook_id}", headers=writer.headers)
    assert (await listed.get_json())["total"] == 0


async def test_publishing_two_pages_with_one_key_is_422(client, writer):
    notebook = await create_notebook(client, writer)
    first = await create_page(client, writer, notebook["notebook_id"])
    second = await create_page(client, writer, notebook["notebook_id"])
    published = await client.post(f"/pages/{first['page_id']}/publish", headers=keyed(writer, "pub"))
    assert published.status_code == 200
    again = await client.post(f"/pages/{first['page_id']}/publish", headers=keyed(writer, "pub"))
    assert again.headers[REPLAYED] == "true" and again.headers["ETag"] == published.headers["ETag"]
    other = await client.post(f"/pages/{second['page_id']}/publish", headers=keyed(writer, "pub"))
    await problem(other, 422, "idempotency_key_reused")
    reader_view = await client.get(f"/pages/{second['page_id']}", headers=writer.headers)
    assert reader_view.status_code == 404  # never published


async def test_same_key_while_the_first_runs_is_409(client, writer, monkeypatch):
    held = HeldService(monkeypatch)
    first = asyncio.create_task(post_notebook(client, writer, "k-1"))
    await held.entered.wait()
    await problem(await post_notebook(client, writer, "k-1"), 409, "idempotency_key_in_progress")
    held.release.set()
    assert (await first).status_code == 201
    assert (await post_notebook(client, writer, "k-1")).headers[REPLAYED] == "true"
    assert held.calls == 1


async def test_a_5xx_is_not_stored_and_its_retry_runs(client, writer, monkeypatch):
    original = notebooks_service.create_notebook

    async def failing(**arguments):
        raise RuntimeError("a bug")

    monkeypatch.setattr(notebooks_service, "create_notebook", failing)
    await problem(await post_notebook(client, writer, "k-1"), 500, "internal_error")
    monkeypatch.setattr(notebooks_service, "create_notebook", original)
    retry = await post_notebook(client, writer, "k-1")
    assert retry.status_code == 201 and REPLAYED not in retry.headers
    assert await notebook_count(client, writer) == 1


async def test_a_4xx_is_stored_and_replayed(client, writer, reader):
    notebook = await create_notebook(client, writer)
    follow = {"notebook_id": notebook["notebook_id"]}
    await problem(await client.post("/readings/", headers=keyed(reader, "f"), json=follow), 404, "not_found")
    await publish_notebook(client, writer, notebook["notebook_id"])
    replay = await client.post("/readings/", headers=keyed(reader, "f"), json=follow)
    await problem(replay, 404, "not_found")
    assert replay.headers[REPLAYED] == "true"
    assert (await client.post("/readings/", headers=keyed(reader, "g"), json=follow)).status_code == 201


async def test_two_users_with_one_key_are_independent(client, writer, reader):
    mine = await post_notebook(client, writer, "shared")
    theirs = await post_notebook(client, reader, "shared", title="Otro")
    assert mine.status_code == theirs.status_code == 201
    assert REPLAYED not in theirs.headers
    assert (await mine.get_json())["notebook_id"] != (await theirs.get_json())["notebook_id"]


def registration(username):
    return {"username": username, "email": f"{username}@example.com", "password": PASSWORD}


async def register_from(client, address, key, username):
    return await client.post(
        "/user/register",
        headers={"Idempotency-Key": key},
        json=registration(username),
        scope_base={"client": (address, 40000)},
    )


async def test_registration_is_keyed_by_the_client_address(client):
    first = await register_from(client, "192.0.2.10", "signup", "ana")
    assert first.status_code == 201
    again = await register_from(client, "192.0.2.10", "signup", "ana")
    assert again.headers[REPLAYED] == "true" and await again.get_json() == await first.get_json()
    await problem(await register_from(client, "192.0.2.10", "signup", "eva"), 422, "idempotency_key_reused")
    elsewhere = await register_from(client, "192.0.2.20", "signup", "eva")
    assert elsewhere.status_code == 201 and REPLAYED not in elsewhere.headers


async def test_a_refused_registration_is_replayed(client):
    assert (await register_from(client, "192.0.2.10", "a", "ana")).status_code == 201
    await problem(await register_from(client, "192.0.2.10", "b", "ana"), 409, "username_taken")
    replay = await register_from(client, "192.0.2.10", "b", "ana")
    await problem(replay, 409, "username_taken")
    assert replay.headers[REPLAYED] == "true"


async def test_a_key_expires(build_app):
    app = await build_app(idempotency_key_seconds=0.5)
    client = app.test_client()
    account = await make_account(client, "writer")
    assert (await post_notebook(client, account, "k-1", title="Uno")).status_code == 201
    retried = None

    async def forgotten():
        nonlocal retried
        retried = await post_notebook(client, account, "k-1", title="Dos")
        return retried.status_code != 422  # a 422 changes nothing, so it can be asked again

    await wait_until(forgotten)
    assert retried is not None and retried.status_code == 201 and REPLAYED not in retried.headers


async def test_a_marker_left_by_a_dead_worker_expires(build_app):
    app = await build_app(idempotency_marker_seconds=0.5)
    client = app.test_client()
    account = await make_account(client, "writer")
    slot = key_slot(f"user:{account.user_id}", "k-1")
    assert await app.extensions["sinpluma"].idempotency.claim(slot, marker("dead"), 0.5) is None
    await problem(await post_notebook(client, account, "k-1"), 409, "idempotency_key_in_progress")
    retried = None

    async def freed():
        nonlocal retried
        retried = await post_notebook(client, account, "k-1")
        return retried.status_code != 409

    await wait_until(freed)
    assert retried is not None and retried.status_code == 201


async def test_a_long_request_keeps_its_marker(build_app, monkeypatch):
    app = await build_app(idempotency_marker_seconds=0.3)
    client = app.test_client()
    account = await make_account(client, "writer")
    store = app.extensions["sinpluma"].idempotency
    renewals = 0
    renew = store.renew

    async def counted(*arguments):
        nonlocal renewals
        await renew(*arguments)
        renewals += 1

    monkeypatch.setattr(store, "renew", counted)
    held = HeldService(monkeypatch)
    first = asyncio.create_task(post_notebook(client, account, "k-1"))
    await held.entered.wait()

    async def outlived_its_marker():
        return renewals >= 4  # 0.4 s and more: past the marker's own lifetime

    await wait_until(outlived_its_marker)
    await problem(await post_notebook(client, account, "k-1"), 409, "idempotency_key_in_progress")
    held.release.set()
    assert (await first).status_code == 201
    assert (await post_notebook(client, account, "k-1")).headers[REPLAYED] == "true"


async def test_a_browser_may_send_the_header(client):
    preflight = await client.options(
        "/notebooks/",
        headers={
            "Origin": "https://app.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type, idempotency-key",
        },
    )
    assert "idempotency-key" in preflight.headers["Access-Control-Allow-Headers"].lower()
