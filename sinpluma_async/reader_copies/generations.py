"""A notebook's generation: a value that changes, once committed, with every write that changes what
readers of the notebook see (a page published, withdrawn, moved or deleted; the notebook's status;
the notebook deleted).

With Redis, generations are shared by every process: `<prefix>generation:<notebook id>`, read in
the round trip that counts the call (`ratelimits/shared.py`), which starts a missing one. Without,
they live in this process. A generation's value is never used twice, so a key that Redis lost and
started again cannot match a copy read under the one before.
"""

from __future__ import annotations

import itertools
import logging
import secrets
from collections.abc import Mapping
from typing import Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)
# A generation nobody reads or renews for this long is dropped; the next read starts a new one.
LIFETIME_MS = 24 * 3600 * 1000

_PROCESS = secrets.token_hex(8)
_SERIAL = itertools.count()


def new_generation() -> bytes:
    """A value no process has given before: this process's random name and a serial number."""
    return f"{_PROCESS}:{next(_SERIAL)}".encode()


class Generations(Protocol):
    def keys_to_read(self, notebook_id: int) -> list[str]:
        """The keys the call's round trip reads for this notebook (none when kept in the process)."""

    def current(self, notebook_id: int, read: Mapping[str, bytes]) -> bytes | None:
        """The notebook's generation, from what the call's round trip `read`; None when unknown."""

    async def renew(self, notebook_id: int) -> None:
        """Start a new generation, after a write that changes what readers see has committed."""


class RedisGenerations:
    """Generations in Redis, shared by every process."""

    def __init__(self, redis: Redis, prefix: str) -> None:
        self._redis = redis
        self._prefix = f"{prefix}generation:"

    def keys_to_read(self, notebook_id: int) -> list[str]:
        return [f"{self._prefix}{notebook_id}"]

    def current(self, notebook_id: int, read: Mapping[str, bytes]) -> bytes | None:
        return read.get(f"{self._prefix}{notebook_id}")

    async def renew(self, notebook_id: int) -> None:
        try:
            await self._redis.set(f"{self._prefix}{notebook_id}", new_generation(), px=LIFETIME_MS)
        except (RedisError, TimeoutError) as error:
            # The write is committed; copies of the notebook's pages outlive it by COPY_SECONDS at most.
            log.warning("Could not renew the generation of notebook %s: %s", notebook_id, error)


class MemoryGenerations:
    """Generations in this process (embedded mode: one process)."""

    def __init__(self) -> None:
        self._current: dict[int, bytes] = {}

    def keys_to_read(self, notebook_id: int) -> list[str]:
        return []

    def current(self, notebook_id: int, read: Mapping[str, bytes]) -> bytes:
        generation = self._current.get(notebook_id)
        if generation is None:
            generation = self._current[notebook_id] = new_generation()
        return generation

    async def renew(self, notebook_id: int) -> None:
        self._current[notebook_id] = new_generation()
