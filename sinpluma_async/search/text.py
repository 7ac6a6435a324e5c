"""A query's words, text without case or accents, and LIKE patterns."""

from __future__ import annotations

import bisect
import functools
import itertools
import re
import unicodedata

# A word holds at least one letter or digit. InnoDB keeps `_` inside words and FTS5 splits on it,
# so a run of underscores alone is no word to FTS5 (an empty phrase, matching nothing): a query
# such as `_` must be matched literally instead.
WORD = re.compile(r"\w*[^\W_]\w*")


def words(query: str) -> list[str]:
    """The distinct words of a query, in order."""
    return list(dict.fromkeys(WORD.findall(query)))


@functools.cache
def _folded(character: str) -> str:
    """One character without case or accents (it may become several, or none)."""
    return "".join(
        piece
        for piece in unicodedata.normalize("NFKD", character).casefold()
        if not unicodedata.combining(piece)
    )


class _FoldingTable(dict[int, str]):
    """`str.translate`'s table, filled as characters are first met."""

    def __missing__(self, code: int) -> str:
        folded = self[code] = _folded(chr(code))
        return folded


_FOLDING = _FoldingTable()


def fold(text: str) -> tuple[str, list[int] | None]:
    """Text without case or accents, and where each original character's folding ends in it
    (None when every character folds to exactly one: then positions are the same in both).

    A snippet folds page text for every hit of a search, on the event loop: character by
    character in Python that cost about 10 ms per 20 KB page, `str.translate` about a tenth.
    """
    folded = text.translate(_FOLDING)
    if all(len(_FOLDING[ord(character)]) == 1 for character in set(text)):
        return folded, None
    return folded, list(itertools.accumulate(len(_FOLDING[ord(character)]) for character in text))


def original_index(ends: list[int] | None, position: int) -> int:
    """The index of the original character whose folding holds folded `position`."""
    return position if ends is None else bisect.bisect_right(ends, position)


def like_pattern(text: str) -> str:
    """A LIKE pattern matching `text` literally anywhere: `%`, `_` and `\\` escaped with `\\`."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
