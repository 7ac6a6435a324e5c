"""Objects as files under a directory: the embedded default."""

from __future__ import annotations

import asyncio
import hashlib
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

from sinpluma_async.errors import ServiceUnavailableError
from sinpluma_async.storage.objects import READ_CHUNK_BYTES, ObjectMissingError, StoredObject

# Chunks are written a few at a time: one thread hop per 64 KiB chunk costs the event loop more
# than the write itself.
WRITE_BATCH_BYTES = 256 * 1024


class LocalObjectStore:
    """Objects as files under a directory, written to a temporary name and renamed when complete."""

    def __init__(self, root: Path) -> None:
        self._root = root
        self._incoming = root / ".incoming"

    async def start(self) -> None:
        await asyncio.to_thread(self._incoming.mkdir, parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        path = (self._root / key).resolve()
        if self._root.resolve() not in path.parents:
            raise ValueError(f"object key escapes the store: {key!r}")
        return path

    async def put(self, key: str, chunks: AsyncIterator[bytes], content_type: str) -> StoredObject:
        target = self._path(key)
        partial = self._incoming / uuid.uuid4().hex
        digest, size = hashlib.md5(usedforsecurity=False), 0
        handle = await asyncio.to_thread(partial.open, "wb")

        def write(batch: list[bytes]) -> None:
            # Hashing beside the write keeps both off the event loop (hashlib releases the GIL).
            for chunk in batch:
                digest.update(chunk)
                handle.write(chunk)

        batch: list[bytes] = []
        batched = 0
        try:
            async for chunk in chunks:
                size += len(chunk)
                batch.append(chunk)
                batched += len(chunk)
                if batched >= WRITE_BATCH_BYTES:
                    await asyncio.to_thread(write, batch)
                    batch, batched = [], 0
            await asyncio.to_thread(write, batch)
            await asyncio.to_thread(handle.close)
            await asyncio.to_thread(target.parent.mkdir, parents=True, exist_ok=True)
            await asyncio.to_thread(os.replace, partial, target)
        except BaseException:
            await asyncio.to_thread(handle.close)
            await asyncio.to_thread(partial.unlink, missing_ok=True)
            raise
        return StoredObject(key, size, digest.hexdigest())

    async def read(self, key: str) -> AsyncIterator[bytes]:
        try:
            handle = await asyncio.to_thread(self._path(key).open, "rb")
        except FileNotFoundError:
            raise ObjectMissingError(key) from None
        try:
            while chunk := await asyncio.to_thread(handle.read, READ_CHUNK_BYTES):
                yield chunk
        finally:
            await asyncio.to_thread(handle.close)

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self._path(key).unlink, missing_ok=True)

    async def ping(self) -> None:
        if not await asyncio.to_thread(os.access, self._root, os.W_OK):
            raise ServiceUnavailableError("object storage")

    async def close(self) -> None:
        return None
