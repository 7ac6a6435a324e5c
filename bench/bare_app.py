"""The bare Quart route the side-by-side benchmark holds the service against.

Served by the same Hypercorn configuration as the service (hypercorn.toml, two uvloop workers):
`GET /bare` answers a fixed 20 KB Slate page as JSON bytes, with nothing between the route and
the server: no database, no Redis, no token, no validation.

`GET /floor` answers the same bytes after the two round trips API.md asks of an authenticated
read: one to Redis (where the rate-limit counters are shared) and one SELECT to MariaDB of a row
shaped like a reader's page (eight columns, 20 KB of text), through the service's drivers
(redis-py, aiomysql) with pools of the service's sizes. Nothing else: it is what a read would cost
if the service's own layers cost nothing. `PUT /floor` is a save's: the body read and parsed,
one Redis round trip, and one to MariaDB carrying the re-encoded document (a SELECT of its
length, the document in hex). Neither touches a table or writes a key. `WEBSOCKET /floor` is an
editor's socket with the same save for each message (bench/autosave_load.py --floor): answers
"ready" to the first message without checking it, then parses each save, makes the two round
trips and sends an ack; there are no versions, no validation, no coalescing and no announcements.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import aiomysql
import orjson
import redis.asyncio
from quart import Quart, Response, request, websocket

# hypercorn.toml hands Hypercorn's lines to the root logger, which the service configures and this
# app must too: the harness waits for its "Running on" line.
logging.basicConfig(level=logging.INFO, format="%(message)s")
BODY = os.environb.get(b"BARE_BODY", b"[]")
app = Quart(__name__)
# The columns of a reader's page read (sinpluma_async/pages/reading.py), the content 20 KB long.
PAGE_ROW = (
    "SELECT 1 AS notebook_id, 3 AS position, 1 AS published, 'A title' AS published_title,"
    " REPEAT('x', 20000) AS published_content, NOW() AS published_at, 7 AS author_id,"
    " 'published' AS status"
)


class Clients:
    redis: redis.asyncio.Redis
    mariadb: Any  # an aiomysql pool; aiomysql ships no types


clients = Clients()
# A save's one round trip carries its document to the server; this one writes nothing. In hex, so
# that neither PyMySQL's slow escaping of non-ASCII text (which the service replaced,
# db/mysql_fast_lane.py) nor any escaping of ours weighs on the floor.
SAVE_TRIP = "SELECT LENGTH(UNHEX('%s'))"


@app.before_serving
async def connect() -> None:
    # Blocking, as the service's: a thousand editors' saves wait for one of the 50 connections.
    pool = redis.asyncio.BlockingConnectionPool.from_url(
        os.environ.get("FLOOR_REDIS_URL", "redis://127.0.0.1:6379/0"), max_connections=50
    )
    clients.redis = redis.asyncio.Redis(connection_pool=pool)
    clients.mariadb = await aiomysql.create_pool(
        host="127.0.0.1", port=3306, user="root", password="", db="test", maxsize=20, autocommit=True
    )


@app.after_serving
async def disconnect() -> None:
    await clients.redis.aclose()
    clients.mariadb.close()
    await clients.mariadb.wait_closed()


@app.get("/bare")
async def bare() -> Response:
    return Response(BODY, content_type="application/json")


@app.get("/floor")
async def floor() -> Response:
    await clients.redis.get("sinpluma-bench:floor")
    async with clients.mariadb.acquire() as connection, connection.cursor() as cursor:
        await cursor.execute(PAGE_ROW)
        await cursor.fetchone()
    return Response(BODY, content_type="application/json")


@app.put("/floor")
async def floor_save() -> Response:
    document = orjson.loads(await request.get_data())
    await save_trips(document["content"])
    return Response(b'{"version": 2}', content_type="application/json")


@app.websocket("/floor")
async def floor_socket() -> None:
    await websocket.receive()
    await websocket.send('{"type":"ready"}')
    while True:
        message = orjson.loads(await websocket.receive())
        await save_trips(message["content"])
        ack = {
            "type": "ack",
            "page_id": message["page_id"],
            "client_seq": message["client_seq"],
            "version": 2,
        }
        await websocket.send(orjson.dumps(ack).decode())


async def save_trips(content: Any) -> None:
    """A save's two round trips: Redis, then MariaDB carrying the re-encoded document."""
    await clients.redis.get("sinpluma-bench:floor")
    async with clients.mariadb.acquire() as connection, connection.cursor() as cursor:
        await cursor.execute(SAVE_TRIP % orjson.dumps(content).hex())
        await cursor.fetchone()


@app.get("/healthz")
async def healthz() -> Response:
    return Response(b'{"status":"ok"}', content_type="application/json")
