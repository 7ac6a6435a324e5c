"""Transactions written together (`Database.write_together`) on MariaDB: committed as groups, each
caller's answers its own, a refused transaction failing alone, a lost group never sent twice."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from sqlalchemy import bindparam, func, select, text, update
from sqlalchemy.exc import IntegrityError, OperationalError

from sinpluma_async.db.engines import Database
from sinpluma_async.observability.metrics import DATABASE_GROUPED_TRANSACTIONS
from sinpluma_async.pages.models import PAGES
from tests.support import create_notebook, create_page, wait_for_a_row_lock_wait, wait_until

pytestmark = pytest.mark.parametrize("backend", ["mariadb"], indirect=True)

_RETITLE = update(PAGES).where(PAGES.c.id == bindparam("page_id")).values(title=bindparam("new_title"))
_TITLE = select(PAGES.c.title).where(PAGES.c.id == bindparam("page_id"))
# A write that cannot succeed: the page takes an id another page has.
_TAKE_ID = update(PAGES).where(PAGES.c.id == bindparam("page_id")).values(id=bindparam("taken_id"))
_SLEEP = select(func.sleep(bindparam("seconds")).label("slept"))
PREPARED = (_RETITLE, _TITLE, _TAKE_ID, _SLEEP)


@asynccontextmanager
async def _database(settings) -> AsyncIterator[Database]:
    database = Database(settings.database_url, prepared=PREPARED)
    try:
        yield database
    finally:
        await database.dispose()


async def _pages(client, writer, count: int) -> list[int]:
    notebook = await create_notebook(client, writer)
    return [
        (await create_page(client, writer, notebook["notebook_id"], title=f"Página {n}"))["page_id"]
        for n in range(count)
    ]


async def _titles(database: Database, pages: list[int]) -> list[str]:
    async with database.snapshot() as session:
        rows = (await session.execute(select(PAGES.c.id, PAGES.c.title).where(PAGES.c.id.in_(pages)))).all()
    by_id = dict(rows)
    return [by_id[page] for page in pages]


def _commits() -> tuple[float, float]:
    """How many commits the process made together, and how many transactions they held."""
    samples = {
        sample.name: sample.value for sample in next(iter(DATABASE_GROUPED_TRANSACTIONS.collect())).samples
    }
    return samples["sinpluma_database_transactions_per_commit_count"], samples[
        "sinpluma_database_transactions_per_commit_sum"
    ]


def _retitle(page: int, title: str) -> list:
    return [(_RETITLE, {"page_id": page, "new_title": title}), (_TITLE, {"page_id": page})]


async def test_transactions_that_arrive_together_commit_together_each_with_its_own_answers(
    client, writer, settings
):
    pages = await _pages(client, writer, 12)
    commits_before, transactions_before = _commits()
    async with _database(settings) as database:
        answers = await asyncio.gather(
            *(database.write_together(_retitle(page, f"Nueva {page}")) for page in pages)
        )
        assert await _titles(database, pages) == [f"Nueva {page}" for page in pages]
    assert [[answer.row_count for answer in own] for own in answers] == [[1, 0]] * len(pages)
    assert [own[1].first_row for own in answers] == [(f"Nueva {page}",) for page in pages]
    commits_after, transactions_after = _commits()
    assert transactions_after - transactions_before == len(pages)
    assert commits_after - commits_before <= 2  # at most two groups are written at once


async def test_a_refused_transaction_fails_alone_and_the_rest_of_its_group_commits(client, writer, settings):
    pages = await _pages(client, writer, 6)
    refused_page, taken = pages[2], pages[3]
    # Its first statement would succeed: it must be undone with the second's failure.
    refused = [
        (_RETITLE, {"page_id": refused_page, "new_title": "Perdido"}),
        (_TAKE_ID, {"page_id": refused_page, "taken_id": taken}),
    ]
    others = [page for page in pages if page != refused_page]
    async with _database(settings) as database:
        results = await asyncio.gather(
            *(
                database.write_together(refused if page == refused_page else _retitle(page, "Nueva"))
                for page in pages
            ),
            return_exceptions=True,
        )
        titles = await _titles(database, pages)
    assert isinstance(results[2], IntegrityError)
    assert all(isinstance(results[pages.index(page)], list) for page in others)
    assert titles == ["Nueva", "Nueva", "Página 2", "Nueva", "Nueva", "Nueva"]


async def test_a_group_whose_connection_is_lost_fails_whole_and_is_not_sent_again(client, writer, settings):
    pages = await _pages(client, writer, 3)
    async with _database(settings) as database:
        sleeper = database.write_together([(_SLEEP, {"seconds": 30}), *_retitle(pages[0], "Nueva")])
        written = asyncio.gather(
            sleeper,
            *(database.write_together(_retitle(page, "Nueva")) for page in pages[1:]),
            return_exceptions=True,
        )
        async with database.writer.connect() as watcher:

            async def sleeping() -> int | None:
                found = await watcher.execute(
                    text("SELECT id FROM information_schema.processlist WHERE info LIKE 'SELECT sleep%'")
                )
                return found.scalar()

            await wait_until(sleeping)
            await watcher.execute(text(f"KILL CONNECTION {int(await sleeping())}"))
        results = await written
        titles = await _titles(database, pages)
    assert [type(result) for result in results] == [OperationalError] * 3
    assert titles == ["Página 0", "Página 1", "Página 2"]


async def test_a_caller_that_gives_up_before_its_group_is_sent_is_never_written(client, writer, settings):
    pages = await _pages(client, writer, 3)
    async with _database(settings) as database:
        async with database.writer.connect() as locker, locker.begin():
            await locker.execute(select(PAGES.c.id).where(PAGES.c.id == pages[0]).with_for_update())
            # Both groups a process writes at once wait for the lock; the third caller waits for them.
            blocked = []
            for n in (1, 2):
                blocked.append(
                    asyncio.create_task(database.write_together(_retitle(pages[0], f"Espera {n}")))
                )
                await wait_for_a_row_lock_wait(database.writer, transactions=n)
            given_up = asyncio.create_task(database.write_together(_retitle(pages[1], "Abandonada")))
            await asyncio.sleep(0)
            given_up.cancel()
        await asyncio.gather(*blocked)
        with pytest.raises(asyncio.CancelledError):
            await given_up
        titles = await _titles(database, pages)
    assert titles == ["Espera 2", "Página 1", "Página 2"]


async def test_a_caller_that_gives_up_while_its_group_is_written_is_not_sent_again_alone(
    client, writer, settings
):
    pages = await _pages(client, writer, 4)
    refused = [(_TAKE_ID, {"page_id": pages[2], "taken_id": pages[3]})]
    async with _database(settings) as database:
        async with database.writer.connect() as locker, locker.begin():
            await locker.execute(select(PAGES.c.id).where(PAGES.c.id == pages[0]).with_for_update())
            # One group: the first waits for the lock, the second gives up meanwhile, the third is refused.
            first, given_up, failing = [
                asyncio.create_task(database.write_together(steps))
                for steps in (_retitle(pages[0], "Nueva"), _retitle(pages[1], "Abandonada"), refused)
            ]
            await wait_for_a_row_lock_wait(database.writer)
            given_up.cancel()
        assert [answer.row_count for answer in await first] == [1, 0]
        with pytest.raises(IntegrityError):
            await failing
        with pytest.raises(asyncio.CancelledError):
            await given_up
        titles = await _titles(database, pages)
    assert titles == ["Nueva", "Página 1", "Página 2", "Página 3"]
