"""One editor's socket for its whole life: renewing its token, watching pages, its outbox, its expiry."""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import time
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sinpluma_async.contract import format_timestamp
from sinpluma_async.errors import APIError, UnauthorizedError
from sinpluma_async.pages.reading import read_draft
from sinpluma_async.realtime.close_codes import CloseCode
from sinpluma_async.realtime.page_writer import EditorSaves
from sinpluma_async.realtime.protocol import (
    AuthMessage,
    ErrorMessage,
    MessageError,
    PingMessage,
    PongMessage,
    ReadyMessage,
    SaveMessage,
    ServerMessage,
    SubscribedMessage,
    SubscribeMessage,
    UnsubscribeMessage,
    encode,
    read_client_message,
)
from sinpluma_async.security.access import verify_access_token
from sinpluma_async.security.tokens import Claims

if TYPE_CHECKING:
    from sinpluma_async.runtime import Runtime

log = logging.getLogger(__name__)

MAX_QUEUED_MESSAGES = 1000
_ids = itertools.count(1)
PROCESS = f"{os.getpid()}-{os.urandom(3).hex()}"


def expiry_of(claims: Claims) -> str:
    return format_timestamp(datetime.fromtimestamp(claims.expires_at, UTC))


class EditorConnection:
    def __init__(self, runtime: Runtime, claims: Claims) -> None:
        self.id = f"{PROCESS}:{next(_ids)}"
        self.runtime = runtime
        self.claims = claims
        self.watched: set[int] = set()
        self.close_code: int | None = None
        self.saves = EditorSaves(
            db=runtime.database,
            announcer=runtime.announcer,
            recent_writes=runtime.recent_writes,
            viewer_id=claims.user_id,
            origin=self.id,
            push=self.push,
            save_limit=runtime.rate_limits.connection_limit("ws-save") if runtime.rate_limits else None,
        )
        # An idle socket holds no task of its own besides its handler: messages are sent by a
        # task that lives only while there are some, and expiry is a timer.
        self._handler: asyncio.Task[Any] | None = None
        self._send: Callable[[str], Awaitable[None]] | None = None
        self._outbox: deque[str] = deque()
        self._sender: asyncio.Task[None] | None = None
        self._expiry: asyncio.TimerHandle | None = None

    @property
    def user_id(self) -> int:
        return self.claims.user_id

    @property
    def session_id(self) -> str:
        return self.claims.sid

    def attach(self, send: Callable[[str], Awaitable[None]]) -> None:
        """Bind to the running handler task and the socket's send."""
        self._handler = asyncio.current_task()
        self._send = send

    def push(self, message: ServerMessage) -> None:
        """Queue a message for the client; a client too slow to read is let go."""
        self.push_encoded(encode(message))

    def push_encoded(self, text: str) -> None:
        """Queue a message already encoded, such as one sent to every watcher of a page."""
        if len(self._outbox) >= MAX_QUEUED_MESSAGES:
            self.end(CloseCode.TOO_SLOW)
            return
        self._outbox.append(text)
        if self._sender is None and self._send is not None:
            self._sender = asyncio.create_task(self._flush(self._send))

    async def _flush(self, send: Callable[[str], Awaitable[None]]) -> None:
        try:
            while self._outbox:
                await send(self._outbox.popleft())
        finally:
            self._sender = None

    def end(self, code: int) -> None:
        """Close the socket with this code: the handler is interrupted wherever it waits."""
        if self.close_code is None:
            self.close_code = code
            if self._handler is not None and self._handler is not asyncio.current_task():
                self._handler.cancel()

    def ready_message(self) -> ReadyMessage:
        return ReadyMessage(user_id=self.user_id, expires_at=expiry_of(self.claims))

    def start_expiry_watch(self) -> None:
        if self._expiry is not None:
            self._expiry.cancel()
        delay = max(0.0, self.claims.expires_at - time.time())
        self._expiry = asyncio.get_running_loop().call_later(delay, self.end, CloseCode.UNAUTHORIZED)

    async def settle(self) -> None:
        """Let saves already being written finish, and their acks go out, before the socket goes."""
        if self._expiry is not None:
            self._expiry.cancel()
        await self.saves.settle()
        if self._sender is not None:
            await asyncio.gather(self._sender, return_exceptions=True)

    async def handle(self, raw: str | bytes) -> None:
        """Answer one client message; a bad one gets an `error`, and the socket stays open."""
        try:
            message = read_client_message(raw)
            if isinstance(message, SaveMessage):
                self.saves.accept(message)
            elif isinstance(message, SubscribeMessage):
                await self._subscribe(message.page_id)
            elif isinstance(message, UnsubscribeMessage):
                self.runtime.hub.unwatch(self, message.page_id)
                self.watched.discard(message.page_id)
            elif isinstance(message, PingMessage):
                self.push(PongMessage())
            elif isinstance(message, AuthMessage):
                await self._renew(message.token)
        except MessageError as error:
            self.push(
                ErrorMessage(
                    client_seq=error.client_seq, status=error.status, code=error.code, detail=error.detail
                )
            )

    async def _renew(self, token: str | None) -> None:
        claims = await socket_claims(self.runtime, token)
        if claims is None or claims.user_id != self.user_id:
            self.end(CloseCode.UNAUTHORIZED)
            return
        previous = self.session_id
        self.claims = claims
        self.runtime.hub.change_session(self, previous, claims.sid)
        self.start_expiry_watch()
        self.push(self.ready_message())

    async def _subscribe(self, page_id: int) -> None:
        hub = self.runtime.hub
        # Listening before the version is read: any save committed after that read reaches here.
        # Nothing is delivered to this socket until the read has shown the page is its user's.
        await hub.listen(page_id)
        try:
            page = await read_draft(db=self.runtime.database, viewer_id=self.user_id, page_id=page_id)
        except APIError as error:
            hub.stop_listening(page_id)
            raise MessageError(error.status, error.code, error.detail or error.code) from None
        except BaseException:
            hub.stop_listening(page_id)
            raise
        if page_id in self.watched:
            hub.stop_listening(page_id)  # a second subscribe: the first one's listen stands
        else:
            self.watched.add(page_id)
            hub.watch(self, page_id)
        self.push(SubscribedMessage(page_id=page_id, version=page.version))


async def socket_claims(runtime: Runtime, token: str | None) -> Claims | None:
    """The claims of a valid, unrevoked access token, or None; raises if the token store is down."""
    if token is None:
        return None
    try:
        return await verify_access_token(token, tokens=runtime.tokens, revocations=runtime.revocations)
    except UnauthorizedError as error:
        log.info("Socket authentication refused: %s", error.code)
        return None
