"""Sin Pluma: the REST and websocket API of a writing platform."""

from __future__ import annotations

import logging

from quart import Quart, Response
from quart_cors import cors
from quart_schema import Info, QuartSchema

from sinpluma_async.auth.routes import blueprint as auth_blueprint
from sinpluma_async.config import Settings
from sinpluma_async.errors import register_error_handlers
from sinpluma_async.freshness.http import install_read_your_writes
from sinpluma_async.genres.routes import blueprint as genres_blueprint
from sinpluma_async.ids import IdConverter
from sinpluma_async.images.routes import blueprint as images_blueprint
from sinpluma_async.json_encoding import OrjsonResponses
from sinpluma_async.models import load_models
from sinpluma_async.notebooks.routes import blueprint as notebooks_blueprint
from sinpluma_async.observability.exchanges import observe_exchanges
from sinpluma_async.openapi import ProblemAwareProvider
from sinpluma_async.operations.routes import blueprint as operations_blueprint
from sinpluma_async.pages.routes import blueprint as pages_blueprint
from sinpluma_async.ratelimits.http import install_rate_limits
from sinpluma_async.readings.routes import blueprint as readings_blueprint
from sinpluma_async.realtime.routes import blueprint as realtime_blueprint
from sinpluma_async.requests import install_request_bodies
from sinpluma_async.runtime import install_runtime
from sinpluma_async.schema_adapters_once import build_schema_adapters_once
from sinpluma_async.search.routes import blueprint as search_blueprint
from sinpluma_async.users.routes import blueprint as users_blueprint

log = logging.getLogger(__name__)
# OpenAPI 3.1 has no websocket operations, so the autosave channel is described here.
WEBSOCKET_DESCRIPTION = """Errors are RFC 9457 problem details (`application/problem+json`).

**Autosave websocket: `GET /ws/autosave` (upgrade).** Text frames, one JSON object each. First
message within 10 s: `{"type": "auth", "token": "<access token>"}` → `{"type": "ready", "user_id",
"expires_at"}` (a bad token closes with 4401, none in time with 4408). Then
`{"type": "save", "page_id", "client_seq", "content", "title"?, "base_version"?}` →
`{"type": "ack", "page_id", "client_seq", "version", "saved_at"}` once committed, or
`{"type": "conflict", ..., "current_version"}`, or `{"type": "error", "client_seq", "status", "code",
"detail"}`; `{"type": "subscribe" | "unsubscribe", "page_id"}` → `subscribed` and `page.updated`
events; `{"type": "ping"}` → `{"type": "pong"}`; `auth` again renews the token. Over 2 MiB closes
with 1009; more than 20 saves a second answers 429. A user holds at most 20 sockets at once
(`SINPLUMA_MAX_SOCKETS_PER_USER`), on every server process together: the next one closes with 4429
after its `auth`."""
CORS_EXPOSED_HEADERS = [
    "ETag",
    "Idempotent-Replayed",
    "Location",
    "RateLimit",
    "RateLimit-Policy",
    "Retry-After",
    "WWW-Authenticate",
]
BLUEPRINTS = (
    operations_blueprint,
    auth_blueprint,
    users_blueprint,
    genres_blueprint,
    notebooks_blueprint,
    pages_blueprint,
    readings_blueprint,
    search_blueprint,
    images_blueprint,
    realtime_blueprint,
)


async def secure_defaults(response: Response) -> Response:
    """Responses carry tokens and private data: never cached unless a route says otherwise."""
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def allow_cross_origin(app: Quart, origins: tuple[str, ...]) -> Quart:
    """CORS for these origins: what a browser may send, and which response headers it may read."""
    return cors(
        app,
        allow_origin="*" if origins == ("*",) else list(origins),
        allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "If-Match", "If-None-Match"],
        allow_methods=["GET", "POST", "PUT", "DELETE"],
        expose_headers=CORS_EXPOSED_HEADERS,
        max_age=600,
    )


def create_app(settings: Settings | None = None) -> Quart:
    """Build the application; with no settings they are read from SINPLUMA_* variables."""
    settings = settings or Settings.from_env()
    if settings.jwt_secret_generated:
        log.warning("SINPLUMA_JWT_SECRET is unset: tokens are signed with a random per-process secret")
    load_models()
    build_schema_adapters_once()
    app = Quart(__name__, static_folder=None)
    app.url_map.converters["id"] = IdConverter
    observe_exchanges(app)
    install_request_bodies(app, settings)
    QuartSchema(
        app,
        info=Info(title="Sin Pluma API", version="1.0.0", description=WEBSOCKET_DESCRIPTION),
        openapi_path=None,
        swagger_ui_path=None,
        redoc_ui_path=None,
        scalar_ui_path=None,
        openapi_provider_class=ProblemAwareProvider,
        security_schemes={"bearerAuth": {"type": "http", "scheme": "bearer", "bearer_format": "JWT"}},
    )
    app.json = OrjsonResponses(app)
    register_error_handlers(app)
    install_runtime(app, settings)
    install_rate_limits(app, settings)
    install_read_your_writes(app)
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    app.after_request(secure_defaults)
    if settings.cors_origins:
        app = allow_cross_origin(app, settings.cors_origins)
    return app
