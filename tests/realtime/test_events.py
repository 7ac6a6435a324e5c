"""The event listener starts and stops cleanly at any moment, even mid-subscribe."""

from __future__ import annotations

import asyncio
import logging

import pytest

from sinpluma_async.realtime.events import MAX_QUEUED_EVENTS, RedisEventBus
from sinpluma_async.runtime import connect_redis


async def nothing() -> None:
    return None


@pytest.mark.parametrize("turns", range(0, 40, 4))
async def test_stopping_at_any_moment_ends_the_listener_without_error(redis_url, turns):
    redis = connect_redis(redis_url)
    bus = RedisEventBus(redis, "sinpluma:test:events")
    listener = asyncio.create_task(bus.run(lambda event: None, nothing))
    for _ in range(turns):
        await asyncio.sleep(0)
    await bus.stop()
    await asyncio.wait_for(listener, 3)
    await redis.aclose()


@pytest.mark.parametrize("count", [1, 500])
async def test_published_events_all_reach_the_listener_in_order(redis_url, count):
    redis = connect_redis(redis_url)
    bus = RedisEventBus(redis, "sinpluma:test:events-delivery")
    received: list[dict[str, object]] = []
    delivered = asyncio.Event()

    def deliver(event: dict[str, object]) -> None:
        received.append(event)
        if len(received) == count:
            delivered.set()

    listener = asyncio.create_task(bus.run(deliver, nothing))
    pages = range(1, 6)
    for page_id in pages:
        await bus.listen(page_id)
    # Across the pages' channels as well: one process hears them in the order they were published.
    sent = [{"kind": "page.updated", "page_id": pages[n % 5], "version": n} for n in range(count)]
    for event in sent:
        await bus.publish(event)  # type: ignore[arg-type]
    await asyncio.wait_for(delivered.wait(), 5)
    await bus.stop()
    await asyncio.wait_for(listener, 3)
    await redis.aclose()
    assert received == sent


async def test_events_queued_when_stopping_are_still_published(redis_url):
    redis = connect_redis(redis_url)
    bus = RedisEventBus(redis, "sinpluma:test:events-drain")
    listening = redis.pubsub()
    await listening.subscribe(bus.page_channel(7))
    for version in range(20):
        await bus.publish({"kind": "page.updated", "page_id": 7, "version": version})  # type: ignore[typeddict-item]
    await bus.stop()
    heard = []
    while len(heard) < 20 and (message := await listening.get_message(timeout=3)) is not None:
        if message["type"] == "message":
            heard.append(message["data"])
    await listening.aclose()
    await redis.aclose()
    assert len(heard) == 20


class Heard(logging.Handler):
    """Sets its event when a record with this message is logged."""

    def __init__(self, message: str) -> None:
        super().__init__()
        self.message = message
        self.event = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage() == self.message:
            self.event.set()


async def test_a_full_queue_is_reported_once_with_the_number_of_events_dropped(caplog):
    # A Redis that accepts the connection and never answers: the first batch hangs until the
    # client's timeout, and everything published meanwhile queues behind it.
    connected = asyncio.Event()

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connected.set()
        await reader.read(-1)

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    redis = connect_redis(f"redis://127.0.0.1:{port}/0")
    bus = RedisEventBus(redis, "sinpluma:test:events-full")
    await bus.publish({"kind": "page.updated", "page_id": 0})
    await connected.wait()  # that one is in flight: the publisher took it before connecting
    for page_id in range(1, MAX_QUEUED_EVENTS + 51):
        await bus.publish({"kind": "page.updated", "page_id": page_id})

    def warnings() -> list[str]:
        return [record.getMessage() for record in caplog.records if record.levelname == "WARNING"]

    dropped = "50 events were dropped while the event queue was full"
    heard = Heard(dropped)
    logging.getLogger().addHandler(heard)
    try:  # the hanging batch gives up after the client's timeout
        await asyncio.wait_for(heard.event.wait(), 10)
    finally:
        logging.getLogger().removeHandler(heard)
    await bus.stop()
    server.close()
    await redis.aclose()
    assert dropped in warnings()
    assert warnings().count("Event queue full; other processes miss the oldest events until it drains") == 1
