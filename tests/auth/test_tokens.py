from __future__ import annotations

import time

import jwt
import pytest

from sinpluma_async.errors import UnauthorizedError
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


class _Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def time(self) -> float:
        return self.now


async def test_a_token_used_before_is_refused_once_it_expires(client, writer, settings, monkeypatch):
    claims = claims_of(settings, writer.access_token)
    claims.update(exp=int(time.time()) + 60)
    token = forge(settings, claims)
    ok = await client.put("/user/settings", headers=bearer(token), json={"bio": "x"})
    assert ok.status_code == 200, await ok.get_data(as_text=True)
    # The token's signature is not checked again, but its expiry is, by this module's clock.
    monkeypatch.setattr("sinpluma_async.security.tokens.time", _Clock(claims["exp"]))
    response = await client.put("/user/settings", headers=bearer(token), json={"bio": "y"})
    await problem(response, 401, "token_expired")


async def test_a_refresh_token_used_at_refresh_is_still_refused_as_access_token(client, writer):
    refreshed = await client.post("/user/token/refresh", headers=bearer(writer.refresh_token))
    assert refreshed.status_code == 200, await refreshed.get_data(as_text=True)
    again = await client.put("/user/settings", headers=bearer(writer.refresh_token), json={"bio": "x"})
    await problem(again, 401, "token_invalid")


def test_the_codec_checks_a_signature_once_and_remembers_a_bounded_number(monkeypatch):
    from sinpluma_async.security import tokens

    codec = tokens.TokenCodec(secret="s" * 48, access_seconds=60, refresh_seconds=600, remembered=2)
    issued = [codec.issue(user_id=user_id, sid="sid", type="access").token for user_id in (1, 2, 3)]
    checked: list[str] = []
    verify = jwt.decode

    def counting_decode(token, *args, **kwargs):
        checked.append(token)
        return verify(token, *args, **kwargs)

    monkeypatch.setattr(tokens.jwt, "decode", counting_decode)
    users = [codec.decode(token, expected="access").user_id for token in [*issued, issued[2], issued[0]]]
    assert users == [1, 2, 3, 3, 1]
    # The third token was remembered; the first had made way for it, so it is checked again.
    assert checked == [issued[0], issued[1], issued[2], issued[0]]
    tampered = issued[1][:-2] + ("AA" if not issued[1].endswith("AA") else "BB")
    with pytest.raises(UnauthorizedError) as refused:
        codec.decode(tampered, expected="access")
    assert refused.value.code == "token_invalid"
