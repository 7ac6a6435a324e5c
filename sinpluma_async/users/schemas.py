from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, EmailStr, Field

from sinpluma_async.contract import NotBlank, Omittable, RequestBody, ResponseBody, Timestamp
from sinpluma_async.security.passwords import MAX_PASSWORD_BYTES

MIN_PASSWORD_BYTES = 8


def _password_bytes(value: str) -> str:
    size = len(value.encode())
    if not MIN_PASSWORD_BYTES <= size <= MAX_PASSWORD_BYTES:
        raise ValueError(f"must be {MIN_PASSWORD_BYTES} to {MAX_PASSWORD_BYTES} bytes of UTF-8")
    return value


Username = Annotated[str, Field(min_length=3, max_length=30, pattern=r"^[A-Za-z0-9_]+$")]
Email = Annotated[EmailStr, Field(max_length=254)]
Password = Annotated[str, Field(min_length=1, max_length=MAX_PASSWORD_BYTES), AfterValidator(_password_bytes)]
DisplayName = Annotated[str, Field(min_length=1, max_length=60), NotBlank]
Bio = Annotated[str, Field(max_length=500)]


class UserCreate(RequestBody):
    username: Username
    email: Email
    password: Password
    display_name: DisplayName | None = None
    bio: Bio = ""


class UserUpdate(RequestBody):
    """Any subset of the profile; changing email or password needs current_password."""

    username: Annotated[Username | None, Omittable] = None
    email: Annotated[Email | None, Omittable] = None
    display_name: DisplayName | None = None
    bio: Annotated[Bio | None, Omittable] = None
    password: Annotated[Password | None, Omittable] = None
    current_password: Annotated[str, Field(min_length=1, max_length=1024)] | None = None


class UserPublic(ResponseBody):
    """A user's public profile."""

    user_id: int
    username: str
    display_name: str | None
    bio: str
    created_at: Timestamp
    image_url: str | None
    notebook_count: int


class UserPrivate(UserPublic):
    """A user's own profile, with the email address."""

    email: str
