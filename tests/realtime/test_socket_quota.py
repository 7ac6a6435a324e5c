"""A user's concurrent autosave sockets are capped, on every server process together.

The socket past the quota is closed with 4429 once it has authenticated (only then is its user
known). With Redis the count is shared and each process's sockets are leases it renews, so a
process that dies cannot pin a user's quota.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from contextlib import AsyncExitStack
from dataclasses import replace

import httpx
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from sinpluma_async import create_app
from sinpluma_async.realtime.socket_quota import RedisSocketQuota
from sinpluma_async.runtime import connect_redis
from tests.realtime.test_autosave import authenticated, close_code, send
from tests.support import PASSWORD, make_account, redis_key_prefix, wait_until

QUOTA = 3
TIMEOUT = 10


async def open_sockets(stack: AsyncExitStack, client, account, count: int) -> list:
    sockets = []
    for _ in range(count):
        socket = await stack.enter_async_context(client.websocket("/ws/autosave"))
        assert (await authenticated(socket, account))["type"] == "ready"
        sockets.append(socket)
    return sockets


async def test_the_socket_past_a_users_quota_closes_with_4429(settings):
    app = create_app(replace(settings, max_sockets_per_user=QUOTA))
    async with app.test_app(), AsyncExitStack() as stack:
        client = app.test_client()
        writer, reader = await make_account(client, "writer"), await make_account(client, "reader")
        await open_sockets(stack, client, writer, QUOTA)
        async with client.websocket("/ws/autosave") as extra:
            await send(extra, {"type": "auth", "token": writer.access_token})
            assert await close_code(extra) == 4429
        await open_sockets(stack, client, reader, 1)  # another user's quota is their own


async def test_a_closed_socket_frees_its_place(settings):
    app = create_app(replace(settings, max_sockets_per_user=1))
    async with app.test_app():
        client = app.test_client()
        writer = await make_account(client, "writer")
        async with client.websocket("/ws/autosave") as first:
            assert (await authenticated(first, writer))["type"] == "ready"
        quota = app.extensions["sinpluma"].sockets

        async def place_freed() -> bool:
            return await quota.claim(writer.user_id, "probe") and not await quota.release(
                writer.user_id, "probe"
            )

        await wait_until(place_freed)
        async with client.websocket("/ws/autosave") as second:
            assert (await authenticated(second, writer))["type"] == "ready"


async def test_sockets_of_a_process_that_stopped_renewing_lapse(redis_url):
    redis = connect_redis(redis_url)
    prefix = redis_key_prefix()
    crashed = RedisSocketQuota(redis, prefix, 2, ttl_seconds=0.5, renew_seconds=3600)
    alive = RedisSocketQuota(redis, prefix, 2, ttl_seconds=0.5, renew_seconds=3600)
    try:
        assert await crashed.claim(7, "crashed:1") and await crashed.claim(7, "crashed:2")
        assert not await alive.claim(7, "alive:1")

        async def lapsed() -> bool:
            return await alive.claim(7, "alive:1")

        await wait_until(lapsed)
    finally:
        await crashed.close()
        await alive.close()
        await redis.delete(f"{prefix}sockets:7")
        await redis.aclose()


async def test_renewing_extends_the_leases_a_process_holds(redis_url):
    redis = connect_redis(redis_url)
    prefix = redis_key_prefix()
    quota = RedisSocketQuota(redis, prefix, 2, ttl_seconds=30, renew_seconds=3600)
    key = f"{prefix}sockets:7"
    try:
        assert await quota.claim(7, "p:1")
        before = await redis.zscore(key, "p:1")
        await wait_until(lambda: _renewed_past(quota, redis, key, before))
        await quota.release(7, "p:1")
        await quota.renew()
        assert await redis.zscore(key, "p:1") is None  # a released socket is not brought back
    finally:
        await quota.close()
        await redis.delete(key)
        await redis.aclose()


async def _renewed_past(quota: RedisSocketQuota, redis, key: str, before: float) -> bool:
    await quota.renew()
    return await redis.zscore(key, "p:1") > before


def socket_url(server) -> str:
    return server.url.replace("http://", "ws://") + "/ws/autosave"


async def live_socket(stack: AsyncExitStack, server, token: str) -> dict:
    socket = await stack.enter_async_context(connect(socket_url(server)))
    await socket.send(json.dumps({"type": "auth", "token": token}))
    try:
        return json.loads(await asyncio.wait_for(socket.recv(), TIMEOUT))
    except ConnectionClosed as closed:
        return {"type": "closed", "code": closed.rcvd.code if closed.rcvd else None}


async def test_the_quota_of_20_holds_across_two_live_processes(live_servers):
    first, second = live_servers
    username = f"q{uuid.uuid4().hex[:12]}"
    body = {"username": username, "email": f"{username}@example.com", "password": PASSWORD}
    async with httpx.AsyncClient(base_url=first.url) as http:
        (await http.post("/user/register", json=body)).raise_for_status()
        tokens = (await http.post("/user/login", json={"username": username, "password": PASSWORD})).json()
    token = tokens["access_token"]
    async with AsyncExitStack() as stack:
        for server in [first, second] * 10:
            assert (await live_socket(stack, server, token))["type"] == "ready"
        for server in (first, second):
            assert await live_socket(stack, server, token) == {"type": "closed", "code": 4429}
    async with AsyncExitStack() as stack:  # all closed: the places are free again, on either process

        async def opens_on_the_second() -> bool:
            return (await live_socket(stack, second, token))["type"] == "ready"

        await wait_until(opens_on_the_second)
