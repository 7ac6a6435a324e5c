"""The rate limits a process runs with: the policies in force, and the counters they are counted in."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from redis.asyncio import Redis

from sinpluma_async.config import Settings
from sinpluma_async.ratelimits.counting import Counters
from sinpluma_async.ratelimits.memory import ConnectionLimit, MemoryCounters
from sinpluma_async.ratelimits.policies import Policy
from sinpluma_async.ratelimits.shared import RedisCounters, SharedCounters
from sinpluma_async.security.revocation import RedisRevocationStore, RevocationStore


@dataclass(frozen=True, slots=True)
class RateLimits:
    policies: Mapping[str, Policy]
    counters: Counters

    def connection_limit(self, name: str) -> ConnectionLimit:
        """A fresh counter of policy `name` for one connection (ws-save)."""
        return ConnectionLimit(self.policies[name])


def open_rate_limits(
    settings: Settings, redis: Redis | None, revocations: RevocationStore
) -> RateLimits | None:
    """Counters in Redis when it is configured (memory while it is down), in memory otherwise;
    None when SINPLUMA_RATE_LIMITS is `off`."""
    if settings.rate_limits.off:
        return None
    policies = settings.rate_limits.policies()
    if redis is None or not isinstance(revocations, RedisRevocationStore):
        return RateLimits(policies, MemoryCounters(revocations=revocations))
    shared = RedisCounters(
        redis,
        settings.redis_key_prefix,
        revocation_keys=revocations.keys_of,
        recent_write_key=revocations.recent_write_key,
    )
    return RateLimits(policies, SharedCounters(shared, MemoryCounters()))
