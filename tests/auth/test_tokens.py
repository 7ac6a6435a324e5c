from __future__ import annotations

import time

import jwt
import pytest

from tests.support import problem


def forge(settings, claims, *, algorithm="HS256", secret=None):
    return jwt.encode(claims, secret or settings.jwt_secret, algorithm=algorithm)


def claims_of(settings, token):
    return jwt.decode(token, settings.jwt_secret, algorithms=["HS256"])


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


async def test_refresh_token_is_refused_as_access_token(client, writer):
    response = await client.put("/user/settings", headers=bearer(writer.refresh_token), json={"bio": "x"})
    await problem(response, 401, "token_invalid")


async def test_access_token_is_refused_at_refresh(client, writer):
    response = await client.post("/user/token/refresh", headers=writer.headers)
    await problem(response, 401, "token_invalid")


async def test_unsigned_token_is_refused(client, writer, settings):
    token = jwt.encode(claims_of(settings, writer.access_token), key=None, algorithm="none")
    response = await client.put("/user/settings", headers=bearer(token), json={"bio": "x"})
    await problem(response, 401, "token_invalid")


async def test_other_algorithm_with_same_secret_is_refused(client, writer, settings):
    token = forge(settings, claims_of(settings, writer.access_token), algorithm="HS512")
    response = await client.put("/user/settings", headers=bearer(token), json={"bio": "x"})
    await problem(response, 401, "token_invalid")


async def test_token_signed_with_another_secret_is_refused(client, writer, settings):
    token = forge(settings, claims_of(settings, writer.access_token), secret="another-secret" * 4)
    response = await client.put("/user/settings", headers=bearer(token), json={"bio": "x"})
    await problem(response, 401, "token_invalid")


@pytest.mark.parametrize("claim", ["sub", "jti", "sid", "type", "iat", "exp"])
async def test_token_missing_a_claim_is_refused(client, writer, settings, claim):
    claims = claims_of(settings, writer.access_token)
    del claims[claim]
    response = await client.put("/user/settings", headers=bearer(forge(settings, claims)), json={"bio": "x"})
    await problem(response, 401, "token_invalid")


async def test_expired_token_is_token_expired(client, writer, settings):
    claims = claims_of(settings, writer.access_token)
    claims.update(iat=int(time.time()) - 1000, exp=int(time.time()) - 100)
    response = await client.put("/user/settings", headers=bearer(forge(settings, claims)), json={"bio": "x"})
    document = await problem(response, 401, "token_expired")
    assert document["code"] == "token_expired"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("header", ["Basic abc", "Bearer", "Bearer  ", "token"])
async def test_malformed_authorization_header_is_401(client, header):
    response = await client.put("/user/settings", headers={"Authorization": header}, json={"bio": "x"})
    await problem(response, 401, "token_invalid")


async def test_missing_token_is_token_missing_with_challenge(client):
    response = await client.delete("/user/logout")
    await problem(response, 401, "token_missing")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
