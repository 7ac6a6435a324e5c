"""A hit's snippet: about 160 characters of its text, whitespace runs made single spaces, around
the first place the query (or one of its words) occurs.

A search makes a snippet for every hit it returns, on the event loop, from texts of up to tens of
kilobytes; flattening and folding whole texts was most of a search's time (docs/benchmarks.md,
"Search's cost"). So the text is folded a window at a time up to the first match, and only the
region around the match is flattened.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sinpluma_async.search.text import fold, original_index, words

SNIPPET_CHARS = 160
# The first match of a search word is usually near a text's start.
SEARCH_WINDOW_CHARS = 512
# Raw characters flattened on each side of the match: enough for SNIPPET_CHARS of flat text unless
# the text has long runs of whitespace there, when the whole text is flattened instead.
REGION_CHARS = 1024


def _position(folded: str, needle: str) -> int:
    """Where `needle` first occurs in `folded` text, a space in it standing for any run of
    whitespace (the snippet's text is flattened only after it is searched); -1 if nowhere."""
    if " " not in needle:
        return folded.find(needle)
    found = re.search(r"\s+".join(map(re.escape, needle.split())), folded)
    return -1 if found is None else found.start()


def first_match(text: str, needles: list[str]) -> int | None:
    """The index in `text` of the first place, ignoring case and accents, where a (folded) needle
    occurs; None if none does."""
    # A match may start near a window's end: each window reaches on by this much, enough for a
    # needle's original span unless its characters carry runs of combining marks or whitespace.
    reach = 4 * max(map(len, needles)) + 16
    for start in range(0, len(text), SEARCH_WINDOW_CHARS):
        folded, ends = fold(text[start : start + SEARCH_WINDOW_CHARS + reach])
        found = [position for needle in needles if (position := _position(folded, needle)) >= 0]
        if found:
            return start + original_index(ends, min(found))
    return None


@dataclass(frozen=True)
class _Around:
    """The flat text around a match: what is before it, what follows, and whether the whole text
    holds more on either side."""

    before: str
    after: str
    more_before: bool
    more_after: bool


def _around(text: str, start: int, reach: int) -> _Around:
    # Cut where whitespace is, so that the region's flat text is exactly a piece of the whole's.
    low = max(0, start - reach)
    while low > 0 and not text[low - 1].isspace():
        low -= 1
    high = min(len(text), start + reach)
    while high < len(text) and not text[high].isspace():
        high += 1
    head = text[low:start]
    before = " ".join(head.split())
    if before and head[-1].isspace():
        before += " "
    more_before = low > 0 and not text[:low].isspace()
    more_after = high < len(text) and not text[high:].isspace()
    return _Around(before, " ".join(text[start:high].split()), more_before, more_after)


def _cut(around: _Around) -> str:
    taken_before = min(len(around.before), SNIPPET_CHARS // 3)
    taken_after = min(len(around.after), SNIPPET_CHARS - taken_before)
    taken_before = min(len(around.before), SNIPPET_CHARS - taken_after)
    cut_before = taken_before < len(around.before) or around.more_before
    cut_after = taken_after < len(around.after) or around.more_after
    passage = around.before[len(around.before) - taken_before :] + around.after[:taken_after]
    return ("…" if cut_before else "") + passage.strip() + ("…" if cut_after else "")


def _enough(around: _Around) -> bool:
    return (len(around.before) >= SNIPPET_CHARS or not around.more_before) and (
        len(around.after) >= SNIPPET_CHARS or not around.more_after
    )


def snippet(text: str, query: str) -> str:
    """About SNIPPET_CHARS characters of text around the first match of the query or its words."""
    needles = [needle for needle in [fold(query)[0], *(fold(word)[0] for word in words(query))] if needle]
    start = (first_match(text, needles) if needles else None) or 0
    around = _around(text, start, REGION_CHARS)
    if not _enough(around):
        around = _around(text, start, len(text))
    return _cut(around)
