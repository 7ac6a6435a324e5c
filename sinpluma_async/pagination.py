"""The `page`/`per_page` query parameters and the envelope every list endpoint answers with."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from math import ceil
from typing import Annotated, Generic, TypeVar
from urllib.parse import urlencode

from pydantic import BaseModel, ConfigDict, Field

Item = TypeVar("Item")
MAX_PER_PAGE = 100


class PageQuery(BaseModel):
    """Which slice of a list to return; query strings arrive as text, so numbers are coerced.

    Unknown query parameters are refused like unknown body fields, so that a misspelt filter is
    a 400 rather than a silently unfiltered list.
    """

    model_config = ConfigDict(extra="forbid")

    page: Annotated[int, Field(ge=1, le=1_000_000)] = 1
    per_page: Annotated[int, Field(ge=1, le=MAX_PER_PAGE)] = 20

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page


class PageLinks(BaseModel):
    self: str
    next: str | None
    prev: str | None


class Paginated(BaseModel, Generic[Item]):
    items: list[Item]
    page: int
    per_page: int
    total: int
    pages: int
    links: PageLinks


@dataclass(frozen=True)
class Slice(Generic[Item]):
    """One page of results and how many there are in all."""

    items: Sequence[Item]
    total: int


def paginate(
    found: Slice[Item], query: PageQuery, path: str, filters: dict[str, str | int | None]
) -> Paginated[Item]:
    """The envelope for a slice, with links that keep the caller's filters."""
    pages = ceil(found.total / query.per_page) if found.total else 0
    kept = {name: value for name, value in filters.items() if value is not None}

    def link(number: int) -> str:
        return f"{path}?{urlencode({**kept, 'page': number, 'per_page': query.per_page})}"

    return Paginated[Item](
        items=list(found.items),
        page=query.page,
        per_page=query.per_page,
        total=found.total,
        pages=pages,
        links=PageLinks(
            self=link(query.page),
            next=link(query.page + 1) if query.page < pages else None,
            prev=link(query.page - 1) if query.page > 1 else None,
        ),
    )
