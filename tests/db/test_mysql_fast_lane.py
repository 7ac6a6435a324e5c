from __future__ import annotations

import random

import pytest
from pymysql.converters import escape_string
from sqlalchemy import Boolean, bindparam, event, func, literal_column, select, update

from sinpluma_async.db.engines import Database
from sinpluma_async.db.mysql_fast_lane import escape_mysql_string
from sinpluma_async.pages.models import PAGES
from tests.support import create_notebook, create_page

ALPHABET = "\x00\n\r\x1a\"'\\ abc%_áñ€詩📚"


def test_mysql_escaping_writes_what_pymysql_writes():
    rng = random.Random(5)
    samples = [chr(code) for code in range(0x250)]
    samples += ["".join(rng.choices(ALPHABET, k=rng.randint(0, 40))) for _ in range(2000)]
    for sample in samples:
        assert escape_mysql_string(sample) == escape_string(sample), repr(sample)


# Every character a MySQL string literal treats specially, in the combinations that break a
# wrong escaping: a backslash before each quote, doubled quotes, a trailing backslash.
AWKWARD = (
    "\\ \\\\ \\' \\\" '' \"\" ' \" \\0 \\n \\Z \x00 \x1a \r\n \n\r \r \t "
    "¿Qué pasó, Ñandú? àéîõü ç € “comillas” «latinas» 詩 📚 🧑🏽‍💻 𝄞 𠜎 % _ ` ; -- /* */ \\"
)
_sql_mode_has_no_backslash_escapes = literal_column(
    "FIND_IN_SET('NO_BACKSLASH_ESCAPES', @@SESSION.sql_mode) > 0", Boolean
)
# Writes only where the writing connection's mode is the one the test set: a row count of 1
# proves the mode of the very connection that wrote.
_WRITE_TEXT = (
    update(PAGES)
    .where(
        PAGES.c.id == bindparam("page_id"),
        _sql_mode_has_no_backslash_escapes == bindparam("no_backslash_escapes"),
    )
    .values(title=bindparam("new_title"), content=bindparam("new_content"))
)


def _database(url: str, *, no_backslash_escapes: bool) -> Database:
    database = Database(url, prepared=(_WRITE_TEXT,))
    if no_backslash_escapes:

        @event.listens_for(database.writer.sync_engine, "connect")
        def on_connect(dbapi_connection, _record):
            cursor = dbapi_connection.cursor()
            cursor.execute("SET SESSION sql_mode=CONCAT(@@sql_mode, ',NO_BACKSLASH_ESCAPES')")
            cursor.close()

    return database


@pytest.mark.parametrize("backend", ["mariadb"], indirect=True)
@pytest.mark.parametrize(
    "no_backslash_escapes", [False, True], ids=["backslash-escapes", "no-backslash-escapes"]
)
async def test_text_full_of_special_characters_is_stored_byte_identical(
    client, writer, settings, no_backslash_escapes
):
    notebook = await create_notebook(client, writer)
    page = await create_page(client, writer, notebook["notebook_id"], title="Uno")
    title = AWKWARD[:60] + "\\"
    content = AWKWARD * 120
    database = _database(settings.database_url, no_backslash_escapes=no_backslash_escapes)
    try:
        assert database.is_mysql
        params = {
            "page_id": page["page_id"],
            "no_backslash_escapes": no_backslash_escapes,
            "new_title": title,
            "new_content": content,
        }
        async with database.statements_transaction() as run:
            assert await run(_WRITE_TEXT, params) == 1
        async with database.snapshot() as session:
            stored = (
                await session.execute(
                    select(
                        PAGES.c.title, PAGES.c.content, func.hex(PAGES.c.title), func.hex(PAGES.c.content)
                    ).where(PAGES.c.id == page["page_id"])
                )
            ).one()
    finally:
        await database.dispose()
    assert stored[0] == title and stored[1] == content
    assert stored[2] == title.encode().hex().upper()
    assert stored[3] == content.encode().hex().upper()
