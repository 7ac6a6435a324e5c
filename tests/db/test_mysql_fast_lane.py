from __future__ import annotations

import random

import pytest
from pymysql.converters import escape_string
from sqlalchemy import Boolean, bindparam, event, func, literal_column, select, update
from sqlalchemy.exc import IntegrityError

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
        for engine in (database.writer, database.one_trip_writer):
            assert engine is not None

            @event.listens_for(engine.sync_engine, "connect")
            def on_connect(dbapi_connection, _record):
                cursor = dbapi_connection.cursor()
                cursor.execute("SET SESSION sql_mode=CONCAT(@@sql_mode, ',NO_BACKSLASH_ESCAPES')")
                cursor.close()

    return database


async def _write_in_a_transaction(database: Database, params: dict) -> int:
    async with database.statements_transaction() as run:
        return await run(_WRITE_TEXT, params)


async def _write_together(database: Database, params: dict) -> int:
    (written,) = await database.write_together([(_WRITE_TEXT, params)])
    return written.row_count


@pytest.mark.parametrize("backend", ["mariadb"], indirect=True)
@pytest.mark.parametrize(
    "no_backslash_escapes", [False, True], ids=["backslash-escapes", "no-backslash-escapes"]
)
@pytest.mark.parametrize("write", [_write_in_a_transaction, _write_together], ids=["transaction", "together"])
async def test_text_full_of_special_characters_is_stored_byte_identical(
    client, writer, settings, no_backslash_escapes, write
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
        assert await write(database, params) == 1
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


# A write that cannot succeed: the page takes an id another page has.
_TAKE_ID = update(PAGES).where(PAGES.c.id == bindparam("page_id")).values(id=bindparam("taken_id"))


@pytest.mark.parametrize("backend", ["mariadb"], indirect=True)
async def test_statements_written_together_commit_whole_or_not_at_all(client, writer, settings):
    notebook = await create_notebook(client, writer)
    first, second = [
        (await create_page(client, writer, notebook["notebook_id"], title=title))["page_id"]
        for title in ("Uno", "Dos")
    ]
    text = {"no_backslash_escapes": False, "new_content": "[]"}
    lost = (_WRITE_TEXT, text | {"page_id": first, "new_title": "Perdido"})
    failing = (_TAKE_ID, {"page_id": second, "taken_id": first})
    # One connection: the next batch runs where this one failed, and its BEGIN would commit
    # whatever the failure left open.
    database = Database(settings.database_url, pool_size=1, prepared=(_WRITE_TEXT, _TAKE_ID))
    try:
        with pytest.raises(IntegrityError):
            await database.write_together([lost, failing])
        retitle = (_WRITE_TEXT, text | {"page_id": second, "new_title": "Nuevo"})
        assert [answer.row_count for answer in await database.write_together([retitle])] == [1]
    finally:
        await database.dispose()
    titles = [(await editor_page(client, writer, page_id))["title"] for page_id in (first, second)]
    assert titles == ["Uno", "Nuevo"]


async def editor_page(client, account, page_id):
    return await (await client.get(f"/pages/{page_id}?mode=editor", headers=account.headers)).get_json()
