"""X-Request-ID on every response, the caller's own when valid, and in every problem body."""

from __future__ import annotations

import re

import pytest

from tests.support import problem

VALID = re.compile(r"[A-Za-z0-9._-]{1,64}")


async def test_every_response_carries_a_fresh_request_id(client):
    first = await client.get("/healthz")
    second = await client.get("/genres/")
    ids = [first.headers["X-Request-ID"], second.headers["X-Request-ID"]]
    assert all(VALID.fullmatch(request_id) for request_id in ids)
    assert ids[0] != ids[1]


@pytest.mark.parametrize("offered", ["abc", "trace.01_A-z", "x" * 64])
async def test_the_callers_valid_request_id_comes_back(client, offered):
    response = await client.get("/healthz", headers={"X-Request-ID": offered})
    assert response.headers["X-Request-ID"] == offered


@pytest.mark.parametrize("offered", ["", "x" * 65, "has space", "semi;colon", "slash/ed", "quote'"])
async def test_an_invalid_request_id_is_replaced(client, offered):
    response = await client.get("/healthz", headers={"X-Request-ID": offered})
    returned = response.headers["X-Request-ID"]
    assert returned != offered and VALID.fullmatch(returned)


async def test_a_problem_body_names_the_request_it_answers(client):
    response = await client.get("/notebooks/999999", headers={"X-Request-ID": "trace-404"})
    document = await problem(response, 404, "not_found")
    assert document["request_id"] == "trace-404" == response.headers["X-Request-ID"]


async def test_framework_validation_and_auth_problems_carry_the_id_too(client):
    answers = [
        (await client.delete("/healthz"), 405, "method_not_allowed"),
        (await client.get("/no/such/route"), 404, "not_found"),
        (await client.post("/user/register", json={"username": ""}), 400, "validation_error"),
        (await client.post("/notebooks/", json={"title": "x"}), 401, "token_missing"),
    ]
    for response, status, code in answers:
        document = await problem(response, status, code)
        assert document["request_id"] == response.headers["X-Request-ID"], document
