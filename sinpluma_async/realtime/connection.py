"""One editor's socket: the autosave protocol of API.md, with saves coalesced per page."""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import os
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import InterfaceError, OperationalError

from sinpluma_async.contract import format_timestamp
from sinpluma_async.errors import APIError, ServiceUnavailableError, UnauthorizedError, VersionConflictError
from sinpluma_async.pages.service import PageRevision, get_page, save_draft
from sinpluma_async.realtime.close_codes import CloseCode
from sinpluma_async.requests import parse_json
from sinpluma_async.security.access import verify_access_token
from sinpluma_async.security.tokens import Claims

if TYPE_CHECKING:
    from sinpluma_async.runtime import Runtime

log = logging.getLogger(__name__)

MAX_SAVES_PER_SECOND = 20
MAX_QUEUED_MESSAGES = 1000
_ids = itertools.count(1)
PROCESS = f"{os.getpid()}-{os.urandom(3).hex()}"


class MessageError(Exception):
    """A message the connection answers with an `error` and otherwise ignores."""

    def __init__(self, status: int, code: str, detail: str, client_seq: Any = None) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail, self.client_seq = status, code, detail, client_seq


@dataclass
class Save:
    page_id: int
    client_seq: int
    content: list[Any]
    title: str | None
    base_version: int | None


@dataclass
class PageWriter:
    """The saves of one page from one socket: one written at a time, the newest waiting."""

    pending: Save | None = None
    superseded: list[int] = field(default_factory=list)
    task: asyncio.Task[None] | None = None
    last_base: int | None = None
    revision: PageRevision | None = None


def expiry_of(claims: Claims) -> str:
    return format_timestamp(datetime.fromtimestamp(claims.expires_at, UTC))


def _integer(message: dict[str, Any], name: str, *, required: bool, minimum: int | None = None) -> int | None:
    value = message.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or (minimum is not None and value < minimum):
        raise MessageError(400, "validation_error", f"`{name}` must be an integer", message.get("client_seq"))
    return value


