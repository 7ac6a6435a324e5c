"""Probes, the OpenAPI document and its page, and the Prometheus series."""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import Awaitable
from typing import Any, Literal

from prometheus_client import CONTENT_TYPE_LATEST
from pydantic import BaseModel
from quart import Blueprint, Response, current_app, jsonify, send_from_directory
from quart_schema import hide, validate_response

from sinpluma_async.errors import not_found, service_unavailable, unauthorized
from sinpluma_async.observability.exposition import exposition
from sinpluma_async.observability.metrics import DEPENDENCY_ERRORS
from sinpluma_async.openapi import problems
from sinpluma_async.operations.docs import (
    ASSET_NAMES,
    ASSETS,
    CONTENT_SECURITY_POLICY,
    DOCS_PAGE,
    START_SCRIPT,
    START_SCRIPT_NAME,
)
from sinpluma_async.ratelimits.http import rate_limit_exempt
from sinpluma_async.runtime import Runtime, current_runtime
from sinpluma_async.security.access import bearer_token, public

blueprint = Blueprint("operations", __name__)


class Health(BaseModel):
    status: Literal["ok"] = "ok"


class Readiness(BaseModel):
    """Each dependency the service needs: `ok`, or `embedded` when it is the built-in default."""

    status: Literal["ok"] = "ok"
    checks: dict[str, Literal["ok", "embedded"]]


def dependency_probes(runtime: Runtime) -> dict[str, tuple[Awaitable[None], bool]]:
    """Each dependency's probe, and whether it is configured (rather than the embedded default)."""
    settings = runtime.settings
    return {
        "database": (runtime.database.ping(), runtime.database.is_mysql),
        "redis": (runtime.check_redis(), settings.redis_url is not None),
        "storage": (runtime.objects.ping(), settings.s3_endpoint is not None),
    }


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
    """Readiness: the database, Redis and object storage answer; embedded defaults say so."""
    probes = dependency_probes(current_runtime())
    outcomes = await asyncio.gather(*(probe for probe, _ in probes.values()), return_exceptions=True)
    checks = {
        name: "unavailable" if isinstance(outcome, BaseException) else "ok" if configured else "embedded"
        for (name, (_, configured)), outcome in zip(probes.items(), outcomes, strict=True)
    }
    failing = [name for name, state in checks.items() if state == "unavailable"]
    if failing:
        for name in failing:
            DEPENDENCY_ERRORS.labels(name).inc()
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
    """Interactive documentation rendered from /openapi.json, with nothing loaded from elsewhere."""
    headers = {"Content-Type": "text/html; charset=utf-8", "Content-Security-Policy": CONTENT_SECURITY_POLICY}
    return DOCS_PAGE, 200, headers


@blueprint.get("/docs/assets/<name>")
@hide
@rate_limit_exempt("static files of the docs page")
@public
async def docs_asset(name: str) -> Response:
    """Swagger UI's script, styles and icon (from the swagger-ui-py package), and what starts it."""
    if name == START_SCRIPT_NAME:
        response = Response(START_SCRIPT, content_type="text/javascript; charset=utf-8")
    elif name in ASSET_NAMES:
        response = await send_from_directory(ASSETS, name)
    else:
        raise not_found("No such file")
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


@blueprint.get("/metrics")
@hide
@rate_limit_exempt("scraped by Prometheus; SINPLUMA_METRICS_TOKEN guards it")
@public
async def metrics() -> Response:
    """Prometheus text exposition, summed over every server process."""
    settings = current_runtime().settings
    if settings.metrics_token is not None:
        token = bearer_token()
        if token is None or not hmac.compare_digest(token.encode(), settings.metrics_token.encode()):
            raise unauthorized("token_invalid", "/metrics needs the metrics token as its bearer token")
    body = await asyncio.to_thread(exposition, settings.metrics_dir)
    return Response(body, content_type=CONTENT_TYPE_LATEST)
