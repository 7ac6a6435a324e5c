from __future__ import annotations

from quart import Blueprint
from quart_schema import validate_request, validate_response

from sinpluma_async.auth import service
from sinpluma_async.auth.schemas import LoginRequest, LoginResponse, TokenPair
from sinpluma_async.errors import unauthorized
from sinpluma_async.freshness.http import wrote_as
from sinpluma_async.openapi import empty_response, problems
from sinpluma_async.ratelimits.http import rate_limit
from sinpluma_async.ratelimits.login import LoginAttempts, login_rate_limits
from sinpluma_async.runtime import current_runtime
from sinpluma_async.security.access import (
    auth_required,
    bearer_token,
    current_identity,
    public,
    refresh_token_required,
)

blueprint = Blueprint("auth", __name__, url_prefix="/user")


@blueprint.post("/login")
@problems(401)
@login_rate_limits
@public
@validate_request(LoginRequest)
@validate_response(LoginResponse)
async def login(data: LoginRequest) -> LoginResponse:
    """Log in with a username or email and a password; opens a session."""
    runtime = current_runtime()
    opened = await service.login(
        db=runtime.database,
        passwords=runtime.passwords,
        tokens=runtime.tokens,
        credentials=data,
        attempts=LoginAttempts.of_request(),
    )
    wrote_as(opened.user.user_id)
    return opened


@blueprint.delete("/logout")
@empty_response(204)
@rate_limit("write")
@auth_required
async def logout() -> tuple[str, int]:
    """End the caller's session: its access and refresh tokens stop working everywhere."""
    runtime = current_runtime()
    await service.revoke_session(
        db=runtime.database, revocations=runtime.revocations, session_id=current_identity().claims.sid
    )
    return "", 204


@blueprint.post("/token/refresh")
@rate_limit("refresh")
@refresh_token_required
@validate_response(TokenPair)
async def refresh() -> TokenPair:
    """Exchange a refresh token for a new token pair; the presented token is revoked.

    Presenting a refresh token that was already rotated ends the whole session.
    """
    token = bearer_token()
    if token is None:
        raise unauthorized("token_missing", "Send the refresh token as a bearer token")
    runtime = current_runtime()
    claims = runtime.tokens.decode(token, expected="refresh")
    return await service.refresh(
        db=runtime.database, tokens=runtime.tokens, revocations=runtime.revocations, claims=claims
    )
