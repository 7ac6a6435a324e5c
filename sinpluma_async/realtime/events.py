"""Events every server process hears: page saves and ended sessions.

With Redis, one pub/sub channel carries them to every process (each process filters for its own
sockets); without, they stay in the process. The listener reconnects after a Redis failure and
then asks the hub to re-check its sessions, since revocations may have been missed meanwhile.

Publishing never holds up its caller (a save's ack waits for nobody's notification): events
queue, in order, and one task sends whatever has queued in one pipeline.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Protocol

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.exceptions import RedisError

from sinpluma_async.observability.metrics import EVENTS_DROPPED
from sinpluma_async.realtime.protocol import Event, decode_event, encode

log = logging.getLogger(__name__)

Deliver = Callable[[Event], None]
# Short even at its longest: while the listener is away, page updates reach no other process's
# sockets; an attempt every half second costs Redis nothing.
RECONNECT_SECONDS = (0.1, 0.25, 0.5)
POLL_SECONDS = 1.0
MAX_QUEUED_EVENTS = 10_000
PUBLISH_DRAIN_SECONDS = 2.0


class EventBus(Protocol):
    async def publish(self, event: Event) -> None: ...

    async def run(self, deliver: Deliver, resync: Callable[[], Awaitable[None]]) -> None:
        """Deliver every published event, from any process, until stopped."""

    async def stop(self) -> None: ...


class LocalEventBus:
    """Events within one process, for the embedded defaults."""

    def __init__(self) -> None:
        self._deliver: Deliver | None = None
        self._stopped = asyncio.Event()

    async def publish(self, event: Event) -> None:
        if self._deliver is not None:
            self._deliver(event)

    async def run(self, deliver: Deliver, resync: Callable[[], Awaitable[None]]) -> None:
        self._deliver = deliver
        await self._stopped.wait()

    async def stop(self) -> None:
        self._stopped.set()


class RedisEventBus:
    """Events through one Redis pub/sub channel shared by every server process."""

    def __init__(self, redis: Redis, channel: str) -> None:
        self._redis = redis
        self.channel = channel
        self._stopped = False
        self._pubsub: PubSub | None = None
        self._queued: deque[str] = deque()
        self._publisher: asyncio.Task[None] | None = None
        self._dropped = 0

    async def stop(self) -> None:
        # redis-py's get_message can swallow a task's cancellation, so the loop checks a flag,
        # and closing the connection under it ends the wait at once.
        self._stopped = True
        if self._publisher is not None:
            await asyncio.wait({self._publisher}, timeout=PUBLISH_DRAIN_SECONDS)
        if self._pubsub is not None:
            with contextlib.suppress(RedisError, OSError):
                await self._pubsub.aclose()  # type: ignore[no-untyped-call]

    async def publish(self, event: Event) -> None:
        if len(self._queued) >= MAX_QUEUED_EVENTS:
            # Said once per overflow, not once per event: at hundreds of saves a second a slow
            # Redis would otherwise flood the log.
            if self._dropped == 0:
                log.warning("Event queue full; other processes miss the oldest events until it drains")
            self._dropped += 1
            EVENTS_DROPPED.inc()
            self._queued.popleft()
        self._queued.append(encode(event))
        if self._publisher is None:
            self._publisher = asyncio.create_task(self._publish_queued())

    async def _publish_queued(self) -> None:
        try:
            while self._queued:
                batch = list(self._queued)
                self._queued.clear()
                if self._dropped:
                    log.warning("%d events were dropped while the event queue was full", self._dropped)
                    self._dropped = 0
                try:
                    async with self._redis.pipeline(transaction=False) as pipeline:
                        for payload in batch:
                            pipeline.publish(self.channel, payload)
                        await pipeline.execute()
                except RedisError:
                    log.warning("Could not publish %d events; other processes miss them", len(batch))
        finally:
            self._publisher = None

    async def run(self, deliver: Deliver, resync: Callable[[], Awaitable[None]]) -> None:
        failures = 0
        while not self._stopped:
            pubsub = self._pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self.channel)
                if failures:
                    log.info("Event channel reconnected after %d failures", failures)
                    await resync()
                failures = 0
                while not self._stopped:
                    message = await pubsub.get_message(timeout=POLL_SECONDS)
                    if message is not None and message["type"] == "message":
                        deliver(decode_event(message["data"]))
            except Exception as error:
                # Closing the connection under the listener (stop) surfaces as whatever redis-py
                # raises at that moment, not always a RedisError.
                if self._stopped:
                    return
                failures += 1
                delay = RECONNECT_SECONDS[min(failures, len(RECONNECT_SECONDS)) - 1]
                if isinstance(error, (RedisError, OSError, TimeoutError)):
                    log.warning("Event channel lost (%s); reconnecting in %.1f s", error, delay)
                else:
                    log.exception("Event listener failed; reconnecting in %.1f s", delay)
                await asyncio.sleep(delay)
            finally:
                with contextlib.suppress(RedisError, OSError):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]
