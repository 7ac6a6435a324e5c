"""The pages whose Redis channels this process listens to, and the subscriptions Redis has yet to confirm.

Each page's updates travel on a channel of their own, which a process subscribes to only while one
of its sockets watches the page: a save then reaches just the processes that have a use for it,
instead of every process decoding every save. A listener is counted per page; the channel is
subscribed at the first and unsubscribed at the last.

A socket must not answer `subscribed` before Redis has confirmed the SUBSCRIBE, or a save from
another process in between would be lost to it. Redis confirms each channel of a SUBSCRIBE in
the order they were sent on the connection, so each SUBSCRIBE sent waits in a queue per channel.
"""

from __future__ import annotations

import asyncio
from collections import Counter, deque
from functools import partial


class PageSubscriptions:
    def __init__(self, channel_prefix: str) -> None:
        self._prefix = channel_prefix
        self._listeners: Counter[int] = Counter()
        self._unconfirmed: dict[str, deque[asyncio.Future[None]]] = {}
        # SUBSCRIBE and UNSUBSCRIBE of single channels, in the order they must reach Redis.
        self.commands: deque[tuple[str, str]] = deque()

    def channel_of(self, page_id: int) -> str:
        return f"{self._prefix}{page_id}"

    def add(self, page_id: int) -> asyncio.Future[None] | None:
        """Count a listener; the confirmation it must wait for, or None when Redis has confirmed."""
        self._listeners[page_id] += 1
        channel = self.channel_of(page_id)
        if self._listeners[page_id] == 1:
            self.commands.append(("SUBSCRIBE", channel))
            return self._expect_confirmation(channel)
        waiting = self._unconfirmed.get(channel)
        return waiting[-1] if waiting else None

    def remove(self, page_id: int) -> None:
        """Forget a listener; the last one's going unsubscribes the page's channel."""
        self._listeners[page_id] -= 1
        if self._listeners[page_id] <= 0:
            del self._listeners[page_id]
            self.commands.append(("UNSUBSCRIBE", self.channel_of(page_id)))

    def confirmed(self, channel: str) -> None:
        """Redis has confirmed the oldest SUBSCRIBE of this channel that it had not confirmed."""
        waiting = self._unconfirmed.get(channel)
        if not waiting:
            return
        confirmation = waiting.popleft()
        if not waiting:
            del self._unconfirmed[channel]
        if not confirmation.done():
            confirmation.set_result(None)

    def restart(self) -> list[str]:
        """A new connection: what is queued is moot, and every page's channel is to be subscribed
        afresh. Its waiters now wait for that subscription; the channels are returned."""
        self.commands.clear()
        earlier = self._unconfirmed
        self._unconfirmed = {}
        channels = [self.channel_of(page_id) for page_id in self._listeners]
        for channel in channels:
            confirmation = self._expect_confirmation(channel)
            for waiting in earlier.pop(channel, ()):
                confirmation.add_done_callback(partial(_settle_after, waiting))
        self._settle_all(earlier)
        return channels

    def abandon(self) -> None:
        """Stopping: nobody will confirm anything any more; let every waiter go."""
        self._settle_all(self._unconfirmed)
        self._unconfirmed = {}

    def _expect_confirmation(self, channel: str) -> asyncio.Future[None]:
        confirmation: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._unconfirmed.setdefault(channel, deque()).append(confirmation)
        return confirmation

    @staticmethod
    def _settle_all(unconfirmed: dict[str, deque[asyncio.Future[None]]]) -> None:
        for waiting in unconfirmed.values():
            for confirmation in waiting:
                _settle(confirmation)


def _settle_after(confirmation: asyncio.Future[None], _settled: asyncio.Future[None]) -> None:
    _settle(confirmation)


def _settle(confirmation: asyncio.Future[None]) -> None:
    if not confirmation.done():
        confirmation.set_result(None)
