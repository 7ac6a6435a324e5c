"""Every failure, the framework's own included, is problem+json: never HTML, never a trace."""

from __future__ import annotations

import pytest

from sinpluma_async.users import service as users_service
from tests.support import problem


async def test_unknown_route_is_404_problem(client):
    await problem(await client.get("/no/such/route"), 404, "not_found")


async def test_wrong_method_is_405_problem_with_allow(client):
    response = await client.delete("/healthz")
    await problem(response, 405, "method_not_allowed")
    assert "GET" in response.headers["Allow"]


async def test_malformed_json_is_400(client):
    response = await client.post(
        "/user/register", data=b'{"username": ', headers={"Content-Type": "application/json"}
    )
    await problem(response, 400, "validation_error")


async def test_non_utf8_body_is_400(client):
    response = await client.post(
        "/user/register",
        data='{"username": "ñ"}'.encode("latin-1"),
        headers={"Content-Type": "application/json"},
    )
    document = await problem(response, 400, "validation_error")
    assert "UTF-8" in document["detail"]


@pytest.mark.parametrize("body", [b"[]", b'"text"', b"null", b'{"username": NaN}'])
async def test_json_that_is_not_an_object_of_values_is_400(client, body):
    response = await client.post("/user/register", data=body, headers={"Content-Type": "application/json"})
    await problem(response, 400, "validation_error")


async def test_body_that_is_not_json_is_415(client):
    response = await client.post(
        "/user/register", data=b"username=ana", headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    await problem(response, 415, "unsupported_media_type")


async def test_body_over_the_limit_is_413(client, settings):
    oversized = b'{"bio": "' + b"x" * settings.max_json_bytes + b'"}'
    response = await client.post(
        "/user/register", data=oversized, headers={"Content-Type": "application/json"}
    )
    await problem(response, 413, "payload_too_large")


async def test_deeply_nested_json_is_400_not_500(client):
    body = b"[" * 100_000 + b"]" * 100_000
    response = await client.post("/user/login", data=body, headers={"Content-Type": "application/json"})
    await problem(response, 400, "validation_error")


async def test_unexpected_failure_is_500_problem_without_trace(client, monkeypatch):
    async def broken(**_: object) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(users_service, "get_profile", broken)
    response = await client.get("/user/anyone")
    document = await problem(response, 500, "internal_error")
    assert "secret internals" not in await response.get_data(as_text=True)
    assert "Traceback" not in document["detail"]
