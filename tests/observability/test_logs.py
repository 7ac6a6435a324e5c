"""The log: an access line per request, JSON lines or text, an unexpected error logged once."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

import structlog

from sinpluma_async import create_app
from sinpluma_async.config import Settings
from sinpluma_async.observability.logs import configure_logging
from tests.support import PASSWORD, problem


@contextmanager
def captured_log(log_format: str) -> Iterator[io.StringIO]:
    """The process's log in `log_format`, written to a string; pytest's handlers return after."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    stream = io.StringIO()
    configure_logging(Settings(log_format=log_format), stream)
    try:
        yield stream
    finally:
        root.handlers, root.level = handlers, level
        structlog.reset_defaults()


def json_lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


async def test_json_lines_have_one_access_line_per_request(settings, writer):
    app = create_app(settings)
    async with app.test_app():
        client = app.test_client()
        with captured_log("json") as stream:
            await client.get("/notebooks/", headers={**writer.headers, "X-Request-ID": "trace-me"})
            await client.post("/user/login", json={"username": writer.username, "password": PASSWORD})
    lines = json_lines(stream)
    access = [line for line in lines if line["event"] == "request"]
    assert [line["route"] for line in access] == ["/notebooks/", "/user/login"]
    me = access[0]
    assert me["request_id"] == "trace-me" and me["method"] == "GET" and me["status"] == 200
    assert me["user_id"] == writer.user_id and me["duration_ms"] >= 0
    assert me["timestamp"].endswith("Z") and me["level"] == "info"
    text = stream.getvalue()
    assert PASSWORD not in text and writer.access_token not in text


async def test_route_labels_are_templates_never_paths_with_ids(settings, writer):
    app = create_app(settings)
    async with app.test_app():
        with captured_log("json") as stream:
            await app.test_client().get(f"/user/{writer.username}", headers={"X-Request-ID": "trace-user"})
            await app.test_client().get("/notebooks/424242")
            await app.test_client().get("/no/such/place")
    routes = [line["route"] for line in json_lines(stream) if line["event"] == "request"]
    assert routes == ["/user/{username}", "/notebooks/{notebook_id}", "unmatched"]


async def test_text_lines_are_readable_and_carry_the_request_id(settings):
    app = create_app(settings)
    async with app.test_app():
        with captured_log("text") as stream:
            await app.test_client().get("/healthz", headers={"X-Request-ID": "trace-text"})
    (line,) = stream.getvalue().splitlines()
    assert not line.startswith("{")
    for part in ("request", "request_id=trace-text", "route=/healthz", "status=200", "method=GET"):
        assert part in line, line


async def test_access_lines_follow_the_log_when_it_is_configured_again(settings):
    """The access line's logger is assembled once per configuration, never kept from the first."""
    app = create_app(settings)
    async with app.test_app():
        with captured_log("json") as first:
            await app.test_client().get("/healthz", headers={"X-Request-ID": "trace-first"})
        with captured_log("text") as second:
            await app.test_client().get("/healthz", headers={"X-Request-ID": "trace-second"})
    (line,) = json_lines(first)
    assert line["event"] == "request" and line["request_id"] == "trace-first"
    (text,) = second.getvalue().splitlines()
    assert not text.startswith("{") and "request_id=trace-second" in text


async def test_an_unexpected_error_is_logged_once_with_its_traceback_and_request_id(settings):
    app = create_app(settings)

    @app.get("/fails")
    async def fails() -> str:
        raise RuntimeError("a bug of ours")

    async with app.test_app():
        with captured_log("json") as stream:
            response = await app.test_client().get("/fails", headers={"X-Request-ID": "trace-500"})
    document = await problem(response, 500, "internal_error")
    assert document["request_id"] == "trace-500"
    lines = json_lines(stream)
    errors = [line for line in lines if "exception" in line]
    assert len(errors) == 1, lines
    assert errors[0]["request_id"] == "trace-500" and errors[0]["level"] == "error"
    assert "a bug of ours" in json.dumps(errors[0]["exception"])
    assert [line["status"] for line in lines if line["event"] == "request"] == [500]


def test_production_logs_json_unless_told_otherwise():
    production = {"SINPLUMA_ENV": "production", "SINPLUMA_JWT_SECRET": "s" * 48}
    assert Settings.from_env(production).log_format == "json"
    assert Settings.from_env({**production, "SINPLUMA_LOG_FORMAT": "text"}).log_format == "text"
    assert Settings.from_env({}).log_format == "text"
    assert replace(Settings(), log_format="json").log_format == "json"


def test_json_lines_carry_what_orjson_alone_cannot_encode():
    """Keys that are not strings, numbers beyond 64 bits and objects JSON has no type for."""

    class Opaque:
        def __repr__(self) -> str:
            return "<opaque>"

    with captured_log("json") as stream:
        structlog.get_logger("sinpluma.test").info("odd", counts={7: "seven"}, huge=2**70, thing=Opaque())
        structlog.get_logger("sinpluma.test").info("plain", thing=Opaque(), word="año")
    odd, plain = json_lines(stream)
    assert odd["counts"] == {"7": "seven"} and odd["huge"] == 2**70 and odd["thing"] == "<opaque>"
    assert plain["thing"] == "<opaque>" and plain["word"] == "año" and plain["logger"] == "sinpluma.test"


def test_a_json_line_holding_a_lone_surrogate_is_written_with_it_escaped():
    """Text decoded with surrogateescape (an OS error's file name, say) still makes its line."""
    with captured_log("json") as stream:
        structlog.get_logger("sinpluma.test").warning("odd name", name="caf\udce9", word="año")
    (line,) = json_lines(stream)
    assert line["name"] == "caf\udce9" and line["word"] == "año"
    assert "\\udce9" in stream.getvalue()
