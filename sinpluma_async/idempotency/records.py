"""What a key's slot holds: a marker while its first request runs, then that request's response.

Both are bytes in one slot, so that claiming a key, finding it in flight and finding it answered
are one operation of the store. A record is a JSON head, a newline, and the response body as sent.
"""

from __future__ import annotations

from dataclasses import dataclass

import orjson
from quart import Response

from sinpluma_async.idempotency.fingerprints import Fingerprint
from sinpluma_async.idempotency.keys import REPLAYED_HEADER

MARKER_TAG = b"M"
RECORD_TAG = b"R"
# The response headers a replay repeats (API.md: status, body, Location, ETag; and the type).
REPLAYED_HEADERS = ("Content-Type", "Location", "ETag")


def marker(token: str) -> bytes:
    """The in-flight marker of the request that holds `token`."""
    return MARKER_TAG + token.encode()


def is_marker(value: bytes) -> bool:
    return value.startswith(MARKER_TAG)


@dataclass(frozen=True, slots=True)
class StoredResponse:
    """The first response to a key, and the request it answered."""

    fingerprint: Fingerprint
    status: int
    headers: dict[str, str]
    body: bytes

    @classmethod
    async def of(cls, response: Response, fingerprint: Fingerprint) -> StoredResponse:
        headers = {name: response.headers[name] for name in REPLAYED_HEADERS if name in response.headers}
        body = await response.get_data(as_text=False)
        return cls(fingerprint, response.status_code, headers, body)

    def encode(self) -> bytes:
        head = {
            "method": self.fingerprint.method,
            "path": self.fingerprint.path,
            "body_sha256": self.fingerprint.body_sha256,
            "status": self.status,
            "headers": self.headers,
        }
        return RECORD_TAG + orjson.dumps(head) + b"\n" + self.body

    @classmethod
    def decode(cls, value: bytes) -> StoredResponse:
        head_bytes, _, body = value.removeprefix(RECORD_TAG).partition(b"\n")
        head = orjson.loads(head_bytes)
        fingerprint = Fingerprint(head["method"], head["path"], head["body_sha256"])
        return cls(fingerprint, head["status"], head["headers"], body)

    def replay(self) -> Response:
        """The stored response again, marked as a replay."""
        response = Response(self.body, status=self.status)
        response.headers.update(self.headers)
        response.headers[REPLAYED_HEADER] = "true"
        return response
