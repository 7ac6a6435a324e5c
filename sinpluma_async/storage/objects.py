"""What every object store offers, and the object keys and clean-up the services share."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol

log = logging.getLogger(__name__)

READ_CHUNK_BYTES = 64 * 1024


class ObjectMissingError(LookupError):
    """The object is not in storage."""


@dataclass(frozen=True, slots=True)
class StoredObject:
    key: str
    size: int
    etag: str


class ObjectStore(Protocol):
    async def start(self) -> None:
        """Make the bucket or directory exist; a dependency that is down is retried on first use."""

    async def put(self, key: str, chunks: AsyncIterator[bytes], content_type: str) -> StoredObject:
        """Store the chunks under the key; nothing is left behind if the chunks raise."""

    def read(self, key: str) -> AsyncIterator[bytes]:
        """The object's bytes in chunks; ObjectMissingError if it is not there."""

    async def delete(self, key: str) -> None:
        """Remove the object; a missing object is not an error."""

    async def ping(self) -> None:
        """Raise ServiceUnavailableError unless storage answers."""

    async def close(self) -> None: ...


def new_object_key(prefix: str) -> str:
    return f"{prefix}/{uuid.uuid4().hex}"


async def discard_object(store: ObjectStore, key: str) -> None:
    """Delete an object whose row is gone; a failure leaves an orphan object, never a broken row."""
    try:
        await store.delete(key)
    except Exception:
        log.exception("Could not delete object %s; it is orphaned", key)
