"""An uploaded image as a stream of chunks: a raw body, or the `image` field of a multipart body.

Bytes are counted as they arrive, so the size limit holds for chunked bodies without a
Content-Length too; nothing is buffered beyond the chunk at hand.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

from python_multipart.multipart import MultipartParser, MultipartState, parse_options_header
from quart import Request

from sinpluma_async.errors import APIError, invalid, payload_too_large, unsupported_media_type

FIELD = "image"
# Room for the multipart framing and any small field sent besides the image.
MULTIPART_OVERHEAD_BYTES = 64 * 1024


def too_large(limit: int) -> APIError:
    return payload_too_large(f"Images may be at most {limit} bytes")


def upload_chunks(request: Request, limit: int) -> AsyncIterator[bytes]:
    """The image bytes of the request: 415 for another kind of body, 413 past the limit."""
    mimetype = request.mimetype
    if mimetype == "multipart/form-data":
        return _multipart_field(request, limit)
    if mimetype.startswith("image/"):
        if request.content_length is not None and request.content_length > limit:
            raise too_large(limit)
        return _limited(request.body, limit)
    raise unsupported_media_type(
        "Send the image as multipart/form-data (field `image`) or as a raw image body"
    )


async def _limited(chunks: AsyncIterator[bytes], limit: int) -> AsyncIterator[bytes]:
    received = 0
    async for chunk in chunks:
        received += len(chunk)
        if received > limit:
            raise too_large(limit)
        if chunk:
            yield chunk


async def _multipart_field(request: Request, limit: int) -> AsyncIterator[bytes]:
    _, options = parse_options_header(request.headers.get("Content-Type", ""))
    boundary = options.get(b"boundary")
    if not boundary:
        raise invalid([FIELD], "the multipart body has no boundary")
    body_limit = limit + MULTIPART_OVERHEAD_BYTES
    if request.content_length is not None and request.content_length > body_limit:
        raise too_large(limit)

    field = _ImageField()
    parser = MultipartParser(boundary, callbacks=field.callbacks(), max_size=body_limit)  # type: ignore[arg-type]
    ready = field.ready
    received = image_bytes = 0
    async for chunk in request.body:
        received += len(chunk)
        if received > body_limit:
            raise too_large(limit)
        try:
            parser.write(chunk)
        except Exception as error:  # python-multipart raises its own hierarchy for malformed bodies
            raise invalid([FIELD], f"the multipart body is malformed: {error}") from None
        for piece in ready:
            image_bytes += len(piece)
            if image_bytes > limit:
                raise too_large(limit)
            yield piece
        ready.clear()
    try:
        parser.finalize()
    except Exception as error:
        raise invalid([FIELD], f"the multipart body is malformed: {error}") from None
    # python-multipart's finalize() does not check that the body was complete; without its
    # closing boundary the last part may be cut short, and its final bytes are never handed over.
    if parser.state != MultipartState.END:
        raise invalid([FIELD], "the multipart body ends before its closing boundary")
    if not field.found:
        raise invalid([FIELD], "the multipart body has no `image` field")


class _ImageField:
    """Parser callbacks that keep the data of the first `image` part and drop every other part."""

    def __init__(self) -> None:
        self.ready: list[bytes] = []
        self.found = False
        self._inside = False
        self._header = self._value = self._disposition = b""

    def callbacks(self) -> dict[str, Callable[..., None]]:
        return {
            "on_part_begin": self._part_begin,
            "on_header_field": self._header_field,
            "on_header_value": self._header_value,
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._part_data,
            "on_part_end": self._part_end,
        }

    def _part_begin(self) -> None:
        self._disposition = b""

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._header += data[start:end]

    def _header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def _header_end(self) -> None:
        if self._header.lower() == b"content-disposition":
            self._disposition = self._value
        self._header = self._value = b""

    def _headers_finished(self) -> None:
        _, params = parse_options_header(self._disposition)
        self._inside = params.get(b"name") == FIELD.encode() and not self.found
        self.found = self.found or self._inside

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._inside:
            self.ready.append(data[start:end])

    def _part_end(self) -> None:
        self._inside = False
