"""The service on Redis behind Sentinel: logins, authenticated calls, logouts and the sockets'
fan-out all go through the master the sentinels name; a logout no replica holds is not claimed."""

from __future__ import annotations

import asyncio
import json

import httpx
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.live import LiveAuthor
from tests.sentinel.cluster import wait_for

TIMEOUT = 10


def mine(url: str, author: LiveAuthor) -> httpx.Response:
    return httpx.get(f"{url}/notebooks/?scope=mine", headers=author.headers, timeout=TIMEOUT)


def logout(url: str, author: LiveAuthor) -> httpx.Response:
    return httpx.delete(f"{url}/user/logout", headers=author.headers, timeout=TIMEOUT)


async def test_a_logout_through_the_sentinels_revokes_the_token_and_closes_its_socket(
    sentinel_server, sentinel_redis
):
    url = sentinel_server.url
    author = await asyncio.to_thread(LiveAuthor.on, url)
    assert (await asyncio.to_thread(mine, url, author)).status_code == 200
    async with connect(url.replace("http://", "ws://") + "/ws/autosave") as socket:
        await socket.send(json.dumps({"type": "auth", "token": author.token}))
        assert json.loads(await asyncio.wait_for(socket.recv(), TIMEOUT))["type"] == "ready"
        assert (await asyncio.to_thread(logout, url, author)).status_code == 204
        try:
            while True:
                await asyncio.wait_for(socket.recv(), TIMEOUT)
        except ConnectionClosed as closed:
            assert closed.rcvd is not None and closed.rcvd.code == 4401

    refused = await asyncio.to_thread(mine, url, author)
    assert refused.status_code == 401 and refused.json()["code"] == "token_revoked"
    # The 204 waited for the replica: the revocation is there already, should it be promoted.
    revoked = sentinel_redis.replica.client.keys("*:revoked:sid:*")  # the cluster is this module's own
    assert len(revoked) == 1


def test_a_logout_no_replica_acknowledges_in_time_answers_503(sentinel_server, sentinel_redis):
    url = sentinel_server.url
    author = LiveAuthor.on(url)
    sentinel_redis.replica.pause()
    try:
        answer = logout(url, author)
    finally:
        sentinel_redis.replica.resume()
    wait_for(sentinel_redis.replicating, "the replica back")

    assert answer.status_code == 503, answer.text
    assert answer.headers["Retry-After"] and answer.headers["Content-Type"] == "application/problem+json"
    assert answer.json()["code"] == "service_unavailable"
