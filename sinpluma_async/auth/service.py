"""Sessions: login, refresh-token rotation with reuse detection, logout and revocation."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from sinpluma_async.auth.models import AuthSession
from sinpluma_async.auth.schemas import LoginRequest, LoginResponse, TokenPair
from sinpluma_async.db.engines import Database
from sinpluma_async.db.types import utcnow
from sinpluma_async.errors import unauthorized
from sinpluma_async.security.passwords import PasswordHasher
from sinpluma_async.security.revocation import RevocationStore, revocation_ttl
from sinpluma_async.security.tokens import Claims, TokenCodec, new_id
from sinpluma_async.users.models import User
from sinpluma_async.users.profiles import private_profile, profile_query


def _token_pair(tokens: TokenCodec, *, user_id: int, sid: str) -> tuple[TokenPair, Claims]:
    access = tokens.issue(user_id=user_id, sid=sid, type="access")
    refresh = tokens.issue(user_id=user_id, sid=sid, type="refresh")
    pair = TokenPair(access_token=access.token, refresh_token=refresh.token, expires_in=tokens.access_seconds)
    return pair, refresh.claims


def _expiry(claims: Claims) -> datetime:
    return datetime.fromtimestamp(claims.expires_at, UTC)


class LoginAttempts(Protocol):
    async def admit(self, account: str) -> None:
        """Count an attempt on `account`, before its password is checked; raise when refused."""

    async def succeeded(self) -> None:
        """The password was right: the attempt is not a failure."""


async def login(
    *,
    db: Database,
    passwords: PasswordHasher,
    tokens: TokenCodec,
    credentials: LoginRequest,
    attempts: LoginAttempts,
) -> LoginResponse:
    """Open a session for valid credentials; unknown users and wrong passwords look alike.

    The attempt is counted against the account the username or email names (in whatever case, or
    accents, the database's collation matches), or against the name itself when there is none.
    """
    column = User.email if "@" in credentials.username else User.username
    async with db.snapshot(latest=True) as session:
        row = (await session.execute(profile_query(column == credentials.username))).one_or_none()
    user, notebook_count = row if row is not None else (None, 0)
    await attempts.admit(f"user:{user.id}" if user else f"name:{credentials.username.casefold()}")
    if not await passwords.verify(credentials.password, user.password_hash if user else None) or user is None:
        raise unauthorized("invalid_credentials", "The username or password is wrong")
    await attempts.succeeded()
    sid = new_id()
    pair, refresh = _token_pair(tokens, user_id=user.id, sid=sid)
    now = utcnow()
    async with db.transaction() as session:
        await session.execute(
            delete(AuthSession).where(AuthSession.user_id == user.id, AuthSession.expires_at < now)
        )
        session.add(
            AuthSession(id=sid, user_id=user.id, refresh_jti=refresh.jti, expires_at=_expiry(refresh))
        )
    return LoginResponse(**pair.model_dump(), user=private_profile(user, notebook_count))


async def refresh(
    *, db: Database, tokens: TokenCodec, revocations: RevocationStore, claims: Claims
) -> TokenPair:
    """Rotate a refresh token. A token that was already rotated revokes its whole session."""
    pair, new_refresh = _token_pair(tokens, user_id=claims.user_id, sid=claims.sid)
    async with db.transaction() as session:
        # The compare-and-set on refresh_jti is what lets exactly one of two concurrent
        # refreshes with the same token win: the row lock serialises them.
        rotated = await session.execute(
            update(AuthSession)
            .where(
                AuthSession.id == claims.sid,
                AuthSession.user_id == claims.user_id,
                AuthSession.refresh_jti == claims.jti,
                AuthSession.revoked_at.is_(None),
            )
            .values(refresh_jti=new_refresh.jti, refreshed_at=utcnow(), expires_at=_expiry(new_refresh))
        )
        if rotated.rowcount == 1:  # type: ignore[attr-defined]
            await revocations.revoke(jtis={claims.jti: revocation_ttl(claims.seconds_left())})
            return pair
    await revoke_session(db=db, revocations=revocations, session_id=claims.sid)
    raise unauthorized("token_revoked", "The refresh token was already used or its session has ended")


async def revoke_session(*, db: Database, revocations: RevocationStore, session_id: str) -> None:
    """End a session: its access and refresh tokens stop working on every server process."""
    async with db.transaction() as session:
        row = await session.get(AuthSession, session_id, with_for_update=True)
        if row is None or row.revoked_at is not None:
            return
        await revocations.revoke(sids={session_id: _session_ttl(row)})
        row.revoked_at = utcnow()


async def revoke_other_sessions(
    session: AsyncSession, revocations: RevocationStore, *, user_id: int, keep_session_id: str
) -> None:
    """End every live session of a user but one, inside the caller's transaction."""
    now = utcnow()
    others = (
        (
            await session.execute(
                select(AuthSession).where(
                    AuthSession.user_id == user_id,
                    AuthSession.id != keep_session_id,
                    AuthSession.revoked_at.is_(None),
                    AuthSession.expires_at > now,
                )
            )
        )
        .scalars()
        .all()
    )
    if not others:
        return
    await revocations.revoke(sids={row.id: _session_ttl(row) for row in others})
    await session.execute(
        update(AuthSession).where(AuthSession.id.in_([row.id for row in others])).values(revoked_at=now)
    )


def _session_ttl(row: AuthSession) -> int:
    return revocation_ttl((row.expires_at - utcnow()).total_seconds())
