"""The migrations build exactly the schema the models describe, on SQLite and on MariaDB."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from sinpluma_async.db.engines import create_engine
from sinpluma_async.db.schema import managed_by_models
from sinpluma_async.models import load_models
from tests.support import SEEDED_GENRES


async def schema_difference_and_genres(url):
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            difference = await connection.run_sync(
                lambda sync: compare_metadata(
                    MigrationContext.configure(
                        sync, opts={"include_name": lambda name, type_, _: managed_by_models(name, type_)}
                    ),
                    load_models(),
                )
            )
            genres = (await connection.execute(text("SELECT name FROM genres ORDER BY name"))).scalars().all()
    finally:
        await engine.dispose()
    return difference, list(genres)


async def test_sqlite_schema_matches_models(sqlite_template):
    difference, genres = await schema_difference_and_genres(f"sqlite+aiosqlite:///{sqlite_template}")
    assert difference == []
    assert genres == SEEDED_GENRES


async def test_mariadb_schema_matches_models(mariadb_url):
    difference, genres = await schema_difference_and_genres(mariadb_url)
    assert difference == []
    assert sorted(genres) == sorted(SEEDED_GENRES)


async def test_mariadb_tables_are_utf8mb4(mariadb_url):
    engine = create_engine(mariadb_url)
    try:
        async with engine.connect() as connection:
            collations = (
                (
                    await connection.execute(
                        text(
                            "SELECT table_collation FROM information_schema.tables"
                            " WHERE table_schema = DATABASE()"
                        )
                    )
                )
                .scalars()
                .all()
            )
    finally:
        await engine.dispose()
    assert collations and all(collation.startswith("utf8mb4_") for collation in collations)
