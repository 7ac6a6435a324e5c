from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field, model_validator

from sinpluma_async.pagination import PageQuery

Kind = Literal["all", "notebook", "page"]


def _trimmed(value: str) -> str:
    trimmed = value.strip()
    if not 1 <= len(trimmed) <= 100:
        raise ValueError("must be 1 to 100 characters after trimming")
    return trimmed


# Each kind is ranked up to the requested page, so deep pages cost more; like most search
# engines, only the first thousand results can be paged through.
MAX_RESULTS = 1000


class SearchQuery(PageQuery):
    q: Annotated[str, Field(min_length=1, max_length=1000), AfterValidator(_trimmed)]
    kind: Kind = "all"

    @model_validator(mode="after")
    def _within_reach(self) -> SearchQuery:
        if self.offset + self.per_page > MAX_RESULTS:
            raise ValueError(f"only the first {MAX_RESULTS} results can be paged through")
        return self


class SearchHit(BaseModel):
    """A published notebook or page matching the query; title matches rank above body matches."""

    kind: Literal["notebook", "page"]
    notebook_id: int
    page_id: int | None
    title: str
    snippet: str
    score: float
