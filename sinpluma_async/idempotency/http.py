"""The `idempotent` decorator: a route that honours `Idempotency-Key` (API.md, "Idempotent retries").

Placed below the access and request-validation decorators, so it runs once the caller is known
and a JSON body is read and valid: a request refused before that (401, 400, 413, 415) is refused
again on its retry, and stores nothing. What the route answers, an error of 4xx included, is
stored for `Settings.idempotency_key_seconds` and replayed to a repeat; a 5xx is not stored, and
neither is a 413, whose body was not read to its end and so has no fingerprint.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from functools import partial, wraps
from typing import Any, TypeVar, cast

from quart import Response, current_app, request

from sinpluma_async.errors import ServiceUnavailableError, conflict, payload_too_large, unprocessable
from sinpluma_async.idempotency.fingerprints import FingerprintedBody
from sinpluma_async.idempotency.keys import HEADER, idempotency_key, key_slot
from sinpluma_async.idempotency.records import StoredResponse, is_marker, marker
from sinpluma_async.idempotency.stores import IdempotencyStore
from sinpluma_async.openapi import idempotency_key_header
from sinpluma_async.runtime import current_runtime
from sinpluma_async.security.access import maybe_identity
from sinpluma_async.security.clients import current_client_address

View = TypeVar("View", bound=Callable[..., Awaitable[Any]])
Run = Callable[[], Awaitable[Any]]
log = logging.getLogger(__name__)


def idempotent(view: View) -> View:
    """The route accepts `Idempotency-Key`: a repeat gets the first response again."""

    @wraps(view)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        key = idempotency_key(request.headers.getlist(HEADER))
        if key is None:
            return await view(*args, **kwargs)
        return await _keyed(key, partial(view, *args, **kwargs))

    return idempotency_key_header(cast(View, wrapper))


def caller() -> str:
    """Whose keys these are: the user, or the client's address on a route without one (registration)."""
    identity = maybe_identity()
    return f"user:{identity.user_id}" if identity is not None else f"client:{current_client_address()}"


async def _keyed(key: str, run: Run) -> Response:
    runtime = current_runtime()
    store = runtime.idempotency
    slot = key_slot(caller(), key)
    boundary = request.mimetype_params.get("boundary") if request.mimetype.startswith("multipart/") else None
    body = FingerprintedBody(request.body, boundary=boundary)
    request.body = body
    own = marker(secrets.token_hex(16))
    held = await store.claim(slot, own, runtime.settings.idempotency_marker_seconds)
    if held is not None:
        return await _repeat(held, body)
    kept = False
    try:
        async with _renewed(store, slot, own, runtime.settings.idempotency_marker_seconds):
            response = await _response_of(run)
        record = await _record(response, body)
        if record is not None:
            await _complete(store, slot, own, record, runtime.settings.idempotency_key_seconds)
            kept = True
        return response
    finally:
        if not kept:
            await _release(store, slot, own)


async def _response_of(run: Run) -> Response:
    """What the route answers, its errors rendered as the app renders them."""
    try:
        result = await run()
    except Exception as error:
        result = await current_app.handle_user_exception(error)
    response = await current_app.make_response(result)
    assert isinstance(response, Response), "the app makes Quart responses"
    return response


async def _record(response: Response, body: FingerprintedBody) -> StoredResponse | None:
    """The response to keep for the key, or None when its retry should run again."""
    if response.status_code >= 500 or response.status_code == 413:
        return None
    if not await body.finish(current_app.config["MAX_CONTENT_LENGTH"]):
        return None
    return await StoredResponse.of(response, body.fingerprint(request.method, request.path))


async def _repeat(held: bytes, body: FingerprintedBody) -> Response:
    """The answer to a key already claimed: 409 while in flight, else the replay or a 422."""
    if is_marker(held):
        raise conflict(
            "idempotency_key_in_progress", "A request with this Idempotency-Key is still being processed"
        )
    stored = StoredResponse.decode(held)
    if stored.fingerprint.method == request.method and stored.fingerprint.path == request.path:
        limit: int = current_app.config["MAX_CONTENT_LENGTH"]
        if not await body.finish(limit):
            raise payload_too_large(f"Request bodies may be at most {limit} bytes")
        difference = stored.fingerprint.difference(body.fingerprint(request.method, request.path))
    else:
        difference = "method" if stored.fingerprint.method != request.method else "path"
    if difference is not None:
        raise unprocessable(
            "idempotency_key_reused", f"This Idempotency-Key was used for a request with another {difference}"
        )
    return stored.replay()


@asynccontextmanager
async def _renewed(store: IdempotencyStore, slot: str, own: bytes, seconds: float) -> AsyncIterator[None]:
    """Keep the marker alive while the request runs, however long it takes."""

    async def renew() -> None:
        while True:
            await asyncio.sleep(seconds / 3)
            try:
                await store.renew(slot, own, seconds)
            except ServiceUnavailableError:
                log.warning("Could not renew an idempotency key's in-flight marker")

    renewing = asyncio.create_task(renew())
    try:
        yield
    finally:
        renewing.cancel()


async def _complete(
    store: IdempotencyStore, slot: str, own: bytes, record: StoredResponse, seconds: float
) -> None:
    # The work is done: the client gets its answer even when it cannot be kept for a retry, and
    # the marker then holds the key until it expires.
    try:
        await store.complete(slot, own, record.encode(), seconds)
    except ServiceUnavailableError:
        log.warning("Could not store the response of an idempotent request; its marker will expire")


async def _release(store: IdempotencyStore, slot: str, own: bytes) -> None:
    try:
        await store.release(slot, own)
    except ServiceUnavailableError:
        log.warning("Could not release an idempotency key's in-flight marker; it will expire")
