"""Events between server processes: page saves and ended sessions.

With Redis, ended sessions go out on one pub/sub channel that every process hears, and a page's
saves on a channel of the page's own, which only the processes watching the page listen to (see
page_channels); without Redis, events stay in the process. The listener reconnects after a Redis
failure, subscribes again to every page it listens to, and then asks the hub to re-check its
sessions, since revocations may have been missed meanwhile.

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
from sinpluma_async.realtime.page_channels import PageSubscriptions
from sinpluma_async.realtime.protocol import Event, decode_event, encode

log = logging.getLogger(__name__)

Deliver = Callable[[Event], None]
# Short even at its longest: while the listener is away, page updates reach no other process's
# sockets; an attempt every half second costs Redis nothing.
RECONNECT_SECONDS = (0.1, 0.25, 0.5)
POLL_SECONDS = 1.0
MAX_QUEUED_EVENTS = 10_000
PUBLISH_DRAIN_SECONDS = 2.0
# A subscriber waits this long at most for Redis to confirm a page's channel; past it, the page's
# updates from other processes reach it once the listener (re)connects.
CONFIRM_SECONDS = 2.0


class EventBus(Protocol):
    async def publish(self, event: Event) -> None: ...

    async def listen(self, page_id: int) -> None:
        """Count a listener of the page; once this returns, its events from any process arrive."""

    def unlisten(self, page_id: int) -> None:
        """Forget one listener of the page; with the last, its events stop coming here."""

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

    async def listen(self, page_id: int) -> None:
        return None  # every event of the process is delivered here already

    def unlisten(self, page_id: int) -> None:
        return None

    async def run(self, deliver: Deliver, resync: Callable[[], Awaitable[None]]) -> None:
        self._deliver = deliver
        await self._stopped.wait()

    async def stop(self) -> None:
        self._stopped.set()


class RedisEventBus:
    """Events through Redis pub/sub: one channel for sessions, one per watched page for its saves."""

    def __init__(self, redis: Redis, channel: str) -> None:
        self._redis = redis
        self.channel = channel
        self._stopped = False
        self._pubsub: PubSub | None = None
        # The subscription that SUBSCRIBE and UNSUBSCRIBE may be sent on: set once it is listening.
        self._listening: PubSub | None = None
        self._pages = PageSubscriptions(f"{channel}:page:")
        self._subscriber: asyncio.Task[None] | None = None
        self._queued: deque[tuple[str, str]] = deque()
        self._publisher: asyncio.Task[None] | None = None
        self._dropped = 0

    def page_channel(self, page_id: int) -> str:
        return self._pages.channel_of(page_id)

    async def stop(self) -> None:
        # redis-py's get_message can swallow a task's cancellation, so the loop checks a flag,
        # and closing the connection under it ends the wait at once.
        self._stopped = True
        self._pages.abandon()
        if self._subscriber is not None:
            self._subscriber.cancel()
        if self._publisher is not None:
            await asyncio.wait({self._publisher}, timeout=PUBLISH_DRAIN_SECONDS)
        if self._pubsub is not None:
            with contextlib.suppress(RedisError, OSError):
                await self._pubsub.aclose()  # type: ignore[no-untyped-call]

    async def listen(self, page_id: int) -> None:
        confirmation = self._pages.add(page_id)
        if confirmation is None or self._stopped:
            return
        self._send_subscriptions()
        try:
            await asyncio.wait_for(asyncio.shield(confirmation), CONFIRM_SECONDS)
        except TimeoutError:
            log.warning(
                "Redis did not confirm page %d's channel in time; its updates follow once it does", page_id
            )
        except BaseException:
            self.unlisten(page_id)  # a listen cancelled while it waits counts for nothing
            raise

    def unlisten(self, page_id: int) -> None:
        self._pages.remove(page_id)
        self._send_subscriptions()

    def _send_subscriptions(self) -> None:
        if self._subscriber is None and self._listening is not None:
            self._subscriber = asyncio.create_task(self._subscribe_queued())

    async def _subscribe_queued(self) -> None:
        try:
            while self._pages.commands and (pubsub := self._listening) is not None:
                command, channel = self._pages.commands.popleft()
                try:
                    if command == "SUBSCRIBE":
                        await pubsub.subscribe(channel)
                    else:
                        await pubsub.unsubscribe(channel)
                except (RedisError, OSError) as error:
                    # The listener fails on the same connection, and subscribes to every page again.
                    log.warning("Could not %s %s (%s)", command, channel, error)
        finally:
            self._subscriber = None

    async def publish(self, event: Event) -> None:
        if len(self._queued) >= MAX_QUEUED_EVENTS:
            # Said once per overflow, not once per event: at hundreds of saves a second a slow
            # Redis would otherwise flood the log.
            if self._dropped == 0:
                log.warning("Event queue full; other processes miss the oldest events until it drains")
            self._dropped += 1
            EVENTS_DROPPED.inc()
            self._queued.popleft()
        channel = self.page_channel(event["page_id"]) if event["kind"] == "page.updated" else self.channel
        self._queued.append((channel, encode(event)))
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
                        for channel, payload in batch:
                            pipeline.publish(channel, payload)
                        await pipeline.execute()
                except RedisError:
                    log.warning("Could not publish %d events; other processes miss them", len(batch))
        finally:
            self._publisher = None

    async def run(self, deliver: Deliver, resync: Callable[[], Awaitable[None]]) -> None:
        failures = 0
        while not self._stopped:
            pubsub = self._pubsub = self._redis.pubsub()
            try:
                await self._subscribe_all(pubsub)
                if failures:
                    log.info("Event channel reconnected after %d failures", failures)
                    await resync()
                failures = 0
                await self._hear(pubsub, deliver)
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
                self._listening = None
                with contextlib.suppress(RedisError, OSError):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]

    async def _subscribe_all(self, pubsub: PubSub) -> None:
        """The sessions' channel and every listened page's, in one SUBSCRIBE; then what queued
        meanwhile (a page watched or left while it was sent) follows on the same connection."""
        await pubsub.subscribe(self.channel, *self._pages.restart())
        self._listening = pubsub
        self._send_subscriptions()

    async def _hear(self, pubsub: PubSub, deliver: Deliver) -> None:
        while not self._stopped:
            message = await pubsub.get_message(timeout=POLL_SECONDS)
            if message is None:
                continue
            if message["type"] == "message":
                deliver(decode_event(message["data"]))
            elif message["type"] == "subscribe":
                self._pages.confirmed(message["channel"].decode())
