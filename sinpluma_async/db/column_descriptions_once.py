"""aiomysql with each result's column descriptions parsed once, not at every query.

MySQL's text protocol sends a description of every column before each result's rows, and aiomysql
parses each one into a PyMySQL `FieldDescriptorPacket` (`MySQLResult._get_descriptions`): 27-29
us for a reader's page of eight columns, 1-2 % of a read's CPU, for bytes that are the same at
every read of one statement. A description depends only on its bytes and the connection's
encoding, and nothing changes it once parsed, so the name `FieldDescriptorPacket` in aiomysql's
module is given one that keeps them (3.8 us for the same eight; docs/benchmarks.md, "Column
descriptions parsed once"). tests/test_seams.py fails if aiomysql stops parsing them through that
name with the packet's bytes and the encoding.
"""

from __future__ import annotations

import functools

import aiomysql.connection
from pymysql.protocol import FieldDescriptorPacket

# A statement's result has a description per column; the service's statements have a few
# hundred in all, and the bound keeps a stream of ad hoc queries from growing it without end.
_DESCRIPTIONS_KEPT = 2048


@functools.lru_cache(maxsize=_DESCRIPTIONS_KEPT)
def kept_description(data: bytes, encoding: str) -> FieldDescriptorPacket:
    return FieldDescriptorPacket(data, encoding)


def parse_column_descriptions_once() -> None:
    """From now on aiomysql's results take their column descriptions from `kept_description`
    (every MySQL engine installs it, `create_engine`)."""
    aiomysql.connection.FieldDescriptorPacket = kept_description
