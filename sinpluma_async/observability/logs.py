"""The service's log: structlog in front of the standard library's logging, one line per record.

`json`: one JSON object per line, for a collector; `text`: `key=value` lines for a person. Records
of the standard library's loggers (the service's modules, the libraries) go through the same
chain, so every line has the time, the level, the logger and, while serving, the request id.
"""

from __future__ import annotations

import json
import logging
import sys
from typing import Any, TextIO

import orjson
import structlog

from sinpluma_async.config import Settings

TIMESTAMPER = structlog.processors.TimeStamper(fmt="iso", utc=True)
SHARED_PROCESSORS: list[Any] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    TIMESTAMPER,
]


def json_text(event: dict[str, Any], **options: Any) -> str:
    """An event as one line of JSON, by orjson: the standard library's encoder was a fifth of
    an access line's cost (docs/benchmarks.md, "The floor under the targets; adapters built
    once, the log line by orjson"). What orjson cannot encode (an integer beyond 64 bits) goes
    to the standard library's."""
    try:
        return orjson.dumps(event, default=options.get("default"), option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:
        return json.dumps(event, **options)


def renderers(log_format: str) -> list[Any]:
    """What turns an event into its line: JSON (tracebacks as data) or readable text."""
    if log_format == "json":
        return [structlog.processors.dict_tracebacks, structlog.processors.JSONRenderer(json_text)]
    return [structlog.dev.ConsoleRenderer(colors=False)]


def log_handler(log_format: str, stream: TextIO) -> logging.Handler:
    handler = logging.StreamHandler(stream)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=SHARED_PROCESSORS,
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *renderers(log_format)],
        )
    )
    return handler


def configure_logging(settings: Settings, stream: TextIO | None = None) -> None:
    """Send every log record of this process to `stream` (standard output) in the configured format."""
    root = logging.getLogger()
    root.handlers = [log_handler(settings.log_format, stream or sys.stdout)]
    root.setLevel(logging.INFO)
    structlog.configure(
        processors=[*SHARED_PROCESSORS, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        # Not cached: the tests configure logging more than once in a process.
        cache_logger_on_first_use=False,
    )
