"""Revoked token ids (jti) and session ids (sid), kept for the token's remaining lifetime x 1.2."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

from sinpluma_async.errors import ServiceUnavailableError
from sinpluma_async.security.tokens import Claims

log = logging.getLogger(__name__)
TTL_FACTOR = 1.2
# How long a revocation waits for a replica's copy: under the client's 1 s socket timeout.
REPLICA_ACK_MS = 500
# Told the ids of sessions just revoked, so that their live connections can close.
SessionsEnded = Callable[[list[str]], None]
# The message, published on the events channel, that closes these sessions' connections everywhere.
SessionsEndedMessage = Callable[[list[str]], str]


# The key that is set while a user's reads must go to the writer (`freshness/recent.py`).
RecentWriteKey = Callable[[int], str]
WroteRecently = Callable[[int], bool]


@dataclass(frozen=True, slots=True)
class Standing:
    """What a token's check reads in its one round trip: whether the token was revoked, and whether
    its user wrote recently (so that their reads go to the writer: API.md, "Read replicas")."""

    revoked: bool
    wrote_recently: bool = False


def revocation_ttl(seconds_left: float) -> int:
    """How long a revocation must be remembered for a token with this much life left."""
    return max(1, int(seconds_left * TTL_FACTOR) + 1)


class RevocationCheck(Protocol):
    async def standing(self, claims: Claims) -> Standing:
        """Whether the token's jti or its session's sid was revoked, and whether its user wrote
        recently (one round trip)."""


class RevocationStore(RevocationCheck, Protocol):
    async def revoke(
        self, *, jtis: Mapping[str, int] | None = None, sids: Mapping[str, int] | None = None
    ) -> None:
        """Revoke token ids and session ids, each for its TTL in seconds (one round trip)."""

    async def revoked_sessions(self, sids: Collection[str]) -> set[str]:
        """Which of these sessions were revoked (one round trip), for long-lived connections."""


class RedisRevocationStore:
    """Revocations shared by every server process through Redis.

    Revoking sessions also publishes `sessions_ended_message` on `events_channel`, in the pipeline
    that writes the revocations: one round trip closes their connections on every process. A check
    reads the user's `recent_write_key` with the revocation keys.

    With `replicas` above zero (Redis behind Sentinel), a revocation counts only once that many
    replicas hold it (`WAIT`): replication is asynchronous, and a replica promoted after the master
    died must not have forgotten a logout. Without their acknowledgement in REPLICA_ACK_MS the
    revocation answers 503 rather than claim a logout a failover could undo (docs/decisions.md).
    """

    def __init__(
        self,
        redis: Redis,
        prefix: str,
        *,
        events_channel: str,
        sessions_ended_message: SessionsEndedMessage,
        recent_write_key: RecentWriteKey | None = None,
        replicas: int = 0,
    ) -> None:
        self._redis = redis
        self._replicas = replicas
        self.recent_write_key = recent_write_key
        self._jti_prefix = f"{prefix}revoked:jti:"
        self._sid_prefix = f"{prefix}revoked:sid:"
        self._events_channel = events_channel
        self._sessions_ended_message = sessions_ended_message

    def keys_of(self, claims: Claims) -> list[str]:
        """The keys whose presence revokes the token: its jti's and its session's."""
        return [self._jti_prefix + claims.jti, self._sid_prefix + claims.sid]

    async def standing(self, claims: Claims) -> Standing:
        keys = self.keys_of(claims)
        if self.recent_write_key is not None:
            keys.append(self.recent_write_key(claims.user_id))
        try:
            revoked_jti, revoked_sid, *wrote = await self._redis.mget(keys)
        except RedisError:
            raise ServiceUnavailableError("token store") from None
        return Standing(
            revoked_jti is not None or revoked_sid is not None, any(value is not None for value in wrote)
        )

    async def revoked_sessions(self, sids: Collection[str]) -> set[str]:
        if not sids:
            return set()
        ordered = list(sids)
        try:
            values = await self._redis.mget([self._sid_prefix + sid for sid in ordered])
        except RedisError:
            raise ServiceUnavailableError("token store") from None
        return {sid for sid, value in zip(ordered, values, strict=True) if value is not None}

    async def revoke(
        self, *, jtis: Mapping[str, int] | None = None, sids: Mapping[str, int] | None = None
    ) -> None:
        entries = [(self._jti_prefix + jti, ttl) for jti, ttl in (jtis or {}).items()]
        entries += [(self._sid_prefix + sid, ttl) for sid, ttl in (sids or {}).items()]
        if not entries:
            return
        try:
            async with self._redis.pipeline(transaction=False) as pipeline:
                for key, ttl in entries:
                    pipeline.set(key, b"1", ex=ttl)
                if sids:
                    # Live websockets of these sessions, on every process, close on this message.
                    pipeline.publish(self._events_channel, self._sessions_ended_message(list(sids)))
                if self._replicas:
                    pipeline.wait(self._replicas, REPLICA_ACK_MS)
                results = await pipeline.execute()
        except RedisError:
            raise ServiceUnavailableError("token store") from None
        if self._replicas and results[-1] < self._replicas:
            log.warning(
                "A revocation reached %d of %d replicas in time: answered 503", results[-1], self._replicas
            )
            raise ServiceUnavailableError("token store")


class MemoryRevocationStore:
    """Revocations for a single process, used when no Redis is configured."""

    def __init__(
        self, *, on_sessions_ended: SessionsEnded | None = None, wrote_recently: WroteRecently | None = None
    ) -> None:
        self._expiry: dict[str, float] = {}
        self._on_sessions_ended = on_sessions_ended
        self._wrote_recently = wrote_recently

    async def standing(self, claims: Claims) -> Standing:
        revoked = self._live("jti:" + claims.jti) or self._live("sid:" + claims.sid)
        wrote = self._wrote_recently is not None and self._wrote_recently(claims.user_id)
        return Standing(revoked, wrote)

    async def revoked_sessions(self, sids: Collection[str]) -> set[str]:
        return {sid for sid in sids if self._live("sid:" + sid)}

    async def revoke(
        self, *, jtis: Mapping[str, int] | None = None, sids: Mapping[str, int] | None = None
    ) -> None:
        now = time.monotonic()
        self._expiry = {key: until for key, until in self._expiry.items() if until > now}
        for jti, ttl in (jtis or {}).items():
            self._expiry["jti:" + jti] = now + ttl
        for sid, ttl in (sids or {}).items():
            self._expiry["sid:" + sid] = now + ttl
        if sids and self._on_sessions_ended is not None:
            self._on_sessions_ended(list(sids))

    def _live(self, key: str) -> bool:
        until = self._expiry.get(key)
        return until is not None and until > time.monotonic()
