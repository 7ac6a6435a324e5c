"""Every successful write over HTTP is recorded as its user's, once it has committed."""

from __future__ import annotations

from quart import Quart, Response, g, request

from sinpluma_async.runtime import current_runtime
from sinpluma_async.security.access import maybe_identity

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
WRITER = "writer_id"


def wrote_as(user_id: int) -> None:
    """Name the user this request wrote for when its token does not (a login opens a session)."""
    setattr(g, WRITER, user_id)


async def record_write(response: Response) -> Response:
    """Before the response leaves, so that no read the client sends after it can miss the mark."""
    if request.method in WRITE_METHODS and response.status_code < 400:
        identity = maybe_identity()
        user_id: int | None = g.get(WRITER) or (identity.user_id if identity else None)
        if user_id is not None:
            await current_runtime().recent_writes.record(user_id)
    return response


def install_read_your_writes(app: Quart) -> None:
    app.after_request(record_write)
