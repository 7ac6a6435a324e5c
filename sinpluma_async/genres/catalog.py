"""The genres, read once per process: migrations seed them and no endpoint changes them."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from sinpluma_async.conditional import body_etag
from sinpluma_async.db.engines import Database
from sinpluma_async.genres.models import Genre
from sinpluma_async.genres.schemas import GenreList, GenreRead


class GenreCatalog:
    """Genres by id, and the list response with its ETag, cached after the first read."""

    def __init__(self) -> None:
        self._by_id: dict[int, GenreRead] = {}
        self._listing: GenreList | None = None
        self.etag = ""
        self._lock = asyncio.Lock()

    async def load(self, db: Database) -> GenreList:
        if self._listing is None:
            async with self._lock:
                if self._listing is None:
                    async with db.snapshot() as session:
                        rows = (await session.execute(select(Genre).order_by(Genre.name))).scalars().all()
                    genres = [GenreRead(genre_id=row.id, name=row.name) for row in rows]
                    listing = GenreList(items=genres)
                    self._by_id = {genre.genre_id: genre for genre in genres}
                    self.etag = body_etag(listing.model_dump_json().encode())
                    self._listing = listing
        return self._listing

    async def get(self, db: Database, genre_id: int) -> GenreRead | None:
        await self.load(db)
        return self._by_id.get(genre_id)
