"""Each policy of API.md's table, with small limits, on SQLite (memory) and on MariaDB (Redis)."""

from __future__ import annotations

import asyncio
import json
import time
from ipaddress import ip_network

import pytest
from quart.testing.connections import WebsocketDisconnectError, WebsocketResponseError

from tests.images.support import avatar_path, picture, post_raw
from tests.ratelimits.support import limited_app, peer, refused, state
from tests.support import create_notebook, create_page, make_account, slate, wait_until


@pytest.fixture
def limited(settings):
    return limited_app(settings)


async def test_read_refuses_the_call_over_the_limit_with_429(limited):
    async with limited("read=2/1m") as client:
        assert [(await client.get("/genres/")).status_code for _ in range(2)] == [200, 200]
        document = await refused(await client.get("/genres/"), "read")
        assert "read" in document["detail"]
        assert 1 <= int((await client.get("/genres/")).headers["Retry-After"]) <= 60


async def test_limited_answers_carry_the_policy_and_its_state(limited):
    async with limited("read=3/1m") as client:
        first = await client.get("/genres/")
        assert first.headers["RateLimit-Policy"] == '"read";q=3;w=60'
        assert state(first) == {"policy": "read", "remaining": 2, "reset": 60}
        second = await client.get("/genres/")
        assert state(second)["remaining"] == 1 and 1 <= state(second)["reset"] <= 60
        # Errors of a limited route carry them too.
        missing = await client.get("/notebooks/999999")
        assert missing.status_code == 404 and state(missing)["remaining"] == 0


async def test_exempt_routes_carry_no_rate_limit_headers(limited):
    async with limited("read=1/1m") as client:
        for _ in range(3):
            response = await client.get("/healthz")
            assert response.status_code == 200 and "RateLimit" not in response.headers


async def test_read_counts_a_user_apart_from_anonymous_callers(limited):
    async with limited("read=2/1m") as client:
        account = await make_account(client, "ana")
        for _ in range(2):
            assert (await client.get("/user/ana", headers=account.headers)).status_code == 200
        await refused(await client.get("/user/ana", headers=account.headers), "read")
        assert (await client.get("/user/ana")).status_code == 200
        other = await make_account(client, "bea")
        assert (await client.get("/user/ana", headers=other.headers)).status_code == 200


async def test_write_counts_per_user_and_leaves_reads_alone(limited):
    async with limited("write=2/1m") as client:
        ana, bea = await make_account(client, "ana"), await make_account(client, "bea")
        await create_notebook(client, ana)
        await create_notebook(client, ana)
        response = await client.post("/notebooks/", headers=ana.headers, json={"title": "x", "genre_id": 1})
        await refused(response, "write")
        await create_notebook(client, bea)
        assert (await client.get("/notebooks/", headers=ana.headers)).status_code == 200


async def test_calls_refused_for_their_token_are_counted_against_the_address(limited):
    async with limited("write=2/1m") as client:
        bad = {"Authorization": "Bearer not-a-token"}
        for _ in range(2):
            assert (await client.post("/notebooks/", headers=bad, json={})).status_code == 401
        await refused(await client.post("/notebooks/", headers=bad, json={}), "write")
        await refused(await client.post("/notebooks/", json={}), "write")


async def test_upload_counts_image_uploads_and_not_their_removal(limited):
    async with limited("upload=1/1h") as client:
        ana = await make_account(client, "ana")
        assert (await post_raw(client, avatar_path(ana), ana, picture())).status_code == 201
        await refused(await post_raw(client, avatar_path(ana), ana, picture()), "upload")
        response = await client.delete(avatar_path(ana), headers=ana.headers)
        assert response.status_code == 204 and state(response)["policy"] == "write"


async def test_search_counts_users_and_addresses_apart(limited):
    async with limited("search=2/1m") as client:
        ana = await make_account(client, "ana")
        for _ in range(2):
            assert (await client.get("/search?q=x")).status_code == 200
        await refused(await client.get("/search?q=x"), "search")
        # A valid token chooses the user's counter; an invalid one is ignored by this public route.
        assert (await client.get("/search?q=x", headers=ana.headers)).status_code == 200
        bad = {"Authorization": "Bearer nonsense"}
        await refused(await client.get("/search?q=x", headers=bad), "search")


async def test_register_counts_per_client_address(limited):
    async with limited("register=2/1h") as client:

        async def register(name, address):
            body = {"username": name, "email": f"{name}@example.com", "password": "long enough pw"}
            return await client.post("/user/register", json=body, **peer(address))

        assert (await register("ana", "203.0.113.1")).status_code == 201
        # A refused registration counts as much as one that succeeds.
        assert (await register("ana", "203.0.113.1")).status_code == 409
        await refused(await register("bea", "203.0.113.1"), "register")
        assert (await register("bea", "203.0.113.2")).status_code == 201


