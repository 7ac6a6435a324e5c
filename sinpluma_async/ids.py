"""Ids in paths: `<id:name>` matches only an id that can exist, so any other number is a 404.

Ids are positive and signed 64-bit in every table. Werkzeug's `int` converter also takes 0 and
numbers of any size, which reached the database: SQLite cannot bind an integer beyond 64 bits
and answered 500. Here the path itself does not match, so such an id is the 404 of any unknown
path on every backend, for every method, before access checks or the database. A range check
after matching (the `min` and `max` of werkzeug's converter) would not do: werkzeug checks a
rule's methods before its values, so `GET` of a path that also has a `PUT` rule became a 405.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field
from werkzeug.routing import IntegerConverter, Map

SMALLEST_ID = 1
LARGEST_ID = 2**63 - 1
# An id in a body or a query string: outside this range it is a 400 like any other invalid field.
EntityId = Annotated[int, Field(ge=SMALLEST_ID, le=LARGEST_ID)]


def decimals_up_to(bound: int) -> str:
    """A regex for the decimal numbers from 1 to `bound`, without leading zeros."""
    digits = str(bound)
    shorter = rf"[1-9]\d{{0,{len(digits) - 2}}}" if len(digits) > 1 else ""
    same_length = []
    for position, digit in enumerate(digits):
        lowest = 1 if position == 0 else 0
        if int(digit) > lowest:
            rest = len(digits) - position - 1
            same_length.append(f"{digits[:position]}[{lowest}-{int(digit) - 1}]\\d{{{rest}}}")
    return "|".join(branch for branch in (shorter, *same_length, digits) if branch)


class IdConverter(IntegerConverter):
    """A path segment naming an id from 1 to 2**63 - 1, in decimal without leading zeros."""

    regex = decimals_up_to(LARGEST_ID)
    part_isolating = True

    def __init__(self, map: Map) -> None:
        super().__init__(map, min=SMALLEST_ID, max=LARGEST_ID)