class EditorConnection:
    def __init__(self, runtime: Runtime, claims: Claims) -> None:
        self.id = f"{PROCESS}:{next(_ids)}"
        self.runtime = runtime
        self.claims = claims
        self.watched: set[int] = set()
        self.close_code: int | None = None
        # An idle socket holds no task of its own besides its handler: messages are sent by a
        # task that lives only while there are some, and expiry is a timer.
        self._handler: asyncio.Task[Any] | None = None
        self._send: Callable[[str], Awaitable[None]] | None = None
        self._outbox: deque[str] = deque()
        self._sender: asyncio.Task[None] | None = None
        self._writers: dict[int, PageWriter] = {}
        self._recent_saves: deque[float] = deque()
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

    def push(self, message: dict[str, Any]) -> None:
        """Queue a message for the client; a client too slow to read is let go."""
        if len(self._outbox) >= MAX_QUEUED_MESSAGES:
            self.end(CloseCode.TOO_SLOW)
            return
        self._outbox.append(json.dumps(message, ensure_ascii=False, separators=(",", ":")))
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

    def ready_message(self) -> dict[str, Any]:
        return {"type": "ready", "user_id": self.user_id, "expires_at": expiry_of(self.claims)}

    def start_expiry_watch(self) -> None:
        if self._expiry is not None:
            self._expiry.cancel()
        delay = max(0.0, self.claims.expires_at - time.time())
        self._expiry = asyncio.get_running_loop().call_later(delay, self.end, CloseCode.UNAUTHORIZED)

    async def settle(self) -> None:
        """Let saves already being written finish, and their acks go out, before the socket goes."""
        if self._expiry is not None:
            self._expiry.cancel()
        writing = [writer.task for writer in self._writers.values() if writer.task is not None]
        if writing:
            await asyncio.gather(*writing, return_exceptions=True)
        if self._sender is not None:
            await asyncio.gather(self._sender, return_exceptions=True)

    async def handle(self, raw: str | bytes) -> None:
        """Answer one client message; a bad one gets an `error`, and the socket stays open."""
        try:
            try:
                message = parse_json(raw if isinstance(raw, str) else raw.decode("utf-8"))
            except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
                raise MessageError(400, "validation_error", "Messages are JSON objects") from None
            if not isinstance(message, dict):
                raise MessageError(400, "validation_error", "Messages are JSON objects")
            kind = message.get("type")
            handler = {
                "save": self._save,
                "subscribe": self._subscribe,
                "unsubscribe": self._unsubscribe,
                "ping": self._ping,
                "auth": self._renew,
            }.get(kind if isinstance(kind, str) else "")
            if handler is None:
                raise MessageError(
                    400, "validation_error", f"Unknown message type {kind!r}", message.get("client_seq")
                )
            await handler(message)
        except MessageError as error:
            self.push(
                {
                    "type": "error",
                    "client_seq": error.client_seq,
                    "status": error.status,
                    "code": error.code,
                    "detail": error.detail,
                }
            )

    async def _ping(self, message: dict[str, Any]) -> None:
        self.push({"type": "pong"})

    async def _renew(self, message: dict[str, Any]) -> None:
        token = message.get("token")
        claims = await authenticate(self.runtime, token) if isinstance(token, str) else None
        if claims is None or claims.user_id != self.user_id:
            self.end(CloseCode.UNAUTHORIZED)
            return
        previous = self.session_id
        self.claims = claims
        self.runtime.hub.change_session(self, previous, claims.sid)
        self.start_expiry_watch()
        self.push(self.ready_message())

    async def _subscribe(self, message: dict[str, Any]) -> None:
        page_id = _integer(message, "page_id", required=True, minimum=1)
        assert page_id is not None
        try:
            page = await get_page(
                db=self.runtime.database, viewer_id=self.user_id, page_id=page_id, mode="editor"
            )
        except APIError as error:
            raise MessageError(error.status, error.code, error.detail or error.code) from None
        self.watched.add(page_id)
        self.runtime.hub.watch(self, page_id)
        self.push({"type": "subscribed", "page_id": page_id, "version": page.version})  # type: ignore[union-attr]

    async def _unsubscribe(self, message: dict[str, Any]) -> None:
        page_id = _integer(message, "page_id", required=True, minimum=1)
        assert page_id is not None
        self.watched.discard(page_id)
        self.runtime.hub.unwatch(self, page_id)

    async def _save(self, message: dict[str, Any]) -> None:
        client_seq = _integer(message, "client_seq", required=True)
        page_id = _integer(message, "page_id", required=True, minimum=1)
        base_version = _integer(message, "base_version", required=False, minimum=1)
        unknown = set(message) - {"type", "page_id", "client_seq", "content", "title", "base_version"}
        if unknown:
            raise MessageError(400, "validation_error", f"Unknown fields: {sorted(unknown)}", client_seq)
        content, title = message.get("content"), message.get("title")
        if not isinstance(content, list):
            raise MessageError(400, "validation_error", "`content` must be a Slate document", client_seq)
        if title is not None and (not isinstance(title, str) or len(title) > 100):
            raise MessageError(
                400, "validation_error", "`title` must be text of at most 100 characters", client_seq
            )
        now = time.monotonic()
        while self._recent_saves and now - self._recent_saves[0] >= 1.0:
            self._recent_saves.popleft()
        if len(self._recent_saves) >= MAX_SAVES_PER_SECOND:
            raise MessageError(429, "rate_limited", "At most 20 saves a second", client_seq)
        self._recent_saves.append(now)
        assert page_id is not None and client_seq is not None
        self._enqueue(Save(page_id, client_seq, content, title, base_version))

    def _enqueue(self, save: Save) -> None:
        writer = self._writers.setdefault(save.page_id, PageWriter())
        if writer.pending is not None:
            writer.superseded.append(writer.pending.client_seq)
        writer.pending = save
        if writer.task is None or writer.task.done():
            writer.task = asyncio.create_task(self._write(writer))

    async def _write(self, writer: PageWriter) -> None:
        # The newest save is taken only when a write starts: every save that arrived before it
        # is acked with the version that holds the newest one.
        while writer.pending is not None:
            save, writer.pending = writer.pending, None
            acked = [*writer.superseded, save.client_seq]
            writer.superseded = []
            base = save.base_version
            if base is not None and base == writer.last_base and writer.revision is not None:
                # The client had not yet seen the ack of our previous write of this page when it
                # sent this one: that write is the base it meant.
                base = writer.revision.version
            # Shielded: a socket closing mid-write must not abandon a commit half done.
            await asyncio.shield(self._write_one(writer, save, base, acked))

    async def _write_one(self, writer: PageWriter, save: Save, base: int | None, acked: list[int]) -> None:
        try:
            saved = await save_draft(
                db=self.runtime.database,
                announcer=self.runtime.announcer,
                origin=self.id,
                viewer_id=self.user_id,
                page_id=save.page_id,
                title=save.title,
                content=save.content,
                base_version=base,
                since=writer.revision,
            )
        except VersionConflictError as conflict:
            for seq in acked:
                self.push(
                    {
                        "type": "conflict",
                        "page_id": save.page_id,
                        "client_seq": seq,
                        "current_version": conflict.current_version,
                    }
                )
            return
        except APIError as error:
            self._refuse(acked, error.status, error.code, error.detail or error.code)
            return
        except (OperationalError, InterfaceError, ServiceUnavailableError):
            log.warning("Save of page %s failed: database unavailable", save.page_id)
            detail = "The database is unavailable; nothing was saved"
            self._refuse(acked, 503, "service_unavailable", detail)
            return
        except Exception:
            # A save that fails for a reason of ours must still be answered, or the editor
            # would wait for its ack forever.
            log.exception("Save of page %s failed", save.page_id)
            self._refuse(acked, 500, "internal_error", "The server failed to save this change")
            return
        writer.last_base, writer.revision = save.base_version, saved
        saved_at = format_timestamp(saved.saved_at)
        for seq in acked:
            self.push(
                {
                    "type": "ack",
                    "page_id": save.page_id,
                    "client_seq": seq,
                    "version": saved.version,
                    "saved_at": saved_at,
                }
            )

    def _refuse(self, client_seqs: list[int], status: int, code: str, detail: str) -> None:
        for seq in client_seqs:
            self.push({"type": "error", "client_seq": seq, "status": status, "code": code, "detail": detail})


async def authenticate(runtime: Runtime, token: str) -> Claims | None:
    """The claims of a valid, unrevoked access token, or None; raises if the token store is down."""
    try:
        return await verify_access_token(token, tokens=runtime.tokens, revocations=runtime.revocations)
    except UnauthorizedError as error:
        log.info("Socket authentication refused: %s", error.code)
        return None
