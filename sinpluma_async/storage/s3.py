"""Objects in a MinIO/S3 bucket: the only module that imports the S3 client."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import aiohttp
from miniopy_async.api import Minio
from miniopy_async.error import MinioException

from sinpluma_async.errors import ServiceUnavailableError
from sinpluma_async.storage.objects import READ_CHUNK_BYTES, ObjectMissingError, StoredObject

log = logging.getLogger(__name__)

# S3 requires parts of at least 5 MiB; an upload no larger than one part is a single PUT.
PART_BYTES = 5 * 1024 * 1024
CONNECT_SECONDS = 2.0
READ_SECONDS = 10.0
TOTAL_SECONDS = 60.0
# How long after a failed put its object may still land (held by the network), and is deleted.
LATE_LANDING_SECONDS = 60.0
SWEEP_EVERY_SECONDS = 1.0


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
        self._sweeps: set[asyncio.Task[None]] = set()

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
                self._sweep_later(key)
                raise ServiceUnavailableError("object storage") from error
            except asyncio.CancelledError:
                # The client went away mid-upload. The S3 client aborts a multipart upload on an
                # Exception only, so the parts already sent would stay in the bucket: abort here.
                await asyncio.shield(self._abort_unfinished(key))
                raise
        return StoredObject(key, reader.size, (result.etag or key).strip('"'))

    def _sweep_later(self, key: str) -> None:
        """Delete, for a while, the object of a put that failed. A request the network held (a
        partition that heals) can still reach storage after the put gave up, and would leave an
        object that no row names."""
        sweep = asyncio.create_task(self._sweep(key))
        self._sweeps.add(sweep)
        sweep.add_done_callback(self._sweeps.discard)

    async def _sweep(self, key: str) -> None:
        loop = asyncio.get_running_loop()
        until = loop.time() + LATE_LANDING_SECONDS
        while loop.time() < until:
            await asyncio.sleep(SWEEP_EVERY_SECONDS)
            with contextlib.suppress(aiohttp.ClientError, TimeoutError, MinioException):
                await self.client.remove_object(self._bucket, key)

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
        for sweep in list(self._sweeps):
            sweep.cancel()
        if self._session is not None:
            await self._session.close()
