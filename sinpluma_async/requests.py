"""Requests: strict JSON parsing, and bodies that stream with backpressure and end cleanly.

Quart takes every chunk the server hands it, however slowly the route reads them, so a streamed
upload to slow storage would pile up in memory. Here the connection stops taking chunks while a
streamed body holds more than its high-water mark, and the server's flow control slows the client.

A response sent before its request's body has all arrived (a 413 found while streaming, a 401
or 404 before an upload is read) would otherwise end the connection at once, with the client
still sending: the kernel answers the unread bytes with a reset, and a client that writes its
whole body before reading (httpx's async client, most upload code) lost the response to it.
Here such a response says `Connection: close`, goes out whole, and then the rest of the body is
read and dropped, up to `SINPLUMA_DISCARD_BODY_BYTES` and `DISCARD_SECONDS`, before the
connection ends. A client that asked for `100 Continue` and was never invited sends no body, so
nothing is awaited from it (http11.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import re
from collections.abc import Awaitable, Callable, Generator
from typing import Any

import orjson
from hypercorn.typing import ASGIReceiveCallable, ASGISendCallable, ASGISendEvent
from quart import Quart, Request, current_app
from quart import request as current_request
from quart.asgi import ASGIHTTPConnection
from quart.wrappers.request import Body
from werkzeug.exceptions import RequestEntityTooLarge

from sinpluma_async.config import Settings
from sinpluma_async.errors import bad_request, payload_too_large, unsupported_media_type
from sinpluma_async.http11 import CONTINUE_EXTENSION

HIGH_WATER_BYTES = 64 * 1024
# How long the rest of a refused body may take to arrive; a slower client may see a reset.
DISCARD_SECONDS = 30.0


# orjson keeps integers only within 64 bits and turns longer ones into floats, silently; any
# run of 19 digits sends the text to the standard library, which keeps every integer exact.
# Found by mapping digits to "0" and every other byte to " " (a regex took 130 us on 12 KB).
_DIGITS_TO_ZEROS = bytes(ord("0") if ord("0") <= byte <= ord("9") else ord(" ") for byte in range(256))
_LONG_DIGIT_RUN = b"0" * 19
# A \u escape of a UTF-16 surrogate: it may be half of a pair, or a lone one that no UTF-8
# text (and so no database column) can hold.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise ValueError(f"{text} is out of range")
    return value


def parse_json(raw: bytes) -> Any:
    """Strict JSON from its UTF-8 bytes, for request bodies and websocket messages alike.

    Raises UnicodeDecodeError when the bytes are not UTF-8, ValueError (or RecursionError) when
    they are but not strict JSON: NaN and Infinity, numbers too large for a float, strings with a
    lone surrogate. orjson parses it, several times faster than the standard library (autosaves
    are 5-20 KB each), from the bytes as they arrived.
    """
    if _LONG_DIGIT_RUN not in raw.translate(_DIGITS_TO_ZEROS):
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            raw.decode("utf-8")  # orjson refuses text that is not UTF-8 too: say which it was
            raise
    return _parse_exactly(raw.decode("utf-8"))


def _parse_exactly(text: str) -> Any:
    """The standard library's parse, which keeps integers of any length exact."""
    value = json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float)
    if _SURROGATE_ESCAPE.search(text):
        try:
            json.dumps(value, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("a string holds a lone surrogate") from None
    return value


class StreamingBody(Body):
    """A body that asks for no more data while its buffer is full, until a route awaits it whole.

    The limit holds from the first byte: a route that streams its body often checks the caller
    and the database first, and the body must not pile up meanwhile. The first read invites a
    client waiting for `100 Continue` to send the body.
    """

    def __init__(self, expected_content_length: int | None, max_content_length: int | None) -> None:
        super().__init__(expected_content_length, max_content_length)
        self.invite: Callable[[], Awaitable[None]] | None = None
        self._whole = False
        self._room = asyncio.Event()
        self._room.set()
        self._received = 0
        self._ended = False
        self._discard_until: int | None = None
        self._settled = asyncio.Event()

    def __await__(self) -> Generator[Any, None, Any]:
        self._whole = True
        self._room.set()
        yield from self._ask_for_the_body().__await__()
        return (yield from super().__await__())

    async def __anext__(self) -> bytes:
        await self._ask_for_the_body()
        try:
            return await super().__anext__()
        finally:
            self._room.set()

    async def _ask_for_the_body(self) -> None:
        if self.invite is not None:
            invite, self.invite = self.invite, None
            await invite()

    @property
    def arrived(self) -> bool:
        """Whether the client has sent the whole body (it may have been refused before that)."""
        return self._ended

    def append(self, data: bytes) -> None:
        self._received += len(data)
        if self._discard_until is not None:
            if self._received > self._discard_until:
                self._settled.set()
            return
        super().append(data)
        if not self._whole and len(self._data) >= HIGH_WATER_BYTES:
            self._room.clear()

    def end(self) -> None:
        """The client has sent the last of the body."""
        self._ended = True
        self.set_complete()
        self._settled.set()

    async def wait_for_room(self) -> None:
        await self._room.wait()

    def refuse_beyond(self, limit: int) -> None:
        """Hold at most `limit` bytes: past them, awaiting the body raises RequestEntityTooLarge."""
        if self._max_content_length is None or limit < self._max_content_length:
            self._max_content_length = limit
        if len(self._data) > limit and self._must_raise is None:
            self._must_raise = RequestEntityTooLarge()
            self.set_complete()

    async def discard_rest(self, most_bytes: int, seconds: float) -> None:
        """Read and drop the rest of the body: until it ends, `most_bytes` more came, or `seconds` passed.

        A client that was never invited to send it (it waits for `100 Continue`) sends nothing.
        """
        if self.invite is not None:
            return
        self._discard_until = self._received + most_bytes
        self._data.clear()
        self._room.set()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._settled.wait()


class StreamingHTTPConnection(ASGIHTTPConnection):
    def _create_request_from_scope(self, send: ASGISendCallable) -> Request:
        request = super()._create_request_from_scope(send)
        extensions: dict[str, Any] = self.scope.get("extensions") or {}
        invite = extensions.get(CONTINUE_EXTENSION)
        body = request.body
        expects = request.headers.get("Expect", "").lower() == "100-continue"
        if invite is not None and expects and isinstance(body, StreamingBody):
            body.invite = invite
        return request

    async def handle_messages(self, request: Request, receive: ASGIReceiveCallable) -> None:
        body = request.body
        while True:
            if isinstance(body, StreamingBody):
                await body.wait_for_room()
            message = await receive()
            if message["type"] == "http.request":
                body.append(message.get("body", b""))
                if message.get("more_body", False):
                    continue
                if isinstance(body, StreamingBody):
                    body.end()
                else:
                    body.set_complete()
            elif message["type"] == "http.disconnect":
                return

    async def handle_request(self, request: Request, send: ASGISendCallable) -> None:
        body = request.body
        if not isinstance(body, StreamingBody):
            return await super().handle_request(request, send)
        early = False

        async def send_then_discard(message: ASGISendEvent) -> None:
            nonlocal early
            if message["type"] == "http.response.start" and not body.arrived:
                early = True
                message = {**message, "headers": [*message["headers"], (b"connection", b"close")]}
            elif early and message["type"] == "http.response.body" and not message.get("more_body"):
                await body.discard_rest(self.app.config["SINPLUMA_DISCARD_BODY_BYTES"], DISCARD_SECONDS)
            await send(message)

        await super().handle_request(request, send_then_discard)


async def refuse_bodies_over_the_ceiling() -> None:
    """413 for a declared body over the app's ceiling, before any of it is read, on every route."""
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    declared = current_request.content_length
    if declared is not None and limit is not None and declared > limit:
        raise payload_too_large(f"Request bodies may be at most {limit} bytes")


class ApiRequest(Request):
    body_class = StreamingBody

    async def get_json(self, force: bool = False, silent: bool = False, cache: bool = True) -> Any:
        """The JSON body: 415 unless sent as JSON, 400 unless UTF-8 JSON, 413 when too large."""
        if not (force or self.is_json):
            if silent:
                return None
            raise unsupported_media_type("Send the body as application/json")
        limit: int = current_app.config["SINPLUMA_MAX_JSON_BYTES"]
        if self.content_length is not None and self.content_length > limit:
            raise payload_too_large(f"JSON bodies may be at most {limit} bytes")
        if isinstance(self.body, StreamingBody):
            self.body.refuse_beyond(limit)
        try:
            raw = await self.get_data(cache=cache, as_text=False)
        except RequestEntityTooLarge:
            raise payload_too_large(f"JSON bodies may be at most {limit} bytes") from None
        assert isinstance(raw, bytes)
        try:
            return parse_json(raw)
        except UnicodeDecodeError:
            if silent:
                return None
            raise bad_request("The body is not valid UTF-8") from None
        except (ValueError, RecursionError):
            if silent:
                return None
            raise bad_request("The body is not valid JSON") from None


def install_request_bodies(app: Quart, settings: Settings) -> None:
    """Requests with strict JSON and streaming bodies, and the limits they are read under."""
    app.request_class = ApiRequest
    app.asgi_http_class = StreamingHTTPConnection
    # The ceiling for any body; JSON and image routes enforce their own, smaller limits as they read.
    app.config.update(MAX_CONTENT_LENGTH=max(settings.max_json_bytes, settings.max_image_bytes) + 2**16)
    app.config["SINPLUMA_MAX_JSON_BYTES"] = settings.max_json_bytes
    app.config["SINPLUMA_DISCARD_BODY_BYTES"] = settings.discard_body_bytes
    app.before_request(refuse_bodies_over_the_ceiling)
