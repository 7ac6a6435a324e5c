"""A page's saves reach, through Redis, only the processes that listen to the page, from the moment
their listen returns, and again after the listener's connection is lost."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest
from redis.asyncio import Redis

from sinpluma_async.realtime.events import RedisEventBus
from sinpluma_async.realtime.protocol import Event, encode
from sinpluma_async.runtime import connect_redis
from tests.faults import FaultProxy
from tests.support import wait_until

HEARD_SECONDS = 5
RUN = uuid.uuid4().hex[:8]


@dataclass
class Process:
    """One server process's bus, and the events it delivered."""

    bus: RedisEventBus
    heard: list[Event] = field(default_factory=list)
    _new: asyncio.Event = field(default_factory=asyncio.Event)

    def deliver(self, event: Event) -> None:
        self.heard.append(event)
        self._new.set()

    async def hears(self, event: Event) -> None:
        async with asyncio.timeout(HEARD_SECONDS):
            while event not in self.heard:
                self._new.clear()
                await self._new.wait()


async def nothing() -> None:
    return None


@asynccontextmanager
async def process(
    redis_url: str, channel: str, resync: Callable[[], Awaitable[None]] = nothing
) -> AsyncIterator[Process]:
    """A bus on `channel`, made unique to the run: another suite on the same Redis hears nothing."""
    redis = connect_redis(redis_url)
    listening = Process(RedisEventBus(redis, f"{channel}:{RUN}"))
    listener = asyncio.create_task(listening.bus.run(listening.deliver, resync))
    try:
        yield listening
    finally:
        await listening.bus.stop()
        await asyncio.wait_for(listener, 3)
        await redis.aclose()


@asynccontextmanager
async def behind_a_proxy(redis_url: str, channel: str) -> AsyncIterator[tuple[FaultProxy, Process]]:
    """A process whose Redis connections go through a fault proxy, connected and listening."""
    target = urlsplit(redis_url)
    with FaultProxy(target.hostname or "127.0.0.1", target.port or 6379) as proxy:
        async with process(f"redis://{proxy.address}{target.path}", channel) as listening:
            await listening.bus.listen(0)  # returns once the listener's connection is up
            yield proxy, listening


def saved(page_id: int, version: int) -> Event:
    return {"kind": "page.updated", "page_id": page_id, "version": version}  # type: ignore[typeddict-item]


async def subscribers(redis: Redis, channel: str) -> int:
    [(_, count)] = await redis.pubsub_numsub(channel)
    return int(count)


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = connect_redis(redis_url)
    yield client
    await client.aclose()


async def test_a_process_hears_only_the_pages_it_listens_to(redis_url, redis):
    channel = "sinpluma:test:pages-apart"
    async with process(redis_url, channel) as first, process(redis_url, channel) as second:
        await first.bus.listen(1)
        await second.bus.listen(2)
        for event in (saved(1, 1), saved(2, 1), saved(1, 2)):
            await first.bus.publish(event)
        await first.hears(saved(1, 2))
        await second.hears(saved(2, 1))
        assert first.heard == [saved(1, 1), saved(1, 2)]
        assert second.heard == [saved(2, 1)]
        assert await subscribers(redis, first.bus.page_channel(3)) == 0


async def test_a_listen_returns_only_once_redis_holds_the_subscription(redis_url, redis):
    # Every byte between the bus and Redis is late: a listen that returned before Redis confirmed
    # the SUBSCRIBE would let the publish below, which takes the short way, reach nobody.
    async with behind_a_proxy(redis_url, "sinpluma:test:pages-confirmed") as (proxy, listening):
        await asyncio.to_thread(proxy.set, "pass", latency=0.2)
        await listening.bus.listen(5)
        await redis.publish(listening.bus.page_channel(5), encode(saved(5, 1)))
        await listening.hears(saved(5, 1))


async def test_the_channel_stays_while_any_listener_does_and_goes_with_the_last(redis_url, redis):
    async with process(redis_url, "sinpluma:test:pages-counted") as listening:
        bus, channel = listening.bus, listening.bus.page_channel(6)
        await bus.listen(6)
        await bus.listen(6)
        bus.unlisten(6)
        await bus.publish(saved(6, 1))
        await listening.hears(saved(6, 1))
        bus.unlisten(6)

        async def unsubscribed() -> bool:
            return await subscribers(redis, channel) == 0

        await wait_until(unsubscribed)


async def test_listening_again_right_after_the_last_listener_left_hears_the_page(redis_url):
    async with process(redis_url, "sinpluma:test:pages-again") as listening:
        bus = listening.bus
        await bus.listen(7)
        bus.unlisten(7)
        await bus.listen(7)  # its SUBSCRIBE follows the UNSUBSCRIBE on the same connection
        await bus.publish(saved(7, 1))
        await listening.hears(saved(7, 1))


async def test_after_its_connection_is_reset_the_listener_subscribes_every_page_again(redis_url, redis):
    async with behind_a_proxy(redis_url, "sinpluma:test:pages-reset") as (proxy, listening):
        channels = [listening.bus.page_channel(page_id) for page_id in (8, 9)]
        await listening.bus.listen(8)
        await listening.bus.listen(9)
        await asyncio.to_thread(proxy.set, "reset")

        async def dropped() -> bool:
            return [await subscribers(redis, channel) for channel in channels] == [0, 0]

        await wait_until(dropped)
        await asyncio.to_thread(proxy.set, "pass")

        async def subscribed_again() -> bool:
            return [await subscribers(redis, channel) for channel in channels] == [1, 1]

        await wait_until(subscribed_again)
        await redis.publish(channels[1], encode(saved(9, 1)))
        await listening.hears(saved(9, 1))


async def test_a_listen_cancelled_before_redis_confirmed_it_leaves_no_subscription(redis_url, redis):
    async with behind_a_proxy(redis_url, "sinpluma:test:pages-cancelled") as (proxy, listening):
        bus = listening.bus
        await asyncio.to_thread(proxy.set, "blackhole")
        cancelled = asyncio.create_task(bus.listen(11))
        await asyncio.sleep(0)  # the listen has queued its SUBSCRIBE, and waits for Redis
        cancelled.cancel()
        with pytest.raises(asyncio.CancelledError):
            await cancelled
        await asyncio.to_thread(proxy.set, "pass")
        await bus.listen(12)  # confirmed after whatever the cancelled listen sent
        assert await subscribers(redis, bus.page_channel(11)) == 0


async def test_when_the_listeners_connection_is_killed_the_sessions_are_checked_again(redis_url, redis):
    # Sessions ended while the connection was down must be re-checked once it is back.
    name = f"sinpluma-test-{RUN}"
    resynced = asyncio.Event()

    async def resync() -> None:
        resynced.set()

    async with process(f"{redis_url}?client_name={name}", "sinpluma:test:killed", resync) as listening:
        await listening.bus.listen(13)
        [listener_id] = [
            client["id"] for client in await redis.client_list(_type="pubsub") if client["name"] == name
        ]
        await redis.client_kill_filter(_id=listener_id)
        await asyncio.wait_for(resynced.wait(), HEARD_SECONDS)
        await listening.bus.publish(saved(13, 1))
        await listening.hears(saved(13, 1))
