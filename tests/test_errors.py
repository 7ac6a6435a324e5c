"""Every failure, the framework's own included, is problem+json: never HTML, never a trace."""

from __future__ import annotations

import pytest

from sinpluma_async import create_app
from sinpluma_async.config import Settings
from sinpluma_async.users import service as users_service
from tests.live import free_port as closed_port
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


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (b'{"username": "\xed\xa0\x80"}', "The body is not valid UTF-8"),
        (b'{"username": "\xf1", "n": 12345678901234567890}', "The body is not valid UTF-8"),
        ('{"username": "ñ",}'.encode(), "The body is not valid JSON"),
        ('{"username": "ñ", "n": 12345678901234567890'.encode(), "The body is not valid JSON"),
    ],
    ids=["encoded-surrogate", "latin-1-with-a-long-integer", "trailing-comma", "long-integer-unclosed"],
)
async def test_a_body_says_whether_it_is_not_utf8_or_not_json(client, body, detail):
    response = await client.post("/user/register", data=body, headers={"Content-Type": "application/json"})
    assert (await problem(response, 400, "validation_error"))["detail"] == detail


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


async def test_unreachable_database_is_503_with_retry_after(tmp_path):
    settings = Settings(
        database_url=f"mysql+aiomysql://root@127.0.0.1:{closed_port()}/nothing?charset=utf8mb4",
        jwt_secret_generated=False,
        bcrypt_rounds=4,
    )
    app = create_app(settings)
    async with app.test_app():
        response = await app.test_client().get("/user/anyone")
    await problem(response, 503, "service_unavailable")
    assert response.headers["Retry-After"]


async def test_responses_are_not_cached_or_sniffed(client):
    response = await client.get("/healthz")
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
