from __future__ import annotations

import random

from pymysql.converters import escape_string

from sinpluma_async.db.mysql_fast_lane import escape_mysql_string

ALPHABET = "\x00\n\r\x1a\"'\\ abc%_áñ€詩📚"


def test_mysql_escaping_writes_what_pymysql_writes():
    rng = random.Random(5)
    samples = [chr(code) for code in range(0x250)]
    samples += ["".join(rng.choices(ALPHABET, k=rng.randint(0, 40))) for _ in range(2000)]
    for sample in samples:
        assert escape_mysql_string(sample) == escape_string(sample), repr(sample)
