from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel

from sinpluma_async.contract import Omittable, RequestBody, Timestamp
from sinpluma_async.ids import EntityId
from sinpluma_async.pagination import PageQuery

PageTitle = Annotated[str, Field(max_length=100)]
SlateDocument = Annotated[
    list[dict[str, Any]],
    Field(description="A Slate document: at most 1 MiB serialized and 64 levels deep"),
]
Version = Annotated[int, Field(ge=1)]


class PageCreate(RequestBody):
    notebook_id: EntityId
    title: PageTitle = ""
    content: SlateDocument | None = None


class PageUpdate(RequestBody):
    """A save: any of title, content and position; `base_version` makes it conditional."""

    title: Annotated[PageTitle | None, Omittable] = None
    content: Annotated[SlateDocument | None, Omittable] = None
    position: Annotated[Annotated[int, Field(ge=1)] | None, Omittable] = None
    base_version: Version | None = None


class PageEditor(BaseModel):
    """The author's view of a page: the draft, its version and whether it is published."""

    page_id: int
    notebook_id: int
    title: str
    position: int
    content: list[Any]
    version: int
    published: bool
    published_at: Timestamp | None
    updated_at: Timestamp


class PageReader(BaseModel):
    """The published title and content of a page."""

    page_id: int
    notebook_id: int
    title: str
    position: int
    content: list[Any]
    published_at: Timestamp | None


class PageView(RootModel[PageEditor | PageReader]):
    """A page in editor or reader mode."""


class PageSaved(BaseModel):
    """The outcome of a save."""

    page_id: int
    version: int
    title: str
    position: int
    updated_at: Timestamp


class PageSummary(BaseModel):
    """A page in a notebook's table of contents: the author sees draft titles, readers published ones."""

    page_id: int
    title: str
    position: int
    published: bool
    updated_at: Timestamp


class PageListQuery(PageQuery):
    notebook_id: EntityId


class PageModeQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mode: Literal["reader", "editor"] = "reader"
