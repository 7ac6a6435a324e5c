"""Logins under `login`, `login-account` and `login-client`: locked without bcrypt, alike for every name."""

from __future__ import annotations

import bcrypt
import pytest

from tests.ratelimits.support import limited_app, peer, refused, state
from tests.support import PASSWORD, register

WRONG = "wrong password"


@pytest.fixture
def limited(settings):
    return limited_app(settings)


@pytest.fixture
def checks(monkeypatch):
    """Every bcrypt check the server runs."""
    made: list[bytes] = []
    original = bcrypt.checkpw

    def counting(password: bytes, hashed: bytes) -> bool:
        made.append(hashed)
        return original(password, hashed)

    monkeypatch.setattr(bcrypt, "checkpw", counting)
    return made


async def attempt(client, username, password, address="203.0.113.5"):
    return await client.post(
        "/user/login", json={"username": username, "password": password}, **peer(address)
    )


async def test_once_locked_even_the_right_password_is_refused_without_bcrypt(limited, checks):
    async with limited("login=3/10m") as client:
        await register(client, "ana")
        for _ in range(3):
            assert (await attempt(client, "ana", WRONG)).status_code == 401
        checks.clear()
        await refused(await attempt(client, "ana", PASSWORD), "login")
        assert checks == []
        # Another address, or another account, is not locked.
        assert (await attempt(client, "ana", PASSWORD, "203.0.113.6")).status_code == 200
        await register(client, "bea")
        assert (await attempt(client, "bea", PASSWORD)).status_code == 200


async def test_a_locked_unknown_name_answers_exactly_as_a_locked_account(limited, checks):
    async with limited("login=2/10m") as client:
        await register(client, "ana")
        answers = {}
        for name in ("ana", "nobody"):
            for _ in range(2):
                assert (await attempt(client, name, WRONG)).status_code == 401
            checks.clear()
            answers[name] = await attempt(client, name, WRONG)
            assert checks == []  # neither runs bcrypt
        known, unknown = answers["ana"], answers["nobody"]
        known_problem, unknown_problem = await refused(known, "login"), await refused(unknown, "login")
        assert known_problem.pop("request_id") != unknown_problem.pop("request_id")
        assert known_problem == unknown_problem
        # Every header alike (names and values) but the id of each request.
        assert {(name, value) for name, value in known.headers if name.lower() != "x-request-id"} == {
            (name, value) for name, value in unknown.headers if name.lower() != "x-request-id"
        }
        for name in ("Content-Type", "RateLimit-Policy"):
            assert known.headers[name] == unknown.headers[name]
        assert state(known)["remaining"] == state(unknown)["remaining"] == 0
        assert abs(state(known)["reset"] - state(unknown)["reset"]) <= 1


async def test_an_account_is_one_account_whatever_name_and_case_reach_it(limited):
    async with limited("login=3/10m") as client:
        await register(client, "ana")
        for name in ("ana", "ANA", "Ana@Example.com"):
            assert (await attempt(client, name, WRONG)).status_code == 401
        await refused(await attempt(client, "aNa", PASSWORD), "login")


async def test_successful_logins_are_not_failures(limited):
    async with limited("login=2/10m") as client:
        await register(client, "ana")
        for _ in range(4):
            response = await attempt(client, "ana", PASSWORD)
            assert response.status_code == 200
        assert state(response)["remaining"] >= 1
        assert (await attempt(client, "ana", WRONG)).status_code == 401
        assert (await attempt(client, "ana", PASSWORD)).status_code == 200
        assert (await attempt(client, "ana", WRONG)).status_code == 401
        await refused(await attempt(client, "ana", PASSWORD), "login")


async def test_login_account_bounds_failures_from_every_address(limited, checks):
    async with limited("login-account=3/1h") as client:
        await register(client, "ana")
        for index in range(3):
            assert (await attempt(client, "ana", WRONG, f"198.51.100.{index}")).status_code == 401
        checks.clear()
        await refused(await attempt(client, "ana", PASSWORD, "198.51.100.9"), "login-account")
        assert checks == []


async def test_login_client_counts_every_attempt_from_an_address(limited):
    async with limited("login-client=3/1m") as client:
        await register(client, "ana")
        assert (await attempt(client, "ana", PASSWORD)).status_code == 200
        assert (await attempt(client, "ana", WRONG)).status_code == 401
        assert (await attempt(client, "someone", WRONG)).status_code == 401
        await refused(await attempt(client, "ana", PASSWORD), "login-client")
        assert (await attempt(client, "ana", PASSWORD, "203.0.113.99")).status_code == 200


async def test_attempts_refused_by_login_still_count_for_login_client(limited):
    async with limited("login=1/10m,login-client=3/1m") as client:
        await register(client, "ana")
        assert (await attempt(client, "ana", WRONG)).status_code == 401
        await refused(await attempt(client, "ana", WRONG), "login")
        await refused(await attempt(client, "ana", WRONG), "login")
        # The fourth attempt from this address is over login-client, whatever the account.
        await refused(await attempt(client, "bea", WRONG), "login-client")


async def test_every_login_answer_carries_the_nearest_policy(limited):
    async with limited("login=5/10m") as client:
        await register(client, "ana")
        failed = await attempt(client, "ana", WRONG)
        assert failed.headers["RateLimit-Policy"] == '"login";q=5;w=600'
        assert state(failed)["remaining"] == 4
        succeeded = await attempt(client, "ana", PASSWORD)
        assert state(succeeded) == {**state(failed), "reset": state(succeeded)["reset"]}
