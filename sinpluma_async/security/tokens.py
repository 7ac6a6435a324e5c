"""HS256 access and refresh tokens: the algorithm pinned, every claim required."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Literal

import jwt

from sinpluma_async.errors import unauthorized

ALGORITHM = "HS256"
REQUIRED_CLAIMS = ["sub", "jti", "sid", "type", "iat", "exp"]
# Tokens whose signature this process has checked, remembered with their claims: a client sends
# the same token with every request until it expires, and checking it again cost as much CPU as
# the rest of the token's check, its Redis round trip included (docs/benchmarks.md, "Reads
# without SQLAlchemy, tokens checked once").
REMEMBERED_TOKENS = 4096
TokenType = Literal["access", "refresh"]


@dataclass(frozen=True, slots=True)
class Claims:
    user_id: int
    jti: str
    sid: str
    type: TokenType
    issued_at: int
    expires_at: int

    def seconds_left(self, now: float | None = None) -> float:
        return max(0.0, self.expires_at - (time.time() if now is None else now))


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str
    claims: Claims


def new_id() -> str:
    return uuid.uuid4().hex


class TokenCodec:
    """Issues and decodes the service's JWTs."""

    def __init__(
        self, *, secret: str, access_seconds: int, refresh_seconds: int, remembered: int = REMEMBERED_TOKENS
    ) -> None:
        self._secret = secret
        self.access_seconds = access_seconds
        self.refresh_seconds = refresh_seconds
        self._remembered = remembered
        self._verified: dict[str, Claims] = {}

    def issue(self, *, user_id: int, sid: str, type: TokenType, now: float | None = None) -> IssuedToken:
        issued_at = int(time.time() if now is None else now)
        lifetime = self.access_seconds if type == "access" else self.refresh_seconds
        claims = Claims(user_id, new_id(), sid, type, issued_at, issued_at + lifetime)
        payload = {
            "sub": str(user_id),
            "jti": claims.jti,
            "sid": sid,
            "type": type,
            "iat": issued_at,
            "exp": claims.expires_at,
        }
        return IssuedToken(jwt.encode(payload, self._secret, algorithm=ALGORITHM), claims)

    def decode(self, token: str, *, expected: TokenType) -> Claims:
        """The claims of a valid token of the expected type, or an UnauthorizedError.

        A token whose signature was checked before is not checked again: only its expiry, which
        is all that can change about it (a revocation is the caller's to check, every time).
        """
        claims = self._verified.get(token)
        if claims is None:
            claims = self._verify(token, expected)
        elif claims.expires_at <= time.time():  # as PyJWT judges `exp`
            del self._verified[token]
            raise unauthorized("token_expired", "The token has expired")
        if claims.type != expected:
            raise unauthorized("token_invalid", f"This endpoint takes a valid {expected} token")
        return claims

    def _verify(self, token: str, expected: TokenType) -> Claims:
        try:
            payload = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                options={"require": REQUIRED_CLAIMS, "verify_signature": True},
            )
        except jwt.ExpiredSignatureError:
            raise unauthorized("token_expired", "The token has expired") from None
        except jwt.PyJWTError:
            raise unauthorized("token_invalid", "The token is invalid") from None
        claims = _claims_from(payload)
        if claims is None:
            raise unauthorized("token_invalid", f"This endpoint takes a valid {expected} token")
        if len(self._verified) >= self._remembered:
            del self._verified[next(iter(self._verified))]  # the longest remembered
        self._verified[token] = claims
        return claims


def _claims_from(payload: dict[str, object]) -> Claims | None:
    sub, jti, sid, type_ = payload["sub"], payload["jti"], payload["sid"], payload["type"]
    iat, exp = payload["iat"], payload["exp"]
    if not (isinstance(sub, str) and sub.isdigit() and isinstance(jti, str) and isinstance(sid, str)):
        return None
    if type_ not in ("access", "refresh") or not isinstance(iat, int) or not isinstance(exp, int):
        return None
    return Claims(int(sub), jti, sid, type_, iat, exp)
