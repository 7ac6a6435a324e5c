"""The bare Quart route the side-by-side benchmark holds the service against.

Served by the same Hypercorn configuration as the service (hypercorn.toml, two uvloop workers):
`GET /bare` answers a fixed 20 KB Slate page as JSON bytes, with nothing between the route and
the server: no database, no Redis, no token, no validation.
"""

from __future__ import annotations

import logging
import os

from quart import Quart, Response

# hypercorn.toml hands Hypercorn's lines to the root logger, which the service configures and this
# app must too: the harness waits for its "Running on" line.
logging.basicConfig(level=logging.INFO, format="%(message)s")
BODY = os.environb.get(b"BARE_BODY", b"[]")
app = Quart(__name__)


@app.get("/bare")
async def bare() -> Response:
    return Response(BODY, content_type="application/json")


@app.get("/healthz")
async def healthz() -> Response:
    return Response(b'{"status":"ok"}', content_type="application/json")
