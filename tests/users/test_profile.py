from __future__ import annotations

from tests.support import problem, register


async def test_public_profile_hides_email(client, writer):
    response = await client.get("/user/writer")
    assert response.status_code == 200
    body = await response.get_json()
    assert set(body) == {
        "user_id",
        "username",
        "display_name",
        "bio",
        "created_at",
        "image_url",
        "notebook_count",
    }


async def test_lookup_ignores_case(client):
    await register(client, "MariaJose")
    response = await client.get("/user/mariajose")
    assert (await response.get_json())["username"] == "MariaJose"


async def test_own_profile_includes_email(client, writer):
    response = await client.get("/user/writer", headers=writer.headers)
    assert (await response.get_json())["email"] == writer.email


async def test_other_users_token_does_not_reveal_email(client, writer, reader):
    response = await client.get("/user/writer", headers=reader.headers)
    assert "email" not in await response.get_json()


async def test_unknown_user_is_404(client):
    await problem(await client.get("/user/nobody"), 404, "not_found")


async def test_bad_token_on_public_profile_is_401(client, writer):
    response = await client.get("/user/writer", headers={"Authorization": "Bearer not-a-jwt"})
    await problem(response, 401, "token_invalid")
