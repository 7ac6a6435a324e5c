"""Moving windows in this process: without Redis, and while Redis does not answer.

A window holds the time of every call it counted within its last `seconds`, so no span of that
length ever holds more than the limit, across any edge. The same algorithm runs in Redis
(`shared.py`), so both stores answer alike.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Collection, Sequence

from sinpluma_async.ratelimits.counting import Count, Hit, Tally
from sinpluma_async.ratelimits.policies import Policy, Rate
from sinpluma_async.security.revocation import RevocationCheck, Standing
from sinpluma_async.security.tokens import Claims

Clock = Callable[[], float]
# Windows left empty are dropped this often, so that counters of callers who left do not pile up.
SWEEP_SECONDS = 60.0


class MovingWindow:
    """The times of the calls counted within the last `rate.seconds`, oldest first."""

    __slots__ = ("rate", "stamps")

    def __init__(self, rate: Rate) -> None:
        self.rate = rate
        self.stamps: deque[float] = deque()

    def expire(self, now: float) -> int:
        """Forget the calls that left the window; how many are left."""
        horizon = now - self.rate.seconds
        while self.stamps and self.stamps[0] <= horizon:
            self.stamps.popleft()
        return len(self.stamps)

    def wait(self, now: float) -> float:
        """Seconds until one more call fits than fits now (0 when nothing is counted)."""
        used = len(self.stamps)
        if not used:
            return 0.0
        # To the millisecond, as Redis's counters count: `stamp + 60 - stamp` is 60.00000000000045
        # for some clock readings, which would round up to 61 whole seconds.
        return round(self.stamps[max(0, used - self.rate.amount)] + self.rate.seconds - now, 3)


class ConnectionLimit:
    """A policy counted for one connection only (ws-save), in the connection's own window."""

    def __init__(self, policy: Policy, clock: Clock = time.monotonic) -> None:
        self.amount = policy.rate.amount
        self.per = policy.rate.per()
        self._window = MovingWindow(policy.rate)
        self._clock = clock

    def admit(self) -> bool:
        """Count one more call if it fits."""
        now = self._clock()
        if self._window.expire(now) >= self.amount:
            return False
        self._window.stamps.append(now)
        return True


class MemoryCounters:
    """Every counter of this process; `revocations` are checked with them (embedded mode)."""

    def __init__(self, *, revocations: RevocationCheck | None = None, clock: Clock = time.monotonic) -> None:
        self._windows: dict[str, MovingWindow] = {}
        self._revocations = revocations
        self._clock = clock
        self._next_sweep = clock() + SWEEP_SECONDS

    async def count(
        self, hits: Sequence[Hit], *, token: Claims | None = None, generations: Sequence[str] = ()
    ) -> Tally:
        standing = Standing(revoked=False)
        if token is not None and self._revocations is not None:
            standing = await self._revocations.standing(token)
        # Nothing below awaits: the hits of one call are counted without another call in between.
        now = self._clock()
        self._sweep(now)
        windows = [self._window(hit) for hit in hits]
        fits = [
            window.expire(now) < hit.policy.rate.amount for hit, window in zip(hits, windows, strict=True)
        ]
        counts = []
        for hit, window, fit in zip(hits, windows, fits, strict=True):
            counted = fit and (all(fits) or not hit.conditional)
            if counted:
                window.stamps.append(now)
            counts.append(Count(hit, fit, counted, len(window.stamps), window.wait(now)))
        return Tally(
            tuple(counts), now, shared=False, revoked=standing.revoked, wrote_recently=standing.wrote_recently
        )

    async def refund(self, tally: Tally, policies: Collection[str]) -> None:
        for count in tally.counts:
            window = self._windows.get(_name(count.hit))
            counted = count.counted and count.policy.name in policies
            if counted and window is not None and tally.stamp in window.stamps:
                window.stamps.remove(tally.stamp)

    def _window(self, hit: Hit) -> MovingWindow:
        # A process's rates do not change while it runs: a counter keeps the rate it began with.
        name = _name(hit)
        window = self._windows.get(name)
        if window is None:
            window = self._windows[name] = MovingWindow(hit.policy.rate)
        return window

    def _sweep(self, now: float) -> None:
        if now < self._next_sweep:
            return
        self._next_sweep = now + SWEEP_SECONDS
        for name in [name for name, window in self._windows.items() if not window.expire(now)]:
            del self._windows[name]


def _name(hit: Hit) -> str:
    return f"{hit.policy.name}:{hit.key}"
