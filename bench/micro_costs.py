"""Small costs of a request, each beside the way it was done before, in a loop of its own.

Run (the machine-wide lock held):
  flock /tmp/sinpluma-bench.lock .venv/bin/python bench/micro_costs.py \
      [access-line] [column-descriptions] [etag] [checkout] [redis] [cors] [json-response]
      [document-json] [--runs 5]

- access-line: the access line to /dev/null through structlog's bridge into the standard
  library's logging (how it was written before), and as `configure_logging` writes it now.
- column-descriptions: the eight column descriptions of a reader's page parsed by PyMySQL, and
  taken from `kept_description`.
- etag: a 20 KB page hashed by BLAKE2b and by SHA-256.
- checkout: a MariaDB connection of the service's engine (as the fast lane's reads have it)
  checked out, a cursor opened and closed, and the connection given back, through SQLAlchemy's
  `AsyncConnection` and through `pooled_driver`; and the same through aiomysql's own pool (the
  floor of bench/bare_app.py).
- redis: a GET of a missing key through the service's Redis client (redis-py), and the same bytes
  written and the answer read on a bare stream: what redis-py adds to a round trip.
- cors: quart-cors's work on a response to a request with no `Origin` header, as the service
  configures it.
- json-response: a save's answer and a listing of 20 notebooks made into a response by Quart's own
  JSON provider (the standard library, with the service's settings) and by the service's
  (`json_encoding.OrjsonResponses`).
- document-json: a 20 KB page's document written by orjson with OPT_NON_STR_KEYS (as
  `compact_json` wrote every document before) and by `compact_json` now, which leaves that option out.

Each line: microseconds per operation, best of the loop's runs (CPU time for `checkout`, which
waits on the network).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import logging
import math
import os
import time
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

import aiomysql
import orjson
import structlog
import uvloop
from quart import Response
from quart.json.provider import DefaultJSONProvider
from seeding import page_document

from sinpluma_async import create_app
from sinpluma_async.config import Settings
from sinpluma_async.db.column_descriptions_once import kept_description
from sinpluma_async.db.engines import create_engine
from sinpluma_async.db.pooled_drivers import pooled_driver
from sinpluma_async.json_encoding import compact_json
from sinpluma_async.observability.logs import ACCESS_LOG, SHARED_PROCESSORS, configure_logging, log_handler
from sinpluma_async.pages import slate
from sinpluma_async.redis_client.connections import connect_redis

MARIADB = "mysql+aiomysql://root@127.0.0.1:3306/test?charset=utf8mb4"
REDIS = "redis://127.0.0.1:6379/0"
READER_ROW = (
    "SELECT 1 AS notebook_id, 2 AS position, TRUE AS published, 'x' AS published_title,"
    " 'y' AS published_content, NOW() AS published_at, 3 AS author_id, 'published' AS status"
)
ACCESS_FIELDS = {"method": "GET", "route": "/pages/{page_id}", "path": "/pages/3", "status": 200}


def best_us(operation: Callable[[], Any], loops: int, runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        for _ in range(loops):
            operation()
        times.append(time.perf_counter() - started)
    return round(1e6 * min(times) / loops, 1)


def access_line(runs: int) -> dict[str, float]:
    with open(os.devnull, "w") as log:
        root = logging.getLogger()
        root.handlers, root.level = [log_handler("json", log)], logging.INFO
        structlog.configure(
            processors=[*SHARED_PROCESSORS, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
            logger_factory=structlog.stdlib.LoggerFactory(),
            wrapper_class=structlog.stdlib.BoundLogger,
        )
        bridged = structlog.get_logger("sinpluma.access")
        before = best_us(lambda: bridged.info("request", **ACCESS_FIELDS), 20_000, runs)
        configure_logging(Settings(log_format="json"), log)
        now = best_us(lambda: ACCESS_LOG.info("request", **ACCESS_FIELDS), 20_000, runs)
    return {"through logging": before, "written by structlog": now}


async def descriptions_of_a_reader_row() -> list[tuple[bytes, str]]:
    captured: list[tuple[bytes, str]] = []

    def capture(data: bytes, encoding: str) -> Any:
        captured.append((data, encoding))
        return kept_description(data, encoding)

    connection = await aiomysql.connect(host="127.0.0.1", user="root", db="test", charset="utf8mb4")
    aiomysql.connection.FieldDescriptorPacket = capture
    try:
        async with connection.cursor() as cursor:
            await cursor.execute(READER_ROW)
    finally:
        aiomysql.connection.FieldDescriptorPacket = kept_description
        connection.close()
    return captured


def column_descriptions(runs: int) -> dict[str, float]:
    from pymysql.protocol import FieldDescriptorPacket

    packets = uvloop.run(descriptions_of_a_reader_row())

    def parse(kind: Callable[[bytes, str], Any]) -> Callable[[], None]:
        return lambda: [kind(data, encoding).description() for data, encoding in packets]

    return {
        "parsed": best_us(parse(FieldDescriptorPacket), 20_000, runs),
        "kept": best_us(parse(kept_description), 20_000, runs),
    }


def etag(runs: int) -> dict[str, float]:
    body = slate.serialize(page_document()).encode()
    return {
        "blake2b": best_us(lambda: hashlib.blake2b(body, digest_size=16).hexdigest(), 20_000, runs),
        "sha256": best_us(lambda: hashlib.sha256(body).hexdigest()[:32], 20_000, runs),
    }


async def cpu_us(operation: Callable[[], Awaitable[None]], loops: int, runs: int) -> float:
    await operation()
    times = []
    for _ in range(runs):
        started = time.process_time()
        for _ in range(loops):
            await operation()
        times.append(time.process_time() - started)
    return round(1e6 * min(times) / loops, 1)


async def checkouts(runs: int) -> dict[str, float]:
    engine = create_engine(MARIADB, pool_size=5, autocommit=True)  # as the lane's reads
    pool = await aiomysql.create_pool(host="127.0.0.1", user="root", db="test", maxsize=5)

    async def through_async_connection() -> None:
        async with engine.connect() as connection:
            driver = (await connection.get_raw_connection()).driver_connection
            await (await driver.cursor()).close()

    async def through_pooled_driver() -> None:
        async with pooled_driver(engine) as connection:
            await (await connection.driver.cursor()).close()

    async def through_aiomysql() -> None:
        async with pool.acquire() as connection, connection.cursor():
            pass

    try:
        operations = {
            "AsyncConnection": through_async_connection,
            "pooled_driver": through_pooled_driver,
            "aiomysql's pool": through_aiomysql,
        }
        return {name: await cpu_us(operation, 3000, runs) for name, operation in operations.items()}
    finally:
        await engine.dispose()
        pool.close()
        await pool.wait_closed()


async def redis_round_trips(runs: int) -> dict[str, float]:
    client = connect_redis(REDIS)
    reader, writer = await asyncio.open_connection("127.0.0.1", 6379)

    async def on_a_stream() -> None:
        writer.write(b"*2\r\n$3\r\nGET\r\n$22\r\nsinpluma-bench:nothing\r\n")
        await reader.readline()

    async def through_redis_py() -> None:
        await client.get("sinpluma-bench:nothing")

    try:
        return {
            "GET on a bare stream": await cpu_us(on_a_stream, 3000, runs),
            "GET through the service's client": await cpu_us(through_redis_py, 3000, runs),
        }
    finally:
        writer.close()
        await client.aclose()


async def cors_after_request(runs: int) -> dict[str, float]:
    app = create_app(Settings(jwt_secret="x" * 48, jwt_secret_generated=False))
    hooks = app.after_request_funcs[None]
    cors = next(
        hook for hook in hooks if getattr(getattr(hook, "func", None), "__module__", "") == "quart_cors"
    )
    async with app.test_request_context("/pages/1", headers={"Authorization": "Bearer x"}):
        response = Response(b"{}")
        best = math.inf
        for _ in range(runs):
            started = time.perf_counter()
            for _ in range(20_000):
                await cors(response)
            best = min(best, time.perf_counter() - started)
    return {"quart-cors, a response with no Origin": round(1e6 * best / 20_000, 1)}


SAVE_ANSWER = {
    "page_id": 123,
    "version": 45,
    "title": "Capítulo uno",
    "position": 3,
    "updated_at": "2026-12-03T20:10:00Z",
}
LISTING = {
    "items": [
        {"notebook_id": n, "title": f"Cuaderno número {n}", "resume": "Sobre… " * 30, "status": "published"}
        for n in range(20)
    ],
    "next_cursor": None,
}


async def json_answers(runs: int) -> dict[str, float]:
    app = create_app(Settings(jwt_secret="x" * 48, jwt_secret_generated=False))
    quarts_own = DefaultJSONProvider(app)
    quarts_own.sort_keys = False  # type: ignore[attr-defined]
    quarts_own.ensure_ascii = False  # type: ignore[attr-defined]
    figures = {}
    async with app.app_context():
        for name, value in (("a save's answer", SAVE_ANSWER), ("a listing of 20", LISTING)):
            before, now = quarts_own.response(value), app.json.response(value)
            assert await before.get_data() == await now.get_data()  # the same bytes
            figures[f"{name}, Quart's provider"] = best_us(partial(quarts_own.response, value), 5_000, runs)
            figures[f"{name}, the service's"] = best_us(partial(app.json.response, value), 5_000, runs)
    return figures


def document_json(runs: int) -> dict[str, float]:
    document = page_document()
    with_option = partial(orjson.dumps, document, option=orjson.OPT_NON_STR_KEYS)
    assert with_option() == compact_json(document)  # the same bytes
    return {
        "orjson with OPT_NON_STR_KEYS": best_us(with_option, 20_000, runs),
        "compact_json": best_us(partial(compact_json, document), 20_000, runs),
    }


MEASURES: dict[str, Callable[[int], dict[str, float]]] = {
    "access-line": access_line,
    "column-descriptions": column_descriptions,
    "etag": etag,
    "checkout": lambda runs: uvloop.run(checkouts(runs)),
    "redis": lambda runs: uvloop.run(redis_round_trips(runs)),
    "cors": lambda runs: uvloop.run(cors_after_request(runs)),
    "json-response": lambda runs: uvloop.run(json_answers(runs)),
    "document-json": document_json,
}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("measures", nargs="*", default=list(MEASURES))
    parser.add_argument("--runs", type=int, default=5)
    arguments = parser.parse_args()
    for name in arguments.measures:
        figures = MEASURES[name](arguments.runs)
        print(json.dumps({"measure": name, "us": figures}, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
