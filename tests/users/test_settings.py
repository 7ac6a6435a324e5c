from __future__ import annotations

from tests.support import login, make_account, problem


async def test_profile_fields_change_without_password(client, writer):
    response = await client.put(
        "/user/settings", headers=writer.headers, json={"display_name": "Autora", "bio": "Nueva bio"}
    )
    assert response.status_code == 200
    body = await response.get_json()
    assert body["display_name"] == "Autora" and body["bio"] == "Nueva bio" and body["email"] == writer.email


async def test_username_change_is_visible_and_old_name_is_gone(client, writer):
    response = await client.put("/user/settings", headers=writer.headers, json={"username": "autora"})
    assert (await response.get_json())["username"] == "autora"
    assert (await client.get("/user/autora")).status_code == 200
    assert (await client.get("/user/writer")).status_code == 404


async def test_username_taken_by_another_is_409(client, writer, reader):
    response = await client.put("/user/settings", headers=writer.headers, json={"username": "READER"})
    await problem(response, 409, "username_taken")


async def test_changing_case_of_own_username_is_allowed(client, writer):
    response = await client.put("/user/settings", headers=writer.headers, json={"username": "Writer"})
    assert (await response.get_json())["username"] == "Writer"


async def test_email_change_needs_current_password(client, writer):
    response = await client.put("/user/settings", headers=writer.headers, json={"email": "new@example.com"})
    await problem(response, 403, "invalid_credentials")
    response = await client.put(
        "/user/settings",
        headers=writer.headers,
        json={"email": "new@example.com", "current_password": "wrong password"},
    )
    await problem(response, 403, "invalid_credentials")
    response = await client.put(
        "/user/settings",
        headers=writer.headers,
        json={"email": "new@example.com", "current_password": writer.password},
    )
    assert (await response.get_json())["email"] == "new@example.com"


async def test_email_taken_by_another_is_409(client, writer, reader):
    response = await client.put(
        "/user/settings",
        headers=writer.headers,
        json={"email": reader.email.upper(), "current_password": writer.password},
    )
    await problem(response, 409, "email_taken")


async def test_password_change_ends_other_sessions_but_keeps_this_one(client, writer):
    other = await login(client, "writer")
    response = await client.put(
        "/user/settings",
        headers=writer.headers,
        json={"password": "a brand new password", "current_password": writer.password},
    )
    assert response.status_code == 200
    stale = {"Authorization": f"Bearer {other['access_token']}"}
    await problem(await client.put("/user/settings", headers=stale, json={"bio": "x"}), 401, "token_revoked")
    refresh = {"Authorization": f"Bearer {other['refresh_token']}"}
    await problem(await client.post("/user/token/refresh", headers=refresh), 401, "token_revoked")
    assert (await client.put("/user/settings", headers=writer.headers, json={"bio": "x"})).status_code == 200
    await login(client, "writer", "a brand new password")
    response = await client.post("/user/login", json={"username": "writer", "password": writer.password})
    await problem(response, 401, "invalid_credentials")


async def test_wrong_current_password_changes_nothing(client, writer):
    response = await client.put(
        "/user/settings",
        headers=writer.headers,
        json={"password": "another password", "bio": "changed", "current_password": "nope nope"},
    )
    await problem(response, 403, "invalid_credentials")
    assert (await (await client.get("/user/writer")).get_json())["bio"] == ""
    await login(client, "writer", writer.password)


async def test_null_for_a_required_field_is_400(client, writer):
    response = await client.put("/user/settings", headers=writer.headers, json={"username": None})
    document = await problem(response, 400, "validation_error")
    assert document["errors"][0]["loc"][:2] == ["body", "username"]


async def test_display_name_can_be_cleared(client, writer):
    await client.put("/user/settings", headers=writer.headers, json={"display_name": "Autora"})
    response = await client.put("/user/settings", headers=writer.headers, json={"display_name": None})
    assert (await response.get_json())["display_name"] is None


async def test_settings_need_a_token(client):
    await problem(await client.put("/user/settings", json={"bio": "x"}), 401, "token_missing")


async def test_settings_change_only_the_callers_account(client, writer):
    other = await make_account(client, "other")
    await client.put("/user/settings", headers=other.headers, json={"bio": "mine"})
    assert (await (await client.get("/user/writer")).get_json())["bio"] == ""
