"""The `sinpluma` command: apply migrations, or serve with Hypercorn."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from alembic import command
from alembic.config import Config

from sinpluma_async.config import Settings

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def alembic_config(database_url: str | None = None) -> Config:
    """Alembic's configuration, pointing at migrations/ and at the configured database."""
    config = Config(toml_file=str(PROJECT_ROOT / "pyproject.toml"))
    config.attributes["database_url"] = database_url or Settings.from_env().database_url
    return config


def migrate(database_url: str | None = None) -> None:
    """Bring the database schema up to the newest migration."""
    command.upgrade(alembic_config(database_url), "head")


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    parser = argparse.ArgumentParser(prog="sinpluma", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="apply database migrations")
    serve = commands.add_parser("serve", help="apply migrations, then serve with Hypercorn")
    serve.add_argument("--bind", default=None, help="host:port, overriding hypercorn.toml")
    arguments = parser.parse_args(argv)
    migrate()
    if arguments.command == "serve":
        hypercorn = [sys.executable, "-m", "hypercorn", "--config", str(PROJECT_ROOT / "hypercorn.toml")]
        if arguments.bind:
            hypercorn += ["--bind", arguments.bind]
        # exec, so that Hypercorn itself receives SIGTERM and shuts down gracefully.
        os.execv(sys.executable, [*hypercorn, "sinpluma_async.asgi:app"])  # noqa: S606
    return 0


if __name__ == "__main__":
    sys.exit(main())
