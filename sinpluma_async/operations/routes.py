from __future__ import annotations

import asyncio
from typing import Any, Literal

from pydantic import BaseModel
from quart import Blueprint, Response, current_app, jsonify
from quart_schema import hide, validate_response

from sinpluma_async.errors import service_unavailable
from sinpluma_async.openapi import problems
from sinpluma_async.ratelimits.http import rate_limit_exempt
from sinpluma_async.runtime import current_runtime
from sinpluma_async.security.access import public

blueprint = Blueprint("operations", __name__)

SWAGGER_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sin Pluma API</title>
<link rel="stylesheet" href="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui.css"></head>
<body><div id="ui"></div>
<script src="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui-bundle.js"></script>
<script>SwaggerUIBundle({url: "/openapi.json", dom_id: "#ui"});</script>
</body></html>"""


class Health(BaseModel):
    status: Literal["ok"] = "ok"


class Readiness(BaseModel):
    """Each dependency the service needs, and whether it answers."""

    status: Literal["ok"] = "ok"
    checks: dict[str, Literal["ok"]]


@blueprint.get("/healthz")
@rate_limit_exempt("liveness probes must always answer")
@public
@validate_response(Health)
async def healthz() -> Health:
    """Liveness: the process answers, without touching any dependency."""
    return Health()


@blueprint.get("/readyz")
@problems(503)
@rate_limit_exempt("readiness probes must always answer")
@public
@validate_response(Readiness)
async def readyz() -> Readiness:
    """Readiness: the database, Redis when configured, and object storage answer."""
    runtime = current_runtime()
    probes = {"database": runtime.database.ping()}
    if runtime.redis is not None:
        probes["redis"] = runtime.check_redis()
    probes["storage"] = runtime.objects.ping()
    outcomes = await asyncio.gather(*probes.values(), return_exceptions=True)
    checks = {
        name: "unavailable" if isinstance(outcome, BaseException) else "ok"
        for name, outcome in zip(probes, outcomes, strict=True)
    }
    failing = [name for name, state in checks.items() if state != "ok"]
    if failing:
        raise service_unavailable(f"Unavailable: {', '.join(failing)}", checks=checks)
    return Readiness(checks=checks)


@blueprint.get("/openapi.json")
@hide
@rate_limit_exempt("a static document, exempt by API.md")
@public
async def openapi() -> Response:
    """The OpenAPI 3.1 document of this service."""
    document: dict[str, Any] | None = current_app.config.get("SINPLUMA_OPENAPI")
    if document is None:
        document = current_app.extensions["QUART_SCHEMA"].openapi_provider.schema()
        current_app.config["SINPLUMA_OPENAPI"] = document
    return jsonify(document)


@blueprint.get("/docs")
@hide
@rate_limit_exempt("a static page, exempt by API.md")
@public
async def docs() -> tuple[str, int, dict[str, str]]:
    """Interactive documentation rendered from /openapi.json."""
    return SWAGGER_PAGE, 200, {"Content-Type": "text/html; charset=utf-8"}
