"""The service's log: one line per record, by structlog, on one stream.

`json`: one JSON object per line, for a collector; `text`: `key=value` lines for a person. Records
of the standard library's loggers (the service's modules, the libraries) go through the same
processors as structlog's own events, so every line has the time, the level, the logger and, while
serving, the request id.

structlog's events (the access line above all, one per request) are rendered by structlog and
written to the stream directly, never through the standard library's logging: through its record,
handler and formatter an access line took 51-54 us in a loop and 129-272 us where a request
writes it, against 10 us and 49-115 us now (docs/benchmarks.md, "The access line without the
standard library's logging").
"""

from __future__ import annotations

import logging
import sys
from typing import Any, TextIO

import structlog

from sinpluma_async.config import Settings
from sinpluma_async.json_encoding import compact_json

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
    return compact_json(event, default=options.get("default")).decode()


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


class LineLogger(structlog.WriteLogger):
    """structlog's writer of rendered lines, with the name its events show as `logger`."""

    def __init__(self, stream: TextIO, name: str | None) -> None:
        super().__init__(stream)
        self.name = name


class LineLoggerFactory:
    """`structlog.get_logger(name)`'s loggers: each writes its lines to `stream`."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def __call__(self, *args: Any) -> LineLogger:
        return LineLogger(self._stream, args[0] if args else None)


class AccessLog:
    """The access line's logger, assembled once per configuration of the log.

    structlog's `get_logger` gives a lazy logger that assembles itself again at every call;
    caching it for good would keep the first configuration, and the log is configured again (a
    test capturing it, say).
    """

    name = "sinpluma.access"

    def __init__(self) -> None:
        self._logger: Any = structlog.get_logger(self.name)

    def assemble(self) -> None:
        self._logger = structlog.get_logger(self.name).bind()

    def info(self, event: str, **fields: Any) -> None:
        self._logger.info(event, **fields)


ACCESS_LOG = AccessLog()


def configure_logging(settings: Settings, stream: TextIO | None = None) -> None:
    """Send every log record of this process to `stream` (standard output) in the configured format."""
    stream = stream or sys.stdout
    root = logging.getLogger()
    root.handlers = [log_handler(settings.log_format, stream)]
    root.setLevel(logging.INFO)
    structlog.configure(
        processors=[*SHARED_PROCESSORS, *renderers(settings.log_format)],
        logger_factory=LineLoggerFactory(stream),
        wrapper_class=structlog.make_filtering_bound_logger(logging.INFO),
        cache_logger_on_first_use=False,
    )
    ACCESS_LOG.assemble()
