"""The autosave protocol of API.md: what a client sends, what the server answers, what processes tell
each other, each a small typed class, and the one encoding of everything the server sends.

A client's message is parsed by the strict JSON parser of request bodies, then validated by one
pydantic union on `type`. A save's `content` is checked to be a list and no deeper: the pages
service validates the Slate document, and walking 5-20 KB twice would cost every save.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Annotated, Any, Literal, TypedDict

import orjson
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, InstanceOf, TypeAdapter, ValidationError

from sinpluma_async.contract import format_timestamp
from sinpluma_async.json_encoding import compact_json
from sinpluma_async.pages.announcements import PageUpdated
from sinpluma_async.requests import parse_json


class MessageError(Exception):
    """A message the connection answers with an `error` and otherwise ignores."""

    def __init__(self, status: int, code: str, detail: str, client_seq: Any = None) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail, self.client_seq = status, code, detail, client_seq


# What a client sends. Integers are JSON integers (never a bool, a float or a string).

PositiveInt = Annotated[int, Field(ge=1)]


class ClientMessage(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)


def _text_or_none(value: object) -> object:
    return value if isinstance(value, str) else None


class AuthMessage(ClientMessage):
    type: Literal["auth"]
    # A token that is not text is no token: the socket closes with 4401, as for a bad token.
    token: Annotated[str | None, BeforeValidator(_text_or_none)] = None


class SaveMessage(ClientMessage):
    model_config = ConfigDict(extra="forbid")

    type: Literal["save"]
    page_id: PositiveInt
    client_seq: int
    content: InstanceOf[list[Any]]
    title: Annotated[str, Field(max_length=100)] | None = None
    base_version: PositiveInt | None = None


class SubscribeMessage(ClientMessage):
    type: Literal["subscribe"]
    page_id: PositiveInt


class UnsubscribeMessage(ClientMessage):
    type: Literal["unsubscribe"]
    page_id: PositiveInt


class PingMessage(ClientMessage):
    type: Literal["ping"]


AnyClientMessage = AuthMessage | SaveMessage | SubscribeMessage | UnsubscribeMessage | PingMessage
_CLIENT_MESSAGES: TypeAdapter[AnyClientMessage] = TypeAdapter(
    Annotated[AnyClientMessage, Field(discriminator="type")]
)


def read_client_message(raw: str | bytes) -> AnyClientMessage:
    """The message in one frame, or a MessageError (400) saying what is wrong with it."""
    try:
        # A text frame arrives decoded; its lone surrogates, if any, stay refused as not UTF-8.
        document = parse_json(raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        raise MessageError(400, "validation_error", "Messages are JSON objects") from None
    if not isinstance(document, dict):
        raise MessageError(400, "validation_error", "Messages are JSON objects")
    try:
        return _CLIENT_MESSAGES.validate_python(document)
    except ValidationError as error:
        detail = _first_problem(error, document)
        raise MessageError(400, "validation_error", detail, document.get("client_seq")) from None


def _first_problem(error: ValidationError, document: dict[str, Any]) -> str:
    """One problem of the message, the first in the order the fields are checked."""
    found = error.errors(include_url=False, include_context=False, include_input=False)
    if any(len(entry["loc"]) < 2 for entry in found):  # `type` is missing or names no message
        return f"Unknown message type {document.get('type')!r}"
    unknown = sorted(str(entry["loc"][1]) for entry in found if entry["type"] == "extra_forbidden")
    invalid = {entry["loc"][1] for entry in found if entry["type"] != "extra_forbidden"}
    for name in ("client_seq", "page_id", "base_version"):
        if name in invalid:
            return f"`{name}` must be an integer"
    if unknown:
        return f"Unknown fields: {unknown}"
    if "content" in invalid:
        return "`content` must be a Slate document"
    return "`title` must be text of at most 100 characters"


# What the server sends. `type` comes first on the wire, as API.md writes every message.


@dataclass(slots=True)
class ReadyMessage:
    type: Literal["ready"] = field(default="ready", init=False)
    user_id: int
    expires_at: str


@dataclass(slots=True)
class AckMessage:
    type: Literal["ack"] = field(default="ack", init=False)
    page_id: int
    client_seq: int
    version: int
    saved_at: str


@dataclass(slots=True)
class ConflictMessage:
    type: Literal["conflict"] = field(default="conflict", init=False)
    page_id: int
    client_seq: int
    current_version: int


@dataclass(slots=True)
class ErrorMessage:
    type: Literal["error"] = field(default="error", init=False)
    # As the client sent it, whatever it is; null when the message had none or was no JSON object.
    client_seq: Any
    status: int
    code: str
    detail: str


@dataclass(slots=True)
class SubscribedMessage:
    type: Literal["subscribed"] = field(default="subscribed", init=False)
    page_id: int
    version: int


@dataclass(slots=True)
class PongMessage:
    type: Literal["pong"] = field(default="pong", init=False)


@dataclass(slots=True)
class PageUpdatedMessage:
    type: Literal["page.updated"] = field(default="page.updated", init=False)
    page_id: int
    version: int
    title: str
    saved_at: str


ServerMessage = (
    ReadyMessage
    | AckMessage
    | ConflictMessage
    | ErrorMessage
    | SubscribedMessage
    | PongMessage
    | PageUpdatedMessage
)


# What every process hears on the event channel. JSON objects that come back as dicts on every
# process, so they are typed as dicts.


class PageUpdatedEvent(TypedDict):
    kind: Literal["page.updated"]
    page_id: int
    version: int
    title: str
    saved_at: str
    origin: str | None


class SessionEndedEvent(TypedDict):
    kind: Literal["session.ended"]
    session_ids: list[str]


Event = PageUpdatedEvent | SessionEndedEvent


def page_updated_event(update: PageUpdated) -> PageUpdatedEvent:
    return {
        "kind": "page.updated",
        "page_id": update.page_id,
        "version": update.version,
        "title": update.title,
        "saved_at": format_timestamp(update.saved_at),
        "origin": update.origin,
    }


def session_ended_event(session_ids: list[str]) -> SessionEndedEvent:
    return {"kind": "session.ended", "session_ids": session_ids}


def encode(value: ServerMessage | Event) -> str:
    """Compact JSON, keys in their declared order: every message and event the server sends."""
    # A client's `client_seq` may be longer than 64 bits, and is echoed: compact_json writes it.
    return compact_json(value, default=asdict).decode()


def decode_event(data: bytes | str) -> Event:
    """An event as `encode` wrote it, on any process."""
    event: Event = orjson.loads(data)
    return event
