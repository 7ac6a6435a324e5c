"""Each HTTP request and websocket, observed around the whole app: its X-Request-ID, its access
line and its series. Around the app rather than in Quart's hooks, so that every response carries
the id (the framework's own included) and the socket's handshake too.
"""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Awaitable, Callable, MutableMapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import structlog
from prometheus_client import Counter, Histogram
from quart import Quart, Response, g, request, websocket

from sinpluma_async.observability.logs import ACCESS_LOG
from sinpluma_async.observability.metrics import (
    HTTP_REQUEST_DURATION,
    HTTP_REQUESTS,
    WEBSOCKET_CONNECTIONS,
)
from sinpluma_async.observability.request_ids import REQUEST_ID_HEADER, request_id_from

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
# Quart's own ASGI types are stricter unions of TypedDicts; this layer only reads a few keys.
ASGIApp = Callable[..., Awaitable[None]]

# A path that matched no route is labelled with this, never with the path itself.
UNMATCHED_ROUTE = "unmatched"
HEADER_NAME = REQUEST_ID_HEADER.lower().encode()
RESPONSE_STARTS = frozenset({"http.response.start", "websocket.accept", "websocket.http.response.start"})
# What a client sees of a socket closed before it was accepted (the ASGI specification).
REFUSED_HANDSHAKE = 403
# An exchange that ended with no response sent: the client went away first (nginx's 499).
CLIENT_CLOSED_REQUEST = 499
ROUTE_VARIABLE = re.compile(r"<(?:[^:<>]*:)?([^<>]+)>")


@dataclass
class Exchange:
    """What the access line and the series say of one request or socket."""

    kind: str
    method: str
    path: str
    request_id: str
    started: float = field(default_factory=time.perf_counter)
    route: str = UNMATCHED_ROUTE
    status: int = CLIENT_CLOSED_REQUEST
    user_id: int | None = None
    accepted: bool = False


current_exchange: ContextVar[Exchange | None] = ContextVar("sinpluma_exchange", default=None)


def offered_request_id(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == HEADER_NAME:
            return bytes(value).decode("latin-1")
    return None


class ObservedExchanges:
    """ASGI middleware: binds the request id, sends it back, and records the exchange at its end."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self._app(scope, receive, send)
            return
        exchange = Exchange(
            kind=scope["type"],
            method=scope.get("method", "GET"),
            path=scope.get("path", ""),
            request_id=request_id_from(offered_request_id(scope)),
        )
        header = (HEADER_NAME, exchange.request_id.encode())

        async def send_with_request_id(message: Message) -> None:
            if message["type"] in RESPONSE_STARTS:
                message = {**message, "headers": [*message.get("headers", ()), header]}
                exchange.status = message.get("status", 101)
                if message["type"] == "websocket.accept":
                    exchange.accepted = True
                    WEBSOCKET_CONNECTIONS.inc()
            elif message["type"] == "websocket.close" and not exchange.accepted:
                exchange.status = REFUSED_HANDSHAKE
            await send(message)

        exchange_token = current_exchange.set(exchange)
        bound = structlog.contextvars.bind_contextvars(request_id=exchange.request_id)
        try:
            await self._app(scope, receive, send_with_request_id)
        finally:
            if exchange.accepted:
                WEBSOCKET_CONNECTIONS.dec()
            record(exchange)
            structlog.contextvars.reset_contextvars(**bound)
            current_exchange.reset(exchange_token)


def record(exchange: Exchange) -> None:
    """The access line, and for HTTP the request's count and duration."""
    seconds = time.perf_counter() - exchange.started
    if exchange.kind == "http":
        requests, durations = http_series(exchange.method, exchange.route, exchange.status)
        requests.inc()
        durations.observe(seconds)
    ACCESS_LOG.info(
        "request" if exchange.kind == "http" else "websocket",
        method=exchange.method,
        route=exchange.route,
        path=exchange.path,
        status=exchange.status,
        duration_ms=round(seconds * 1000, 2),
        user_id=exchange.user_id,
    )


@functools.lru_cache(maxsize=4096)
def http_series(method: str, route: str, status: int) -> tuple[Counter, Histogram]:
    """The request count and duration series of one method, route template and status.

    prometheus_client finds a series by its labels under a lock at every `labels()` call; routes
    are templates, so these are few and kept.
    """
    return (
        HTTP_REQUESTS.labels(method, route, str(status)),
        HTTP_REQUEST_DURATION.labels(method, route),
    )


@functools.cache
def route_template(rule: str) -> str:
    """`/pages/<id:page_id>` as OpenAPI writes it: `/pages/{page_id}`."""
    return ROUTE_VARIABLE.sub(r"{\1}", rule)


def note_user(user_id: int) -> None:
    """The exchange's caller, once known (a socket knows it after its first message)."""
    exchange = current_exchange.get()
    if exchange is not None:
        exchange.user_id = user_id
    structlog.contextvars.bind_contextvars(user_id=user_id)


async def note_request(response: Response) -> Response:
    exchange = current_exchange.get()
    if exchange is not None:
        if request.url_rule is not None:
            exchange.route = route_template(request.url_rule.rule)
        identity = g.get("identity")
        if identity is not None:
            exchange.user_id = identity.user_id
    return response


async def note_websocket() -> None:
    exchange = current_exchange.get()
    if exchange is not None and websocket.url_rule is not None:
        exchange.route = route_template(websocket.url_rule.rule)


def observe_exchanges(app: Quart) -> None:
    """Every request and socket of `app` gets an id, an access line and its series."""
    app.asgi_app = ObservedExchanges(app.asgi_app)  # type: ignore[method-assign,assignment]
    app.after_request(note_request)
    app.before_websocket(note_websocket)
