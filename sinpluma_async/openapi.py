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
                responses["default"] = _problem_response("Any other error")
                operation["responses"] = responses
        return paths, components


def _problem_response(description: str) -> dict[str, Any]:
    return {"description": description, "content": {PROBLEM_CONTENT_TYPE: {"schema": PROBLEM_REF}}}
