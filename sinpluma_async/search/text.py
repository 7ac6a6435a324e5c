"""Turning a query into words, and a matching passage of text into a snippet."""

from __future__ import annotations

import re
import unicodedata

# A word holds at least one letter or digit. InnoDB keeps `_` inside words and FTS5 splits on it,
# so a run of underscores alone is no word to FTS5 (an empty phrase, matching nothing): a query
# such as `_` must be matched literally instead.
WORD = re.compile(r"\w*[^\W_]\w*")
SNIPPET_CHARS = 160


def words(query: str) -> list[str]:
    """The distinct words of a query, in order."""
    return list(dict.fromkeys(WORD.findall(query)))


def fold(text: str) -> tuple[str, list[int]]:
    """Text without case or accents, and for each folded character its index in the original."""
    folded: list[str] = []
    origins: list[int] = []
    for index, character in enumerate(text):
        for piece in unicodedata.normalize("NFKD", character).casefold():
            if not unicodedata.combining(piece):
                folded.append(piece)
                origins.append(index)
    return "".join(folded), origins


def snippet(text: str, query: str) -> str:
    """About 160 characters of text around the first place the query (or one of its words) occurs."""
    flat = " ".join(text.split())
    if len(flat) <= SNIPPET_CHARS:
        return flat
    folded, origins = fold(flat)
    needles = [fold(query)[0], *(fold(word)[0] for word in words(query))]
    found = [position for needle in needles if needle and (position := folded.find(needle)) >= 0]
    start = origins[min(found)] if found else 0
    begin = max(0, start - SNIPPET_CHARS // 3)
    end = min(len(flat), begin + SNIPPET_CHARS)
    begin = max(0, end - SNIPPET_CHARS)
    return ("…" if begin else "") + flat[begin:end].strip() + ("…" if end < len(flat) else "")


def like_pattern(text: str) -> str:
    """A LIKE pattern matching `text` literally anywhere: `%`, `_` and `\\` escaped with `\\`."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
