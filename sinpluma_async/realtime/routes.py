from __future__ import annotations

import asyncio
import contextlib

from quart import Blueprint, websocket
from quart_cors import cors_exempt

from sinpluma_async.db.routing import send_reads_to_writer
from sinpluma_async.errors import ServiceUnavailableError, forbidden
from sinpluma_async.observability.exchanges import note_user
from sinpluma_async.ratelimits.http import rate_limit
from sinpluma_async.realtime.close_codes import CloseCode
from sinpluma_async.realtime.connection import EditorConnection, socket_claims
from sinpluma_async.realtime.protocol import AuthMessage, MessageError, read_client_message
from sinpluma_async.runtime import Runtime, current_runtime
from sinpluma_async.security.access import public
from sinpluma_async.security.tokens import Claims

blueprint = Blueprint("realtime", __name__)


async def first_token() -> str | None:
    """The token of the client's first message, which must be `{"type": "auth", "token": ...}`."""
    try:
        message = read_client_message(await websocket.receive())
    except MessageError:
        return None
    return message.token if isinstance(message, AuthMessage) else None


async def authenticated_claims(runtime: Runtime) -> Claims | None:
    """The claims of the token the client authenticates with; None once the socket is closed."""
    seconds = runtime.settings.websocket_auth_seconds
    try:
        async with asyncio.timeout(seconds):
            token = await first_token()
    except TimeoutError:
        await websocket.close(CloseCode.AUTH_TIMEOUT, f"authenticate within {seconds:g} seconds")
        return None
    try:
        claims = await socket_claims(runtime, token)
    except ServiceUnavailableError:
        await websocket.close(CloseCode.TRY_AGAIN_LATER, "the token store is unavailable")
        return None
    if claims is None:
        await websocket.close(CloseCode.UNAUTHORIZED, "invalid or revoked token")
    return claims


async def within_quota(runtime: Runtime, connection: EditorConnection) -> bool:
    """Count the socket against its user's quota; close it (4429) when the user holds enough."""
    try:
        claimed = await runtime.sockets.claim(connection.user_id, connection.id)
    except ServiceUnavailableError:
        await websocket.close(CloseCode.TRY_AGAIN_LATER, "the socket quota is unavailable")
        return False
    if not claimed:
        limit = runtime.sockets.limit
        await websocket.close(CloseCode.TOO_MANY_SOCKETS, f"at most {limit} sockets per user at once")
    return claimed


def origin_allowed(allowed: tuple[str, ...]) -> bool:
    """A browser's Origin must be one the service allows; clients that are not browsers send none."""
    origin = websocket.headers.get("Origin")
    return origin is None or "*" in allowed or origin in allowed


# Public at the HTTP level: the socket authenticates in its first message (tokens never travel in
# the URL), and closes with 4401 or 4408 otherwise. quart-cors would refuse every client without
# an Origin header, so the origin is checked here instead.
@blueprint.websocket("/ws/autosave")
@cors_exempt
@rate_limit("ws-connect")
@public
async def autosave() -> None:
    """The editor's autosave channel (see API.md, "Websocket autosave")."""
    runtime = current_runtime()
    if not origin_allowed(runtime.settings.cors_origins):
        raise forbidden("This origin may not open the autosave channel")
    await websocket.accept()
    claims = await authenticated_claims(runtime)
    if claims is None:
        return
    # An editor's socket reads only what it is about to write on (a page it subscribes to, perhaps
    # created a moment ago): from the writer, as its saves are.
    send_reads_to_writer(True)
    note_user(claims.user_id)
    connection = EditorConnection(runtime, claims)
    if not await within_quota(runtime, connection):
        return
    connection.attach(websocket.send)
    runtime.hub.join(connection)
    connection.start_expiry_watch()
    connection.push(connection.ready_message())
    try:
        while connection.close_code is None:
            await connection.handle(await websocket.receive())
    except asyncio.CancelledError:
        if connection.close_code is None:
            raise  # the client went away, or the server is stopping
    finally:
        runtime.hub.leave(connection)
        await connection.settle()
        await runtime.sockets.release(connection.user_id, connection.id)
    with contextlib.suppress(Exception):
        await websocket.close(connection.close_code)
