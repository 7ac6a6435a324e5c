from __future__ import annotations

import bcrypt
import jwt
import pytest

from tests.support import PASSWORD, problem, register


async def test_login_returns_token_pair_and_user(client, settings):
    profile = await register(client, "ana")
    response = await client.post("/user/login", json={"username": "ana", "password": PASSWORD})
    body = await response.get_json()
    assert response.status_code == 200
    assert body["token_type"] == "Bearer" and body["expires_in"] == 900
    assert body["user"] == profile
    access = jwt.decode(body["access_token"], settings.jwt_secret, algorithms=["HS256"])
    refresh = jwt.decode(body["refresh_token"], settings.jwt_secret, algorithms=["HS256"])
    assert access["type"] == "access" and refresh["type"] == "refresh"
    assert access["sub"] == refresh["sub"] == str(profile["user_id"])
    assert access["sid"] == refresh["sid"] and access["jti"] != refresh["jti"]
    assert access["exp"] - access["iat"] == 15 * 60
    assert refresh["exp"] - refresh["iat"] == 30 * 24 * 3600


@pytest.mark.parametrize("identifier", ["ana", "ANA", "ana@example.com", "Ana@Example.COM"])
async def test_login_by_username_or_email_ignoring_case(client, identifier):
    await register(client, "ana")
    response = await client.post("/user/login", json={"username": identifier, "password": PASSWORD})
    assert response.status_code == 200


async def test_unknown_user_and_wrong_password_look_the_same(client):
    await register(client, "ana")
    unknown = await client.post("/user/login", json={"username": "nobody", "password": PASSWORD})
    wrong = await client.post("/user/login", json={"username": "ana", "password": "wrong password"})
    unknown_problem = await problem(unknown, 401, "invalid_credentials")
    wrong_problem = await problem(wrong, 401, "invalid_credentials")
    assert unknown_problem.pop("request_id") != wrong_problem.pop("request_id")
    assert unknown_problem == wrong_problem


async def test_unknown_user_still_costs_a_bcrypt_check(client, monkeypatch):
    checks = []
    original = bcrypt.checkpw

    def counting_checkpw(password: bytes, hashed: bytes) -> bool:
        checks.append(hashed)
        return original(password, hashed)

    monkeypatch.setattr(bcrypt, "checkpw", counting_checkpw)
    await client.post("/user/login", json={"username": "nobody", "password": PASSWORD})
    assert len(checks) == 1


async def test_password_over_72_bytes_is_401_not_500(client):
    await register(client, "ana")
    response = await client.post("/user/login", json={"username": "ana", "password": PASSWORD + "x" * 80})
    await problem(response, 401, "invalid_credentials")


async def test_password_sharing_first_72_bytes_does_not_log_in(client):
    password = "p" * 72
    await client.post(
        "/user/register", json={"username": "ana", "email": "a@example.com", "password": password}
    )
    response = await client.post("/user/login", json={"username": "ana", "password": password + "extra"})
    await problem(response, 401, "invalid_credentials")


async def test_hashing_runs_off_the_event_loop(client, monkeypatch):
    import threading

    threads = []
    original = bcrypt.hashpw

    def recording_hashpw(password: bytes, salt: bytes) -> bytes:
        threads.append(threading.current_thread())
        return original(password, salt)

    monkeypatch.setattr(bcrypt, "hashpw", recording_hashpw)
    await register(client, "ana")
    assert threads and all(thread is not threading.main_thread() for thread in threads)
