from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field, field_validator

from sinpluma_async.contract import RequestBody, Timestamp
from sinpluma_async.genres.schemas import GenreRead
from sinpluma_async.pagination import PageQuery

Status = Literal["draft", "published"]


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    return value


Title = Annotated[str, Field(min_length=1, max_length=100), AfterValidator(_not_blank)]
Resume = Annotated[str, Field(max_length=2000)]
GenreId = Annotated[int, Field(ge=1)]


class NotebookCreate(RequestBody):
    title: Title
    genre_id: GenreId
    resume: Resume = ""


class NotebookUpdate(RequestBody):
    """Any subset of the notebook's fields; publishing sets `published_at`."""

    title: Title | None = None
    genre_id: GenreId | None = None
    resume: Resume | None = None
    status: Status | None = None

    @field_validator("title", "genre_id", "resume", "status", mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("may be left out but not null")
        return value


class AuthorRead(BaseModel):
    user_id: int
    username: str
    display_name: str | None


class NotebookRead(BaseModel):
    """A notebook; `page_count` counts the pages the caller can see."""

    notebook_id: int
    title: str
    resume: str
    genre_id: int
    genre: GenreRead
    author: AuthorRead
    status: Status
    page_count: int
    cover_url: str | None
    created_at: Timestamp
    updated_at: Timestamp
    published_at: Timestamp | None


class PageSummary(BaseModel):
    page_id: int
    title: str
    position: int
    published: bool
    updated_at: Timestamp


class NotebookDetail(NotebookRead):
    """A notebook with the summaries of the pages the caller can see, in order."""

    pages: list[PageSummary]


class NotebookQuery(PageQuery):
    scope: Literal["public", "mine"] | None = None
    genre_id: Annotated[int, Field(ge=1)] | None = None
    author: Annotated[str, Field(min_length=1, max_length=30)] | None = None
