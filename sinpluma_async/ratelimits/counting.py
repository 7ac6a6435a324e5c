"""What is counted and what a count says, whichever store counts it."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

from sinpluma_async.ratelimits.policies import Policy
from sinpluma_async.security.tokens import Claims


@dataclass(frozen=True, slots=True)
class Hit:
    """One call to count under `policy`, in the counter named `key` (`user:7`, `address:...`).

    A conditional hit is counted only when every hit counted with it fits: a login's failure is
    not counted when the login is refused anyway.
    """

    policy: Policy
    key: str
    conditional: bool = False


@dataclass(frozen=True, slots=True)
class Count:
    """Where a hit left its counter: `used` calls in the window, this one included when counted."""

    hit: Hit
    fits: bool
    counted: bool
    used: int
    # Seconds until one more call fits: the 429's Retry-After, and the `t` of the RateLimit header.
    wait: float

    @property
    def policy(self) -> Policy:
        return self.hit.policy

    @property
    def remaining(self) -> int:
        return max(0, self.policy.rate.amount - self.used)


@dataclass(frozen=True, slots=True)
class Tally:
    """The counts of one call, and what the token checked with them read: whether it was revoked,
    and whether its user wrote recently; and the generations asked for, by key.

    `stamp` is the time the calls were counted at, in the clock of the store that counted them
    (`shared`: Redis), which is what a refund removes.
    """

    counts: tuple[Count, ...]
    stamp: float
    shared: bool
    revoked: bool = False
    wrote_recently: bool = False
    generations: Mapping[str, bytes] = field(default_factory=dict)

    @property
    def admitted(self) -> bool:
        return all(count.fits for count in self.counts)

    def nearest(self) -> Count:
        """The count nearest its limit: a refusal with the longest wait, else the fewest remaining."""
        refused = [count for count in self.counts if not count.fits]
        if refused:
            return max(refused, key=lambda count: count.wait)
        return min(self.counts, key=lambda count: (count.remaining, -count.wait))

    def without(self, policies: Collection[str]) -> Tally:
        """The tally once what it counted under these policies is given back."""
        counts = tuple(
            replace(count, counted=False, used=count.used - 1)
            if count.counted and count.policy.name in policies
            else count
            for count in self.counts
        )
        return replace(self, counts=counts)


class Counters(Protocol):
    async def count(
        self, hits: Sequence[Hit], *, token: Claims | None = None, generations: Sequence[str] = ()
    ) -> Tally:
        """Count the hits that fit, and check the token's standing, in one round trip at most.

        A hit that fits is counted unless it is conditional and another hit does not fit.
        `generations` are keys of shared generations (`reader_copies.generations`) read in the same
        round trip, a missing one started; a store that shares none with other processes reads none.
        """

    async def refund(self, tally: Tally, policies: Collection[str]) -> None:
        """Give back what `tally` counted under these policies."""
