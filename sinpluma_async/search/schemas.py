from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field

from sinpluma_async.pagination import PageQuery

Kind = Literal["all", "notebook", "page"]


def _trimmed(value: str) -> str:
    trimmed = value.strip()
    if not 1 <= len(trimmed) <= 100:
        raise ValueError("must be 1 to 100 characters after trimming")
    return trimmed


class SearchQuery(PageQuery):
    q: Annotated[str, Field(min_length=1, max_length=1000), AfterValidator(_trimmed)]
    kind: Kind = "all"


class SearchHit(BaseModel):
    """A published notebook or page matching the query; title matches rank above body matches."""

    kind: Literal["notebook", "page"]
    notebook_id: int
    page_id: int | None
    title: str
    snippet: str
    score: float
