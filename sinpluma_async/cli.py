"""The `sinpluma` command: apply migrations, or serve with Hypercorn."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

from alembic import command
from alembic.config import Config

from sinpluma_async.config import METRICS_DIR_VARIABLE, Settings
from sinpluma_async.observability.logs import configure_logging
from sinpluma_async.supervisor import supervise

PROJECT_ROOT = Path(__file__).resolve().parent.parent
APPLICATION = "sinpluma_async.asgi:app"
DEFAULT_BIND = "127.0.0.1:8000"
# Where the workers of `sinpluma serve` keep their series when PROMETHEUS_MULTIPROC_DIR is unset.
DEFAULT_METRICS_DIR = Path("var/metrics")


def alembic_config(database_url: str | None = None) -> Config:
    """Alembic's configuration, pointing at migrations/ and at the configured database."""
    config = Config(toml_file=str(PROJECT_ROOT / "pyproject.toml"))
    config.attributes["database_url"] = database_url or Settings.from_env().database_url
    return config


def migrate(database_url: str | None = None) -> None:
    """Bring the database schema up to the newest migration."""
    command.upgrade(alembic_config(database_url), "head")


def fresh_metrics_directory(settings: Settings) -> Path:
    """An empty directory for this run's series, named in the environment the workers inherit.

    Emptied at every start: files left by an earlier run would be added to this one's.
    """
    directory = settings.metrics_dir or DEFAULT_METRICS_DIR
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    os.environ[METRICS_DIR_VARIABLE] = str(directory.resolve())
    return directory


def hypercorn_command(arguments: argparse.Namespace) -> list[str]:
    command = [sys.executable, "-m", "hypercorn", "--config", str(PROJECT_ROOT / "hypercorn.toml")]
    if arguments.bind:
        command += ["--bind", arguments.bind]
    return [*command, APPLICATION]


def main(argv: list[str] | None = None) -> int:
    settings = Settings.from_env()
    configure_logging(settings)
    parser = argparse.ArgumentParser(prog="sinpluma", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="apply database migrations")
    serve = commands.add_parser("serve", help="apply migrations, then serve with Hypercorn")
    serve.add_argument("--bind", default=None, help="host:port, overriding hypercorn.toml")
    serve.add_argument(
        "--workers", type=int, default=None, help="worker processes, each started again if it dies"
    )
    arguments = parser.parse_args(argv)
    migrate(settings.database_url)
    if arguments.command != "serve":
        return 0
    fresh_metrics_directory(settings)
    if arguments.workers:
        config = str(PROJECT_ROOT / "hypercorn.toml")
        bind = arguments.bind or DEFAULT_BIND
        return supervise(config, APPLICATION, bind=bind, workers=arguments.workers)
    # exec, so that Hypercorn itself receives SIGTERM and shuts down gracefully.
    os.execv(sys.executable, hypercorn_command(arguments))  # noqa: S606
    return 0


if __name__ == "__main__":
    sys.exit(main())
