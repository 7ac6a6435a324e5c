"""The OpenAPI document: every operation lists its problem+json error responses."""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus
from typing import Any, TypeVar

from quart_schema import OpenAPIProvider
from quart_schema.validation import QUART_SCHEMA_QUERYSTRING_ATTRIBUTE, QUART_SCHEMA_REQUEST_ATTRIBUTE
from werkzeug.routing import BaseConverter
from werkzeug.routing.rules import Rule

from sinpluma_async.contract import Problem
from sinpluma_async.errors import PROBLEM_CONTENT_TYPE
from sinpluma_async.ids import IdConverter

PROBLEMS_ATTRIBUTE = "_sinpluma_problems"
EMPTY_RESPONSES_ATTRIBUTE = "_sinpluma_empty_responses"
BINARY_RESPONSE_ATTRIBUTE = "_sinpluma_binary_response"
IMAGE_UPLOAD_ATTRIBUTE = "_sinpluma_image_upload"
IMAGE_TYPES = ("image/jpeg", "image/png", "image/webp", "image/gif")
BINARY = {"type": "string", "format": "binary"}
ACCESS_ATTRIBUTE = "_sinpluma_access"
IDEMPOTENCY_KEY_ATTRIBUTE = "_sinpluma_idempotency_key"
# The rate-limit policies a route is counted under, or why it has none (ratelimits/http.py).
RATE_LIMIT_ATTRIBUTE = "_sinpluma_rate_limits"
RATE_LIMIT_EXEMPT_ATTRIBUTE = "_sinpluma_rate_limit_exempt"
PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
F = TypeVar("F", bound=Callable[..., Any])


def problems(*statuses: int) -> Callable[[F], F]:
    """Document the error statuses a route can answer besides the ones every route shares."""

    def decorator(view: F) -> F:
        setattr(view, PROBLEMS_ATTRIBUTE, {*getattr(view, PROBLEMS_ATTRIBUTE, ()), *statuses})
        return view

    return decorator


def empty_response(status: int = 204) -> Callable[[F], F]:
    """Document a response without a body, such as 204 or 304."""

    def decorator(view: F) -> F:
        setattr(view, EMPTY_RESPONSES_ATTRIBUTE, {*getattr(view, EMPTY_RESPONSES_ATTRIBUTE, ()), status})
        return view

    return decorator


def binary_response() -> Callable[[F], F]:
    """Document a 200 whose body is an image, and its 304."""

    def decorator(view: F) -> F:
        setattr(view, BINARY_RESPONSE_ATTRIBUTE, True)
        return empty_response(304)(view)

    return decorator


def image_upload(view: F) -> F:
    """Document a body that is an image: multipart field `image`, or the raw bytes."""
    setattr(view, IMAGE_UPLOAD_ATTRIBUTE, True)
    return view


def idempotency_key_header(view: F) -> F:
    """Document the `Idempotency-Key` request header, its 409 and 422, and `Idempotent-Replayed`."""
    setattr(view, IDEMPOTENCY_KEY_ATTRIBUTE, True)
    return problems(400, 409, 422)(view)


IDEMPOTENCY_KEY_PARAMETER = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": (
        "1-255 visible ASCII characters, or a quoted structured-field string. A repeat with the same "
        "key, method, path and body within 24 hours gets the first response again, with "
        "`Idempotent-Replayed: true`; 409 while the first is still running; 422 for another path or body."
    ),
    # What keys.idempotency_key accepts: a bare key, or a quoted one with `"` and `\` escaped.
    "schema": {"type": "string", "pattern": r'^(?:[!#-~][!-~]{0,254}|"(?:[ !#-\[\]-~]|\\["\\]){1,255}")$'},
}
REPLAYED_RESPONSE_HEADER = {
    "description": "`true` when the response is the stored answer to an earlier request with this key",
    "schema": {"type": "string", "enum": ["true"]},
}


IMAGE_REQUEST_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {"type": "object", "properties": {"image": BINARY}, "required": ["image"]},
        },
        **{content_type: {"schema": BINARY} for content_type in IMAGE_TYPES},
    },
}


