"""Who may call a route: every view is declared public, optionally authenticated, or authenticated."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, Literal, TypeVar, cast

from quart import g, request
from quart_schema import security_scheme

from sinpluma_async.db.routing import send_reads_to_writer
from sinpluma_async.errors import unauthorized
from sinpluma_async.openapi import ACCESS_ATTRIBUTE
from sinpluma_async.runtime import current_runtime
from sinpluma_async.security.revocation import RevocationCheck, Standing
from sinpluma_async.security.tokens import Claims, TokenCodec

Access = Literal["public", "optional", "required"]
BEARER: list[dict[str, list[str]]] = [{"bearerAuth": []}]
# OpenAPI's way of saying "a bearer token, or nothing".
BEARER_OR_ANONYMOUS: list[dict[str, list[str]]] = [{"bearerAuth": []}, {}]
View = TypeVar("View", bound=Callable[..., Awaitable[Any]])
# The token whose identity `g.identity` holds (None: no token), so that it is checked once.
CHECKED_TOKEN = "checked_token"
UNCHECKED = object()


@dataclass(frozen=True, slots=True)
class Identity:
    user_id: int
    claims: Claims


def public(view: View) -> View:
    """The route needs no token and ignores one."""
    setattr(view, ACCESS_ATTRIBUTE, "public")
    return view


def auth_required(view: View) -> View:
    """The route answers 401 without a valid, unrevoked access token."""
    return _guard(view, "required")


def auth_optional(view: View) -> View:
    """The route works anonymously; a token, when sent, must be valid."""
    return _guard(view, "optional")


def refresh_token_required(view: View) -> View:
    """The route takes a refresh token (and only a refresh token) as its bearer credential."""
    setattr(view, ACCESS_ATTRIBUTE, "required")
    documented: View = security_scheme(BEARER)(view)
    return documented


def _guard(view: View, access: Access) -> View:
    @wraps(view)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        identity = await authenticate(required=access == "required")
        g.identity = identity
        return await view(*args, **kwargs)

    setattr(wrapper, ACCESS_ATTRIBUTE, access)
    return cast(View, security_scheme(BEARER if access == "required" else BEARER_OR_ANONYMOUS)(wrapper))


def current_identity() -> Identity:
    identity: Identity | None = g.get("identity")
    if identity is None:
        raise unauthorized("token_missing", "This endpoint needs a bearer token")
    return identity


def maybe_identity() -> Identity | None:
    identity: Identity | None = g.get("identity")
    return identity


def viewer_id() -> int | None:
    """The caller's user id on an optionally authenticated route, None when anonymous."""
    identity = maybe_identity()
    return identity.user_id if identity else None


def bearer_token() -> str | None:
    """The token of the request's `Authorization: Bearer` header, if it has one."""
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise unauthorized("token_invalid", "Authorization must be 'Bearer <token>'")
    return token.strip()


async def authenticate(*, required: bool, revocations: RevocationCheck | None = None) -> Identity | None:
    """The identity of the request's bearer access token, None without one when it is optional.

    A request's token is checked once: the route's rate limit checks it first, with `revocations`
    that count the call in the same round trip, and the route's guard then finds it checked.
    """
    token = bearer_token()
    if g.get(CHECKED_TOKEN, UNCHECKED) != token:
        g.identity = await _identity_of(token, revocations)
        setattr(g, CHECKED_TOKEN, token)
    identity: Identity | None = g.identity
    if identity is None and required:
        raise unauthorized("token_missing", "This endpoint needs a bearer token")
    return identity


async def _identity_of(token: str | None, revocations: RevocationCheck | None) -> Identity | None:
    if token is None:
        return None
    runtime = current_runtime()
    claims, standing = await check_access_token(
        token, tokens=runtime.tokens, revocations=revocations or runtime.revocations
    )
    send_reads_to_writer(standing.wrote_recently)
    return Identity(claims.user_id, claims)


async def verify_access_token(token: str, *, tokens: TokenCodec, revocations: RevocationCheck) -> Claims:
    """The claims of a valid, unrevoked access token, for HTTP and the socket alike.

    Raises UnauthorizedError for a bad, expired, refresh or revoked token, and
    ServiceUnavailableError when the revocations cannot be read (one round trip).
    """
    claims, _ = await check_access_token(token, tokens=tokens, revocations=revocations)
    return claims


async def check_access_token(
    token: str, *, tokens: TokenCodec, revocations: RevocationCheck
) -> tuple[Claims, Standing]:
    """`verify_access_token`, with what the check read of the user: whether they wrote recently."""
    claims = tokens.decode(token, expected="access")
    standing = await revocations.standing(claims)
    if standing.revoked:
        raise unauthorized("token_revoked", "The token has been revoked")
    return claims, standing
