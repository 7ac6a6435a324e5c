from __future__ import annotations

from quart import Blueprint
from quart_schema import validate_request, validate_response

from sinpluma_async.idempotency.http import idempotent
from sinpluma_async.openapi import problems
from sinpluma_async.ratelimits.http import rate_limit
from sinpluma_async.runtime import current_runtime
from sinpluma_async.security.access import (
    auth_optional,
    auth_required,
    current_identity,
    maybe_identity,
    public,
)
from sinpluma_async.users import service
from sinpluma_async.users.schemas import UserCreate, UserPrivate, UserPublic, UserUpdate

blueprint = Blueprint("users", __name__, url_prefix="/user")


@blueprint.post("/register")
@problems(409)
@rate_limit("register")
@public
@validate_request(UserCreate)
@idempotent
@validate_response(UserPrivate, 201)
async def register(data: UserCreate) -> tuple[UserPrivate, int]:
    """Create an account.

    Usernames and emails are unique ignoring case; the password is stored as a bcrypt hash.
    """
    runtime = current_runtime()
    return await service.register(db=runtime.database, passwords=runtime.passwords, user_create=data), 201


@blueprint.get("/<username>")
@problems(404)
@rate_limit("read")
@auth_optional
@validate_response(UserPublic)
async def get_profile(username: str) -> UserPublic:
    """A user's public profile, looked up ignoring case.

    When the caller is that user, the profile also carries their email address.
    """
    identity = maybe_identity()
    viewer_id = identity.user_id if identity else None
    return await service.get_profile(db=current_runtime().database, username=username, viewer_id=viewer_id)


@blueprint.put("/settings")
@problems(403, 409)
@rate_limit("write")
@auth_required
@validate_request(UserUpdate)
@validate_response(UserPrivate)
async def update_settings(data: UserUpdate) -> UserPrivate:
    """Change any of the caller's profile fields, email or password.

    Email and password changes need `current_password`; a password change ends every other session.
    """
    runtime = current_runtime()
    identity = current_identity()
    return await service.update_settings(
        db=runtime.database,
        passwords=runtime.passwords,
        revocations=runtime.revocations,
        user_id=identity.user_id,
        session_id=identity.claims.sid,
        changes=data,
    )
