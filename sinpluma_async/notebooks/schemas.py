from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, Strict

from sinpluma_async.contract import NotBlank, Omittable, RequestBody, Timestamp
from sinpluma_async.genres.schemas import GenreRead
from sinpluma_async.ids import EntityId
from sinpluma_async.notebooks.models import NotebookStatus
from sinpluma_async.pages.schemas import PageSummary
from sinpluma_async.pagination import PageQuery

Title = Annotated[str, Field(min_length=1, max_length=100), NotBlank]
Resume = Annotated[str, Field(max_length=2000)]
GenreId = EntityId
# JSON carries the status as its text; strict bodies would otherwise want the enum object.
Status = Annotated[NotebookStatus, Strict(False)]


class NotebookCreate(RequestBody):
    title: Title
    genre_id: GenreId
    resume: Resume = ""


class NotebookUpdate(RequestBody):
    """Any subset of the notebook's fields; publishing sets `published_at`."""

    title: Annotated[Title | None, Omittable] = None
    genre_id: Annotated[GenreId | None, Omittable] = None
    resume: Annotated[Resume | None, Omittable] = None
    status: Annotated[Status | None, Omittable] = None


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
    status: NotebookStatus
    page_count: int
    cover_url: str | None
    created_at: Timestamp
    updated_at: Timestamp
    published_at: Timestamp | None


class NotebookDetail(NotebookRead):
    """A notebook with the summaries of the pages the caller can see, in order."""

    pages: list[PageSummary]


class NotebookQuery(PageQuery):
    scope: Literal["public", "mine"] | None = None
    genre_id: EntityId | None = None
    author: Annotated[str, Field(min_length=1, max_length=30)] | None = None
