"""One APIError and the handlers that turn every failure into RFC 9457 problem details."""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from pydantic import ValidationError
from quart import Quart, Response
from quart_schema import RequestSchemaValidationError
from quart_schema.validation import QuerystringValidationError
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from werkzeug.exceptions import HTTPException

from sinpluma_async.json_encoding import compact_json
from sinpluma_async.observability.metrics import DEPENDENCY_ERRORS
from sinpluma_async.observability.request_ids import current_request_id

# What the database raises when it cannot be reached in time: a lost or refused connection, a
# pool with no connection free, work over its bound. Answered 503, over REST and on the socket.
DATABASE_UNAVAILABLE: tuple[type[Exception], ...] = (OperationalError, InterfaceError, PoolTimeoutError)

log = logging.getLogger(__name__)

PROBLEM_CONTENT_TYPE = "application/problem+json"
RETRY_AFTER_SECONDS = 5

CODES_BY_STATUS = {
    400: "validation_error",
    401: "token_invalid",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    412: "version_conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
    500: "internal_error",
    503: "service_unavailable",
}


FieldProblem = dict[str, Any]  # {"loc": [...], "msg": ..., "type": ...}


class APIError(Exception):
    """An error the client can act on, rendered as problem+json.

    `errors` lists the fields a 400 refused; `checks` is the state of each dependency of a 503
    from readiness. Subclasses with more members say so in `extensions`.
    """

    def __init__(
        self,
        status: int,
        code: str,
        detail: str | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        errors: Sequence[FieldProblem] | None = None,
        checks: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail or code)
        self.status = status
        self.code = code
        self.detail = detail
        self.headers = dict(headers or {})
        self.errors = list(errors) if errors is not None else None
        self.checks = dict(checks) if checks is not None else None

    def extensions(self) -> dict[str, Any]:
        """The problem document's members beyond type, title, status, code and detail."""
        members: dict[str, Any] = {}
        if self.errors is not None:
            members["errors"] = self.errors
        if self.checks is not None:
            members["checks"] = self.checks
        return members


class ServiceUnavailableError(APIError):
    """A dependency (database, Redis, storage) cannot be reached: retry later."""

    def __init__(self, dependency: str) -> None:
        self.dependency = dependency
        super().__init__(
            503,
            "service_unavailable",
            f"The {dependency} is unavailable; retry shortly",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )


