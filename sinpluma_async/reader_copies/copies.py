"""The reader-mode answers this process served, by page, kept within a budget of bytes.

A copy is served again only while its notebook's generation is the one it was read under, so a
reader never sees what a committed and acknowledged write changed: the write starts a new
generation before it answers. The generation is known before the page is read from the database
(`check`), so a copy read while a write commits is kept under the generation the write ends.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from sinpluma_async.observability.metrics import READER_COPIES
from sinpluma_async.reader_copies.generations import Generations

# A copy is read again after this long, whatever its generation: the bound on what a write whose
# generation could not be renewed (Redis failing at that moment) leaves readers seeing.
COPY_SECONDS = 60.0
SERVED, OUTDATED, MISSING = (READER_COPIES.labels(result) for result in ("served", "outdated", "missing"))


@dataclass(frozen=True, slots=True)
class ReaderAnswer:
    """A page's reader-mode answer, encoded, and its ETag, with what decides who may see it."""

    notebook_id: int
    author_id: int
    notebook_status: str
    published: bool
    body: bytes
    etag: str


@dataclass(frozen=True, slots=True)
class ReaderCopy:
    answer: ReaderAnswer
    generation: bytes | None
    kept_at: float


@dataclass(frozen=True, slots=True)
class CopyCheck:
    """What a request found of a page: a copy it may serve, and the generation it read for the
    notebook of the copy held, that a new copy is kept under. A page found since in another notebook
    is kept under a generation of the first, which the second's never equals."""

    fresh: ReaderAnswer | None
    generation: bytes | None = None


class ReaderCopies:
    """Copies of reader-mode answers, the least recently served dropped first past `max_bytes`
    (0: nothing is kept)."""

    def __init__(
        self, generations: Generations, *, max_bytes: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._generations = generations
        self._max_bytes = max_bytes
        self._clock = clock
        self._copies: OrderedDict[int, ReaderCopy] = OrderedDict()
        self._bytes = 0

    def keys_to_read(self, page_id: int) -> list[str]:
        """The generation keys a read of this page needs from the call's round trip."""
        copy = self._copies.get(page_id)
        return [] if copy is None else self._generations.keys_to_read(copy.answer.notebook_id)

    def check(self, page_id: int, read: Mapping[str, bytes]) -> CopyCheck:
        """Before the page is read: its copy, if still what readers see, and the generation read."""
        copy = self._copies.get(page_id)
        if copy is None:
            MISSING.inc()
            return CopyCheck(None)
        generation = self._generations.current(copy.answer.notebook_id, read)
        if generation is None or generation != copy.generation or self._clock() - copy.kept_at > COPY_SECONDS:
            OUTDATED.inc()
            return CopyCheck(None, generation)
        SERVED.inc()
        self._copies.move_to_end(page_id)
        return CopyCheck(copy.answer, generation)

    def keep(self, page_id: int, answer: ReaderAnswer, check: CopyCheck) -> None:
        """Keep the answer read after `check`, under the generation the check read for its notebook."""
        if self._max_bytes == 0:
            return
        self._drop(page_id)
        self._copies[page_id] = ReaderCopy(answer, check.generation, self._clock())
        self._bytes += len(answer.body)
        while self._bytes > self._max_bytes:
            self._drop(next(iter(self._copies)))

    async def renew(self, notebook_id: int) -> None:
        """After a committed write that changes what the notebook's readers see."""
        await self._generations.renew(notebook_id)

    def _drop(self, page_id: int) -> None:
        copy = self._copies.pop(page_id, None)
        if copy is not None:
            self._bytes -= len(copy.answer.body)
