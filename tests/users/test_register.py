from __future__ import annotations

import pytest

from tests.support import PASSWORD, problem, register


async def test_register_returns_private_profile_without_password(client):
    response = await client.post(
        "/user/register",
        json={"username": "ana_1", "email": "ana@example.com", "password": PASSWORD, "bio": "Escribo."},
    )
    assert response.status_code == 201
    body = await response.get_json()
    assert body["username"] == "ana_1" and body["email"] == "ana@example.com" and body["bio"] == "Escribo."
    assert body["display_name"] is None and body["image_url"] is None and body["notebook_count"] == 0
    assert body["created_at"].endswith("Z")
    assert not any("password" in key for key in body)


async def test_display_name_in_any_script_round_trips(client):
    profile = await register(client, "poeta", display_name="Acción 詩人 ✍️📚")
    response = await client.get("/user/poeta")
    assert profile["display_name"] == "Acción 詩人 ✍️📚"
    assert (await response.get_json())["display_name"] == "Acción 詩人 ✍️📚"


@pytest.mark.parametrize("taken", ["ana", "ANA", "Ana"])
async def test_username_taken_ignoring_case(client, taken):
    await register(client, "ana")
    response = await client.post(
        "/user/register", json={"username": taken, "email": "other@example.com", "password": PASSWORD}
    )
    await problem(response, 409, "username_taken")


async def test_email_taken_ignoring_case(client):
    await register(client, "ana")
    response = await client.post(
        "/user/register", json={"username": "bea", "email": "ANA@Example.com", "password": PASSWORD}
    )
    await problem(response, 409, "email_taken")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("username", "ab"),
        ("username", "a" * 31),
        ("username", "ana maria"),
        ("username", "añá"),
        ("email", "not-an-email"),
        ("password", "short"),
        ("password", "ñ" * 37),
        ("display_name", ""),
        ("display_name", "x" * 61),
        ("bio", "x" * 501),
        ("username", 12345),
    ],
)
async def test_invalid_field_is_400_naming_the_field(client, field, value):
    body = {"username": "valid_name", "email": "valid@example.com", "password": PASSWORD, field: value}
    response = await client.post("/user/register", json=body)
    document = await problem(response, 400, "validation_error")
    assert ["body", field] in [error["loc"][:2] for error in document["errors"]]


async def test_password_of_exactly_72_bytes_is_accepted(client):
    response = await client.post(
        "/user/register", json={"username": "long", "email": "long@example.com", "password": "ñ" * 36}
    )
    assert response.status_code == 201


@pytest.mark.parametrize("field", ["user_id", "password_hash", "created_at"])
async def test_unknown_fields_are_refused(client, field):
    body = {"username": "ana", "email": "ana@example.com", "password": PASSWORD, field: 1}
    response = await client.post("/user/register", json=body)
    document = await problem(response, 400, "validation_error")
    assert document["errors"][0]["loc"] == ["body", field]
    assert (await client.get("/user/ana")).status_code == 404