async def test_refresh_counts_per_session(limited):
    async with limited("refresh=2/1m") as client:
        ana = await make_account(client, "ana")
        token = ana.refresh_token
        for _ in range(2):
            response = await client.post("/user/token/refresh", headers={"Authorization": f"Bearer {token}"})
            assert response.status_code == 200
            token = (await response.get_json())["refresh_token"]
        response = await client.post("/user/token/refresh", headers={"Authorization": f"Bearer {token}"})
        await refused(response, "refresh")
        other = await make_account(client, "bea")
        response = await client.post(
            "/user/token/refresh", headers={"Authorization": f"Bearer {other.refresh_token}"}
        )
        assert response.status_code == 200


async def handshake(client, address):
    """Open the socket and authenticate with a bad token: 4401 once accepted, or the refusal."""
    async with client.websocket("/ws/autosave", **peer(address)) as socket:
        await socket.send(json.dumps({"type": "auth", "token": "bad"}))
        try:
            await asyncio.wait_for(socket.receive(), 10)
        except WebsocketDisconnectError as closed:
            return closed.args[0]
        except WebsocketResponseError as refusal:
            return refusal.response
    raise AssertionError("the socket neither closed nor was refused")


async def test_websocket_handshakes_count_per_client_address(limited):
    async with limited("ws-connect=2/1m") as client:
        assert [await handshake(client, "203.0.113.7") for _ in range(2)] == [4401, 4401]
        await refused(await handshake(client, "203.0.113.7"), "ws-connect")
        assert await handshake(client, "203.0.113.8") == 4401


async def test_websocket_saves_follow_the_ws_save_policy(limited):
    async with limited("ws-save=3/1s") as client:
        ana = await make_account(client, "ana")
        notebook = await create_notebook(client, ana)
        page = await create_page(client, ana, notebook["notebook_id"])
        async with client.websocket("/ws/autosave") as socket:
            await socket.send(json.dumps({"type": "auth", "token": ana.access_token}))
            assert json.loads(await socket.receive())["type"] == "ready"
            for seq in range(5):
                save = {"type": "save", "page_id": page["page_id"], "client_seq": seq, "content": slate("x")}
                await socket.send(json.dumps(save))
            answers = [json.loads(await asyncio.wait_for(socket.receive(), 10)) for _ in range(5)]
        errors = [answer for answer in answers if answer["type"] == "error"]
        assert len(errors) == 2 and len([answer for answer in answers if answer["type"] == "ack"]) == 3
        assert all(
            error["status"] == 429 and error["detail"] == "At most 3 saves a second" for error in errors
        )


async def test_an_untrusted_peer_is_counted_whatever_x_forwarded_for_says(limited):
    async with limited("read=2/1m") as client:
        for forwarded in ("198.51.100.1", "198.51.100.2"):
            response = await client.get(
                "/genres/", headers={"X-Forwarded-For": forwarded}, **peer("203.0.113.9")
            )
            assert response.status_code == 200
        spoofed = await client.get(
            "/genres/", headers={"X-Forwarded-For": "198.51.100.3"}, **peer("203.0.113.9")
        )
        await refused(spoofed, "read")


async def test_behind_a_trusted_proxy_each_forwarded_client_is_counted_apart(limited):
    async with limited("read=2/1m", trusted_proxies=(ip_network("10.0.0.0/8"),)) as client:
        proxy = peer("10.0.0.5")
        for _ in range(2):
            assert (
                await client.get("/genres/", headers={"X-Forwarded-For": "198.51.100.1"}, **proxy)
            ).status_code == 200
        # What a client writes left of the proxy's own hop is not believed.
        forged = {"X-Forwarded-For": "6.6.6.6, 198.51.100.1"}
        await refused(await client.get("/genres/", headers=forged, **proxy), "read")
        other = {"X-Forwarded-For": "198.51.100.2"}
        assert (await client.get("/genres/", headers=other, **proxy)).status_code == 200


async def test_off_counts_nothing(limited):
    async with limited("read=1/1m") as client:
        assert (await client.get("/genres/")).status_code == 200
        assert (await client.get("/genres/")).status_code == 429
    async with limited("off") as client:
        for _ in range(5):
            response = await client.get("/genres/")
            assert response.status_code == 200 and "RateLimit" not in response.headers


async def test_the_window_slides_a_call_fits_when_the_oldest_leaves(limited):
    async with limited("read=2/2s") as client:
        started = time.monotonic()
        for _ in range(2):
            assert (await client.get("/genres/")).status_code == 200
        await refused(await client.get("/genres/"), "read")

        async def admitted() -> bool:
            return (await client.get("/genres/")).status_code == 200

        await wait_until(admitted)
        # Not at a clock's minute or second boundary: two seconds after the first call, no sooner.
        assert time.monotonic() - started >= 1.95
