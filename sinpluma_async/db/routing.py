"""Where a request's reads go: the read endpoint, or the writer for a caller who wrote recently.

The choice is made once per request, when its token is checked (`freshness/`), and held in a
context variable: services read through `Database.snapshot` and never need to know who asks.
"""

from __future__ import annotations

from contextvars import ContextVar

_reads_go_to_writer: ContextVar[bool] = ContextVar("reads_go_to_writer", default=False)


def send_reads_to_writer(wanted: bool) -> None:
    """Route this request's (this task's) reads to the writer, or back to the read endpoint."""
    _reads_go_to_writer.set(wanted)


def reads_go_to_writer() -> bool:
    """Whether this request's reads go to the writer."""
    return _reads_go_to_writer.get()
