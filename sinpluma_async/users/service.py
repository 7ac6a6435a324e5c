"""Accounts: registration, profiles and settings."""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from sinpluma_async.auth.service import revoke_other_sessions
from sinpluma_async.db.engines import Database
from sinpluma_async.db.types import utcnow
from sinpluma_async.errors import conflict, forbidden, not_found
from sinpluma_async.security.passwords import PasswordHasher
from sinpluma_async.security.revocation import RevocationStore
from sinpluma_async.users.models import User
from sinpluma_async.users.profiles import load_private_profile, private_profile, profile_query
from sinpluma_async.users.schemas import UserCreate, UserPrivate, UserPublic, UserUpdate


async def _ensure_available(
    session: AsyncSession, *, username: str | None, email: str | None, exclude_user_id: int | None = None
) -> None:
    conditions = []
    if username is not None:
        conditions.append(User.username == username)
    if email is not None:
        conditions.append(User.email == email)
    if not conditions:
        return
    query = select(User.username, User.email).where(or_(*conditions))
    if exclude_user_id is not None:
        query = query.where(User.id != exclude_user_id)
    taken = (await session.execute(query)).all()
    if username is not None and any(name.lower() == username.lower() for name, _ in taken):
        raise conflict("username_taken", "That username is already taken")
    if taken:
        # Usernames are ASCII, so a row that matched by the database's collation but not by
        # name matched by email (collations also fold accents in email addresses).
        raise conflict("email_taken", "That email address is already registered")


async def register(*, db: Database, passwords: PasswordHasher, user_create: UserCreate) -> UserPrivate:
    """Create an account; 409 when the username or email is taken, ignoring case."""
    async with db.snapshot() as session:
        await _ensure_available(session, username=user_create.username, email=user_create.email)
    password_hash = await passwords.hash(user_create.password)
    user = User(
        username=user_create.username,
        email=user_create.email,
        password_hash=password_hash,
        display_name=user_create.display_name,
        bio=user_create.bio,
    )
    try:
        async with db.transaction() as session:
            session.add(user)
            await session.flush()
    except IntegrityError:
        async with db.snapshot(latest=True) as session:
            await _ensure_available(session, username=user_create.username, email=user_create.email)
        raise
    return private_profile(user, 0)


async def get_profile(*, db: Database, username: str, viewer_id: int | None) -> UserPublic:
    """The public profile, or the private one when the viewer is that user; 404 if unknown."""
    async with db.snapshot() as session:
        row = (await session.execute(profile_query(User.username == username))).one_or_none()
    if row is None:
        raise not_found("No such user")
    profile = private_profile(row[0], row[1])
    if viewer_id == profile.user_id:
        return profile
    return UserPublic.model_validate(profile.model_dump(exclude={"email"}))


async def update_settings(
    *,
    db: Database,
    passwords: PasswordHasher,
    revocations: RevocationStore,
    user_id: int,
    session_id: str,
    changes: UserUpdate,
) -> UserPrivate:
    """Apply a partial settings change; email and password changes need the current password."""
    fields = await _checked_changes(db=db, passwords=passwords, user_id=user_id, changes=changes)
    try:
        async with db.transaction() as session:
            await _ensure_available(
                session, username=fields.get("username"), email=fields.get("email"), exclude_user_id=user_id
            )
            user = await session.get(User, user_id, with_for_update=True)
            if user is None:
                raise not_found("No such user")
            for name, value in fields.items():
                setattr(user, name, value)
            user.updated_at = utcnow()
            if "password_hash" in fields:
                await revoke_other_sessions(session, revocations, user_id=user_id, keep_session_id=session_id)
            await session.flush()
            return await load_private_profile(session, user_id)
    except IntegrityError:
        async with db.snapshot(latest=True) as session:
            await _ensure_available(
                session, username=fields.get("username"), email=fields.get("email"), exclude_user_id=user_id
            )
        raise


async def _checked_changes(
    *, db: Database, passwords: PasswordHasher, user_id: int, changes: UserUpdate
) -> dict[str, Any]:
    """The columns to set: the current password checked if it must be, a new password hashed."""
    fields = changes.model_dump(exclude_unset=True)
    fields.pop("current_password", None)
    async with db.snapshot(latest=True) as session:
        user = await session.get(User, user_id)
    if user is None:
        raise not_found("No such user")
    if "email" in fields or "password" in fields:
        current = changes.current_password or ""
        if not await passwords.verify(current, user.password_hash):
            raise forbidden("current_password is wrong", code="invalid_credentials")
    if fields.get("password") is not None:
        fields["password_hash"] = await passwords.hash(fields.pop("password"))
    return fields
