"""What a request was: its method, path and the SHA-256 of its body, hashed as the body is read.

The request's body is wrapped, so that an upload is hashed chunk by chunk as the route streams it
to storage, with no second copy of it in memory; a JSON body, read whole before the route runs,
is hashed from the bytes the request already holds. A multipart body is hashed without its
boundary, which browsers pick anew each time they build a form: a form rebuilt with the same
fields and file is the same request.
"""

from __future__ import annotations

import hashlib
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

from quart.wrappers.request import Body


@dataclass(frozen=True, slots=True)
class Fingerprint:
    method: str
    path: str
    body_sha256: str

    def difference(self, other: Fingerprint) -> str | None:
        """What differs between two requests ("method", "path", "body"), None when they are alike."""
        if self.method != other.method:
            return "method"
        if self.path != other.path:
            return "path"
        if self.body_sha256 != other.body_sha256:
            return "body"
        return None


class FingerprintedBody(Body):
    """A request body that hashes every byte handed out, however the route reads it."""

    def __init__(self, body: Body, *, boundary: str | None = None) -> None:
        super().__init__(None, None)
        self._body = body
        self._digest = hashlib.sha256()
        self._size = 0
        self._ended = False
        self._boundary = boundary.encode("latin-1") if boundary else None
        # The end of what was read, held back while it may be the start of a boundary.
        self._held = b""

    async def __anext__(self) -> bytes:
        try:
            chunk = await self._body.__anext__()
        except StopAsyncIteration:
            self._end()
            raise
        self._take(chunk)
        return chunk

    def __await__(self) -> Generator[Any, None, Any]:
        data: bytes = yield from self._body.__await__()
        if not self._ended:
            # What is left of the body after any chunks already iterated, and then nothing more.
            self._take(data)
            self._end()
        return data

    def clear(self) -> None:
        self._body.clear()

    def _take(self, chunk: bytes) -> None:
        self._size += len(chunk)
        if self._boundary is None:
            self._digest.update(chunk)
            return
        *whole, rest = (self._held + chunk).split(self._boundary)
        self._digest.update(b"".join(whole))
        # A boundary cut by the chunk's end starts within its last len(boundary) - 1 bytes.
        cut = max(0, len(rest) - len(self._boundary) + 1)
        self._digest.update(rest[:cut])
        self._held = rest[cut:]

    def _end(self) -> None:
        self._digest.update(self._held)
        self._held = b""
        self._ended = True

    async def finish(self, limit: int) -> bool:
        """Read and hash whatever the route left unread; False, leaving the rest, past `limit` bytes."""
        if self._ended:
            return True
        async for _ in self:
            if self._size > limit:
                return False
        return True

    def fingerprint(self, method: str, path: str) -> Fingerprint:
        """The fingerprint of the request, once `finish` has returned True."""
        assert self._ended, "the body has not been read to its end"
        return Fingerprint(method, path, self._digest.hexdigest())
