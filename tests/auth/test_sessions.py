from __future__ import annotations

import asyncio

from tests.support import login, problem


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


async def test_refresh_rotates_both_tokens(client, writer):
    response = await client.post("/user/token/refresh", headers=bearer(writer.refresh_token))
    body = await response.get_json()
    assert response.status_code == 200
    assert set(body) == {"access_token", "refresh_token", "token_type", "expires_in"}
    assert body["refresh_token"] != writer.refresh_token
    assert (
        await client.put("/user/settings", headers=bearer(body["access_token"]), json={})
    ).status_code == 200


async def test_rotated_refresh_token_reuse_revokes_the_session(client, writer):
    first = await (await client.post("/user/token/refresh", headers=bearer(writer.refresh_token))).get_json()
    reuse = await client.post("/user/token/refresh", headers=bearer(writer.refresh_token))
    await problem(reuse, 401, "token_revoked")
    after = await client.post("/user/token/refresh", headers=bearer(first["refresh_token"]))
    await problem(after, 401, "token_revoked")
    response = await client.put("/user/settings", headers=bearer(first["access_token"]), json={})
    await problem(response, 401, "token_revoked")


async def test_reuse_leaves_other_sessions_alone(client, writer):
    other = await login(client, "writer")
    await client.post("/user/token/refresh", headers=bearer(writer.refresh_token))
    await client.post("/user/token/refresh", headers=bearer(writer.refresh_token))
    response = await client.put("/user/settings", headers=bearer(other["access_token"]), json={})
    assert response.status_code == 200


async def test_of_two_concurrent_refreshes_exactly_one_succeeds(client, writer):
    responses = await asyncio.gather(
        *(client.post("/user/token/refresh", headers=bearer(writer.refresh_token)) for _ in range(2))
    )
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200, 401]


async def test_logout_revokes_access_and_refresh_tokens(client, writer):
    response = await client.delete("/user/logout", headers=writer.headers)
    assert response.status_code == 204 and await response.get_data() == b""
    await problem(await client.put("/user/settings", headers=writer.headers, json={}), 401, "token_revoked")
    refresh = await client.post("/user/token/refresh", headers=bearer(writer.refresh_token))
    await problem(refresh, 401, "token_revoked")


async def test_logout_ends_only_that_session(client, writer):
    other = await login(client, "writer")
    await client.delete("/user/logout", headers=writer.headers)
    response = await client.put("/user/settings", headers=bearer(other["access_token"]), json={})
    assert response.status_code == 200


async def test_second_logout_with_same_token_is_401(client, writer):
    await client.delete("/user/logout", headers=writer.headers)
    await problem(await client.delete("/user/logout", headers=writer.headers), 401, "token_revoked")
