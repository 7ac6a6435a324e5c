from __future__ import annotations

from pydantic import BaseModel


class GenreRead(BaseModel):
    genre_id: int
    name: str


class GenreList(BaseModel):
    """Every genre a notebook can have."""

    items: list[GenreRead]
