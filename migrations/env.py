"""Alembic environment: runs migrations over the service's own async engine."""

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from sinpluma_async.config import Settings
from sinpluma_async.db.engines import create_engine
from sinpluma_async.db.schema import managed_by_models
from sinpluma_async.models import load_models

config = context.config
target_metadata = load_models()


def database_url() -> str:
    return config.attributes.get("database_url") or Settings.from_env().database_url


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_name=lambda name, type_, _parents: managed_by_models(name, type_),
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_online() -> None:
    engine = create_engine(database_url())
    async with engine.connect() as connection:
        await connection.run_sync(run_migrations)
    await engine.dispose()


if context.is_offline_mode():
    context.configure(url=database_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(run_online())
