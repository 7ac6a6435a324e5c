"""X-Request-ID: the caller's own when it is 1-64 characters of `[A-Za-z0-9._-]`, a new one otherwise.

The id of the exchange being served is a structlog context variable, so every log line written
while serving it carries the id, and so does every problem body (errors.problem_response).
"""

from __future__ import annotations

import re
import uuid

import structlog

REQUEST_ID_HEADER = "X-Request-ID"
VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


def request_id_from(offered: str | None) -> str:
    """The caller's id when it is valid, else a fresh one."""
    if offered is not None and VALID_REQUEST_ID.fullmatch(offered):
        return offered
    return uuid.uuid4().hex


def current_request_id() -> str | None:
    """The id of the request or socket being served, None outside one."""
    request_id: str | None = structlog.contextvars.get_contextvars().get("request_id")
    return request_id