class UnauthorizedError(APIError):
    """A 401: the bearer token is missing, malformed, expired, of the wrong type or revoked."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(401, code, detail)


class VersionConflictError(APIError):
    """A 412: a conditional save named a version the page has moved on from; nothing was written."""

    def __init__(self, current_version: int) -> None:
        super().__init__(
            412,
            "version_conflict",
            "The page changed since that version; reload it and save again",
            headers={"ETag": f'"{current_version}"'},
        )
        self.current_version = current_version

    def extensions(self) -> dict[str, Any]:
        return {**super().extensions(), "current_version": self.current_version}


def service_unavailable(detail: str, *, checks: Mapping[str, str] | None = None) -> APIError:
    """A 503 to retry shortly; `checks` names the state of each dependency."""
    return APIError(
        503,
        "service_unavailable",
        detail,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        checks=checks,
    )


def not_found(detail: str) -> APIError:
    return APIError(404, "not_found", detail)


def forbidden(detail: str, code: str = "forbidden") -> APIError:
    return APIError(403, code, detail)


def unauthorized(code: str, detail: str) -> UnauthorizedError:
    """A 401: `code` says what is wrong with the credentials (token_missing, token_expired, ...)."""
    return UnauthorizedError(code, detail)


def conflict(code: str, detail: str) -> APIError:
    return APIError(409, code, detail)


def unprocessable(code: str, detail: str) -> APIError:
    """A 422: the request is well formed but cannot be taken as it is (a reused idempotency key)."""
    return APIError(422, code, detail)


def payload_too_large(detail: str) -> APIError:
    return APIError(413, "payload_too_large", detail)


def unsupported_media_type(detail: str) -> APIError:
    return APIError(415, "unsupported_media_type", detail)


def rate_limited(policy: str, *, retry_after: float, headers: Mapping[str, str]) -> APIError:
    """A 429: `policy` is exhausted; `Retry-After` is whole seconds, at least 1."""
    seconds = max(1, math.ceil(retry_after))
    return APIError(
        429,
        "rate_limited",
        f"Too many requests under the {policy} rate limit; retry after the Retry-After seconds",
        headers={"Retry-After": str(seconds), **headers},
    )


def bad_request(detail: str) -> APIError:
    """A 400 about the request as a whole; `invalid` names a field."""
    return APIError(400, "validation_error", detail)


def invalid(field: Sequence[str | int], message: str, location: str = "body") -> APIError:
    """A 400 for one field that the schema alone could not judge."""
    return APIError(
        400,
        "validation_error",
        "Request is invalid",
        errors=[{"loc": [location, *field], "msg": message, "type": "value_error"}],
    )


def problem_body(status: int, code: str, detail: str | None, **members: Any) -> dict[str, Any]:
    """The problem+json document for a status and code, with the id of the request it answers."""
    title = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status, "code": code}
    body["detail"] = detail or title
    body.update(members)
    request_id = current_request_id()
    if request_id is not None:
        body["request_id"] = request_id
    return body


def problem_response(
    status: int,
    code: str,
    detail: str | None = None,
    *,
    headers: Mapping[str, str] | None = None,
    **members: Any,
) -> Response:
    response = Response(
        compact_json(problem_body(status, code, detail, **members)),
        status=status,
        content_type=PROBLEM_CONTENT_TYPE,
    )
    for name, value in (headers or {}).items():
        response.headers[name] = value
    if status == 401 and "WWW-Authenticate" not in response.headers:
        response.headers["WWW-Authenticate"] = f'Bearer error="invalid_token", error_description="{code}"'
    return response


def validation_errors(error: ValidationError, location: str) -> list[FieldProblem]:
    """Pydantic errors as `[{loc, msg}]`, located in the body or the query string."""
    return [
        {"loc": [location, *entry["loc"]], "msg": entry["msg"], "type": entry["type"]}
        for entry in error.errors(include_url=False, include_context=False, include_input=False)
    ]


def problem_of(error: APIError) -> Response:
    """The problem+json response of an APIError, with its headers and members."""
    return problem_response(
        error.status, error.code, error.detail, headers=error.headers, **error.extensions()
    )


async def _schema_error(error: RequestSchemaValidationError) -> Response:
    location = "query" if isinstance(error, QuerystringValidationError) else "body"
    cause = error.validation_error
    if isinstance(cause, ValidationError):
        errors = validation_errors(cause, location)
    else:
        errors = [{"loc": [location], "msg": str(cause), "type": "value_error"}]
    detail = "Query string is invalid" if location == "query" else "Request body is invalid"
    return problem_response(400, "validation_error", detail, errors=errors)


async def _database_unavailable(error: Exception) -> Response:
    log.warning("Database unavailable: %s", error)
    return await _api_error(ServiceUnavailableError("database"))


async def _framework_error(error: HTTPException) -> Response:
    status = error.code or 500
    headers: dict[str, str] = {}
    if status == 405 and error.valid_methods:  # type: ignore[attr-defined]
        headers["Allow"] = ", ".join(sorted(error.valid_methods))  # type: ignore[attr-defined]
    code = CODES_BY_STATUS.get(status, HTTPStatus(status).phrase.lower().replace(" ", "_"))
    return problem_response(status, code, _framework_detail(status, error), headers=headers)


async def _unexpected(error: Exception) -> Response:
    log.exception("Unhandled error", exc_info=error)
    return problem_response(500, "internal_error", "The server failed to handle the request")


async def _api_error(error: APIError) -> Response:
    if isinstance(error, ServiceUnavailableError):
        DEPENDENCY_ERRORS.labels(error.dependency).inc()
    return problem_of(error)


def register_error_handlers(app: Quart) -> None:
    """Route every exception, the framework's included, to a problem+json response."""
    app.register_error_handler(APIError, _api_error)
    app.register_error_handler(RequestSchemaValidationError, _schema_error)
    for unavailable in DATABASE_UNAVAILABLE:
        app.register_error_handler(unavailable, _database_unavailable)
    app.register_error_handler(HTTPException, _framework_error)
    app.register_error_handler(Exception, _unexpected)


def _framework_detail(status: int, error: HTTPException) -> str:
    if status == 404:
        return "No such resource"
    if status == 405:
        return "Method not allowed on this resource"
    if status == 413:
        return "Request body is too large"
    return error.description if status == 400 and error.description else HTTPStatus(status).phrase
