"""Object storage: MinIO/S3 when configured, a local directory otherwise.

This is the only module that imports the S3 client. Both backends take a stream of chunks, so an
upload is never held whole in memory by this module (the S3 client buffers at most one part, and
at most two uploads to S3 run at once).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import aiohttp
from miniopy_async.api import Minio
from miniopy_async.error import MinioException

from sinpluma_async.errors import ServiceUnavailableError

log = logging.getLogger(__name__)

READ_CHUNK_BYTES = 64 * 1024
# Chunks are written a few at a time: one thread hop per 64 KiB chunk costs the event loop more
# than the write itself.
WRITE_BATCH_BYTES = 256 * 1024
# S3 requires parts of at least 5 MiB; an upload no larger than one part is a single PUT.
PART_BYTES = 5 * 1024 * 1024
CONNECT_SECONDS = 2.0
READ_SECONDS = 10.0
TOTAL_SECONDS = 60.0


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


class ChunkReader:
    """The file-like `read()` the S3 client wants, over an async iterator of chunks."""

    def __init__(self, chunks: AsyncIterator[bytes]) -> None:
        self._chunks = chunks
        self._pending: list[bytes] = []
        self._pending_size = 0
        self.size = 0

    async def read(self, size: int = -1) -> bytes:
        # Chunks are gathered in a list and joined once, and only the chunk that straddles the
        # end of the part is split: a part (5 MiB) is copied once, not once per chunk.
        while size < 0 or self._pending_size < size:
            chunk = await anext(self._chunks, None)
            if chunk is None:
                break
            self._pending.append(chunk)
            self._pending_size += len(chunk)
        rest = b""
        if 0 <= size < self._pending_size:
            last = self._pending.pop()
            keep = len(last) - (self._pending_size - size)
            self._pending.append(last[:keep])
            rest = last[keep:]
        data = b"".join(self._pending)
        self._pending, self._pending_size = ([rest], len(rest)) if rest else ([], 0)
        self.size += len(data)
        return data


class S3ObjectStore:
    """Objects in a MinIO/S3 bucket, with short timeouts so that an outage is a quick 503."""

    def __init__(
        self,
        *,
        endpoint: str,
        access_key: str,
        secret_key: str,
        secure: bool,
        bucket: str,
        max_uploads: int = 2,
    ) -> None:
        self._endpoint, self._access_key, self._secret_key = endpoint, access_key, secret_key
        self._secure, self._bucket = secure, bucket
        self._client: Minio | None = None
        self._session: aiohttp.ClientSession | None = None
        self._bucket_ready = False
        # The S3 client holds up to one part (5 MiB) per upload in memory: bound how many run at once.
        self._uploads = asyncio.Semaphore(max_uploads)

    async def start(self) -> None:
        timeout = aiohttp.ClientTimeout(total=TOTAL_SECONDS, connect=CONNECT_SECONDS, sock_read=READ_SECONDS)
        self._session = aiohttp.ClientSession(timeout=timeout)
        self._client = Minio(
            self._endpoint,
            access_key=self._access_key,
            secret_key=self._secret_key,
            secure=self._secure,
            session=self._session,
        )
        try:
            await self._ensure_bucket()
        except ServiceUnavailableError:
            log.warning("Object storage at %s is unavailable; will retry on first use", self._endpoint)

    @property
    def client(self) -> Minio:
        if self._client is None:
            raise RuntimeError("object store not started")
        return self._client

    async def _ensure_bucket(self) -> None:
        if self._bucket_ready:
            return
        try:
            if not await self.client.bucket_exists(self._bucket):
                await self.client.make_bucket(self._bucket)
        except (aiohttp.ClientError, TimeoutError, MinioException) as error:
            raise ServiceUnavailableError("object storage") from error
        self._bucket_ready = True

    async def put(self, key: str, chunks: AsyncIterator[bytes], content_type: str) -> StoredObject:
        await self._ensure_bucket()
        reader = ChunkReader(chunks)
        async with self._uploads:
            try:
                result = await self.client.put_object(
                    self._bucket,
                    key,
                    reader,  # type: ignore[arg-type]  # it awaits read() when it returns a coroutine
                    length=-1,
                    content_type=content_type,
                    part_size=PART_BYTES,
                    num_parallel_uploads=1,
                )
            except (aiohttp.ClientError, TimeoutError, MinioException) as error:
                raise ServiceUnavailableError("object storage") from error
            except asyncio.CancelledError:
                # The client went away mid-upload. The S3 client aborts a multipart upload on an
                # Exception only, so the parts already sent would stay in the bucket: abort here.
                await asyncio.shield(self._abort_unfinished(key))
                raise
        return StoredObject(key, reader.size, (result.etag or key).strip('"'))

    async def _abort_unfinished(self, key: str) -> None:
        """Abort the multipart uploads still open for the key; a failure is logged, not raised."""
        try:
            listing = await self.client._list_multipart_uploads(self._bucket, prefix=key)
            for upload in listing.uploads:
                if upload.object_name == key and upload.upload_id:
                    await self.client._abort_multipart_upload(self._bucket, key, upload.upload_id)
        except Exception:
            log.exception("Could not abort the unfinished upload of %s; its parts are orphaned", key)

    async def read(self, key: str) -> AsyncIterator[bytes]:
        try:
            response = await self.client.get_object(self._bucket, key)
        except MinioException as error:
            if getattr(error, "code", None) == "NoSuchKey":
                raise ObjectMissingError(key) from None
            raise ServiceUnavailableError("object storage") from error
        except (aiohttp.ClientError, TimeoutError) as error:
            raise ServiceUnavailableError("object storage") from error
        try:
            async for chunk in response.content.iter_chunked(READ_CHUNK_BYTES):
                yield chunk
        finally:
            response.release()

    async def delete(self, key: str) -> None:
        try:
            await self.client.remove_object(self._bucket, key)
        except (aiohttp.ClientError, TimeoutError, MinioException) as error:
            raise ServiceUnavailableError("object storage") from error

    async def ping(self) -> None:
        self._bucket_ready = False
        await self._ensure_bucket()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