class ProblemAwareProvider(OpenAPIProvider):
    """Adds problem+json error responses and bodiless responses to each operation."""

    def schema(self) -> dict[str, Any]:
        document = super().schema()
        problem_schema = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
        definitions = problem_schema.pop("$defs", {})
        document["components"]["schemas"].update(definitions)
        document["components"]["schemas"]["Problem"] = problem_schema
        document["components"]["headers"] = RATE_LIMIT_HEADERS
        return document

    def build_path_parameter(self, name: str, converter: BaseConverter) -> dict[str, Any]:
        parameter = super().build_path_parameter(name, converter)
        if isinstance(converter, IdConverter):
            parameter["schema"] |= {"minimum": converter.min, "maximum": converter.max}
        return parameter

    def build_paths(self, rule: Rule) -> tuple[dict[str, Any], dict[str, Any]]:
        paths, components = super().build_paths(rule)
        view = self._app.view_functions[rule.endpoint]
        statuses = {500, *getattr(view, PROBLEMS_ATTRIBUTE, ())}
        if getattr(view, ACCESS_ATTRIBUTE, "public") != "public":
            statuses |= {401, 503}
        if getattr(view, QUART_SCHEMA_QUERYSTRING_ATTRIBUTE, None) is not None:
            statuses.add(400)
        if getattr(view, QUART_SCHEMA_REQUEST_ATTRIBUTE, None) is not None:
            statuses |= {400, 413, 415}
        if getattr(view, IMAGE_UPLOAD_ATTRIBUTE, False):
            statuses |= {400, 413, 415}
        for operations in paths.values():
            for operation in operations.values():
                if getattr(view, IMAGE_UPLOAD_ATTRIBUTE, False):
                    operation["requestBody"] = IMAGE_REQUEST_BODY
                responses = {str(status): value for status, value in operation["responses"].items()}
                if getattr(view, BINARY_RESPONSE_ATTRIBUTE, False):
                    responses["200"] = {
                        "description": "The image",
                        "content": {content_type: {"schema": BINARY} for content_type in IMAGE_TYPES},
                    }
                for status in getattr(view, EMPTY_RESPONSES_ATTRIBUTE, ()):
                    responses[str(status)] = {"description": HTTPStatus(status).phrase}
                for status in sorted(statuses):
                    responses[str(status)] = _problem_response(HTTPStatus(status).phrase)
                if getattr(view, RATE_LIMIT_ATTRIBUTE, ()):
                    _document_rate_limit(responses)
                responses["default"] = _problem_response("Any other error")
                operation["responses"] = responses
                if getattr(view, IDEMPOTENCY_KEY_ATTRIBUTE, False):
                    _document_idempotency_key(operation)
        return paths, components


def _document_idempotency_key(operation: dict[str, Any]) -> None:
    operation.setdefault("parameters", []).append(IDEMPOTENCY_KEY_PARAMETER)
    for status, response in operation["responses"].items():
        if status.startswith("2"):
            response.setdefault("headers", {})["Idempotent-Replayed"] = REPLAYED_RESPONSE_HEADER


RATE_LIMIT_HEADERS = {
    "RateLimit-Policy": {
        "description": 'The policy nearest its limit: `"login";q=5;w=600` (q calls per w seconds)',
        "schema": {"type": "string"},
    },
    "RateLimit": {
        "description": 'That policy\'s state: `"login";r=2;t=412` (r calls left; one more in t seconds)',
        "schema": {"type": "string"},
    },
    "Retry-After": {"description": "Seconds until the call would fit", "schema": {"type": "integer"}},
}


def _document_rate_limit(responses: dict[str, Any]) -> None:
    """A limited operation: 429 with Retry-After, and the rate-limit headers on its answers."""
    responses["429"] = _problem_response(HTTPStatus(429).phrase)
    references = {name: {"$ref": f"#/components/headers/{name}"} for name in RATE_LIMIT_HEADERS}
    for status, response in responses.items():
        if status.startswith(("2", "4")):
            names = (
                references
                if status == "429"
                else {name: ref for name, ref in references.items() if name != "Retry-After"}
            )
            response["headers"] = {**response.get("headers", {}), **names}


def _problem_response(description: str) -> dict[str, Any]:
    return {"description": description, "content": {PROBLEM_CONTENT_TYPE: {"schema": PROBLEM_REF}}}
