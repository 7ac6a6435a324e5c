"""Shapes every domain's schemas share: strict request bodies, UTC timestamps, problem documents."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, PlainSerializer


def format_timestamp(value: datetime) -> str:
    """ISO 8601 in UTC with a `Z`, to the millisecond."""
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


Timestamp = Annotated[datetime, PlainSerializer(format_timestamp, return_type=str)]


def _reject_null(value: Any) -> Any:
    if value is None:
        raise ValueError("may be left out but not null")
    return value


def _reject_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    return value


# On a partial update, `Annotated[X | None, Omittable] = None` lets a field be left out but not
# sent as null (validators do not run on defaults).
Omittable = BeforeValidator(_reject_null)
NotBlank = AfterValidator(_reject_blank)


class RequestBody(BaseModel):
    """A request body: unknown fields are refused and values are never coerced."""

    model_config = ConfigDict(extra="forbid", strict=True)


class ResponseBody(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class ValidationIssue(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str = "about:blank"
    title: str
    status: int
    code: str
    detail: str
    errors: list[ValidationIssue] | None = None
    current_version: int | None = None
    checks: dict[str, str] | None = None
