from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field

from sinpluma_async.contract import RequestBody
from sinpluma_async.users.schemas import UserPrivate


class LoginRequest(RequestBody):
    username: Annotated[str, Field(min_length=1, max_length=254, description="Username or email address")]
    password: Annotated[str, Field(min_length=1, max_length=1024)]


class TokenPair(BaseModel):
    """A fresh access token and refresh token of one session."""

    access_token: str
    refresh_token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int


class LoginResponse(TokenPair):
    """The tokens of a new session and the user it belongs to."""

    user: UserPrivate
