from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

import pytest

from sinpluma_async.readings import service
from tests.support import create_notebook, create_page, problem, publish_notebook, publish_page


async def published_notebook(client, account, title="Cuaderno", **fields: Any) -> int:
    notebook_id: int = (await create_notebook(client, account, title=title, **fields))["notebook_id"]
    await publish_notebook(client, account, notebook_id)
    return notebook_id


async def follow(client, account, notebook_id: int):
    return await client.post("/readings/", headers=account.headers, json={"notebook_id": notebook_id})


async def followed(client, account, **params: Any) -> dict[str, Any]:
    response = await client.get("/readings/", headers=account.headers, query_string=params)
    assert response.status_code == 200, await response.get_data(as_text=True)
    body: dict[str, Any] = await response.get_json()
    return body


def notebook_ids(listing: dict[str, Any]) -> list[int]:
    return [item["notebook"]["notebook_id"] for item in listing["items"]]


def parse_time(value: str) -> datetime:
    assert value.endswith("Z"), value
    return datetime.fromisoformat(value.removesuffix("Z") + "+00:00")


# Following


async def test_follow_answers_201_with_notebook_id_and_time(client, writer, reader):
    notebook_id = await published_notebook(client, writer)
    response = await follow(client, reader, notebook_id)
    assert response.status_code == 201
    body = await response.get_json()
    assert set(body) == {"notebook_id", "followed_at"} and body["notebook_id"] == notebook_id
    parse_time(body["followed_at"])


async def test_following_twice_is_409(client, writer, reader):
    notebook_id = await published_notebook(client, writer)
    await follow(client, reader, notebook_id)
    await problem(await follow(client, reader, notebook_id), 409, "already_following")
    assert notebook_ids(await followed(client, reader)) == [notebook_id]


async def test_of_two_concurrent_follows_one_is_201_and_one_409(client, writer, reader):
    notebook_id = await published_notebook(client, writer)
    responses = await asyncio.gather(*(follow(client, reader, notebook_id) for _ in range(2)))
    assert sorted(response.status_code for response in responses) == [201, 409]
    await problem(next(r for r in responses if r.status_code == 409), 409, "already_following")
    assert (await followed(client, reader))["total"] == 1


# SQLite runs write transactions one at a time, so there the delete cannot interleave.
@pytest.mark.parametrize("backend", ["mariadb"], indirect=True)
async def test_notebook_deleted_while_being_followed_is_404_not_409(client, writer, reader, monkeypatch):
    notebook_id = await published_notebook(client, writer)
    checked = service.notebook_for_reading

    async def check_then_delete(session, **arguments):
        notebook = await checked(session, **arguments)
        response = await client.delete(f"/notebooks/{notebook_id}", headers=writer.headers)
        assert response.status_code == 204
        return notebook

    monkeypatch.setattr(service, "notebook_for_reading", check_then_delete)
    await problem(await follow(client, reader, notebook_id), 404, "not_found")


async def test_two_readers_may_follow_the_same_notebook(client, writer, reader):
    notebook_id = await published_notebook(client, writer)
    assert (await follow(client, reader, notebook_id)).status_code == 201
    assert (await follow(client, writer, notebook_id)).status_code == 201


async def test_following_another_users_draft_is_404(client, writer, reader):
    draft = (await create_notebook(client, writer))["notebook_id"]
    await problem(await follow(client, reader, draft), 404, "not_found")
    assert (await followed(client, reader))["total"] == 0


async def test_author_may_follow_own_draft(client, writer):
    draft = (await create_notebook(client, writer))["notebook_id"]
    assert (await follow(client, writer, draft)).status_code == 201
    assert notebook_ids(await followed(client, writer)) == [draft]


async def test_following_a_nonexistent_notebook_is_404(client, reader):
    await problem(await follow(client, reader, 999_999), 404, "not_found")


async def test_follow_needs_a_token(client, writer):
    notebook_id = await published_notebook(client, writer)
    response = await client.post("/readings/", json={"notebook_id": notebook_id})
    await problem(response, 401, "token_missing")


async def test_follow_rejects_unknown_fields(client, writer, reader):
    notebook_id = await published_notebook(client, writer)
    response = await client.post(
        "/readings/", headers=reader.headers, json={"notebook_id": notebook_id, "user_id": writer.user_id}
    )
    await problem(response, 400, "validation_error")


async def test_follow_without_notebook_id_is_400(client, reader):
    await problem(await client.post("/readings/", headers=reader.headers, json={}), 400, "validation_error")


# Listing


async def test_list_shows_newest_follow_first(client, writer, reader):
    first = await published_notebook(client, writer, "Primero")
    second = await published_notebook(client, writer, "Segundo")
    third = await published_notebook(client, writer, "Tercero")
    for notebook_id in (second, third, first):
        await follow(client, reader, notebook_id)
    assert notebook_ids(await followed(client, reader)) == [first, third, second]


async def test_list_items_are_full_notebooks_with_follow_time(client, writer, reader):
    notebook_id = await published_notebook(client, writer, "Relatos", resume="Cuentos breves", genre_id=3)
    page = await create_page(client, writer, notebook_id, title="Uno")
    await publish_page(client, writer, page["page_id"])
    await create_page(client, writer, notebook_id, title="Borrador")
    following = await (await follow(client, reader, notebook_id)).get_json()
    item = (await followed(client, reader))["items"][0]
    assert set(item) == {"notebook", "followed_at"} and item["followed_at"] == following["followed_at"]
    public = await (await client.get(f"/notebooks/{notebook_id}")).get_json()
    del public["pages"]
    assert item["notebook"] == public
    assert item["notebook"]["genre"] == {"genre_id": 3, "name": "Ciencia ficción"}
    assert item["notebook"]["author"]["username"] == "writer"
    assert item["notebook"]["page_count"] == 1


async def test_list_is_paginated_with_an_envelope(client, writer, reader):
    notebooks = [await published_notebook(client, writer, f"Cuaderno {number}") for number in range(3)]
    for notebook_id in notebooks:
        await follow(client, reader, notebook_id)
    first = await followed(client, reader, per_page=2)
    assert (first["page"], first["per_page"], first["total"], first["pages"]) == (1, 2, 3, 2)
    assert first["links"] == {
        "self": "/readings/?page=1&per_page=2",
        "next": "/readings/?page=2&per_page=2",
        "prev": None,
    }
    second = await followed(client, reader, per_page=2, page=2)
    assert second["links"]["next"] is None and second["links"]["prev"] == "/readings/?page=1&per_page=2"
    assert notebook_ids(first) + notebook_ids(second) == notebooks[::-1]


async def test_list_is_empty_for_a_new_reader(client, reader):
    body = await followed(client, reader)
    assert body["items"] == [] and body["total"] == 0 and body["pages"] == 0


async def test_list_shows_only_the_callers_readings(client, writer, reader):
    mine = await published_notebook(client, writer, "Mío")
    theirs = await published_notebook(client, writer, "Suyo")
    await follow(client, reader, mine)
    await follow(client, writer, theirs)
    assert notebook_ids(await followed(client, reader)) == [mine]
    assert notebook_ids(await followed(client, writer)) == [theirs]


async def test_notebook_back_to_draft_disappears_from_the_readers_list(client, writer, reader):
    hidden = await published_notebook(client, writer, "Oculto")
    kept = await published_notebook(client, writer, "Visible")
    await follow(client, reader, hidden)
    await follow(client, reader, kept)
    response = await client.put(f"/notebooks/{hidden}", headers=writer.headers, json={"status": "draft"})
    assert response.status_code == 200
    body = await followed(client, reader)
    assert notebook_ids(body) == [kept] and body["total"] == 1


async def test_notebook_published_again_reappears_in_the_readers_list(client, writer, reader):
    notebook_id = await published_notebook(client, writer)
    await follow(client, reader, notebook_id)
    await client.put(f"/notebooks/{notebook_id}", headers=writer.headers, json={"status": "draft"})
    await publish_notebook(client, writer, notebook_id)
    assert notebook_ids(await followed(client, reader)) == [notebook_id]


async def test_deleting_a_notebook_removes_its_readings(client, writer, reader):
    deleted = await published_notebook(client, writer, "Borrado")
    kept = await published_notebook(client, writer, "Guardado")
    await follow(client, reader, deleted)
    await follow(client, reader, kept)
    assert (await client.delete(f"/notebooks/{deleted}", headers=writer.headers)).status_code == 204
    body = await followed(client, reader)
    assert notebook_ids(body) == [kept] and body["total"] == 1
    response = await client.delete(
        "/readings/", headers=reader.headers, query_string={"notebook_id": deleted}
    )
    await problem(response, 404, "not_found")


async def test_list_needs_a_token(client):
    await problem(await client.get("/readings/"), 401, "token_missing")


async def test_list_rejects_out_of_range_pagination(client, reader):
    for params in ({"per_page": 0}, {"per_page": 101}, {"page": 0}, {"sort": "old"}):
        response = await client.get("/readings/", headers=reader.headers, query_string=params)
        await problem(response, 400, "validation_error")


# Unfollowing


async def test_unfollow_by_query_parameter(client, writer, reader):
    notebook_id = await published_notebook(client, writer)
    await follow(client, reader, notebook_id)
    response = await client.delete(
        "/readings/", headers=reader.headers, query_string={"notebook_id": notebook_id}
    )
    assert response.status_code == 204 and await response.get_data() == b""
    assert (await followed(client, reader))["total"] == 0


async def test_unfollow_by_json_body(client, writer, reader):
    notebook_id = await published_notebook(client, writer)
    await follow(client, reader, notebook_id)
    response = await client.delete("/readings/", headers=reader.headers, json={"notebook_id": notebook_id})
    assert response.status_code == 204 and await response.get_data() == b""
    assert (await followed(client, reader))["total"] == 0


async def test_unfollow_leaves_other_readings_alone(client, writer, reader):
    gone = await published_notebook(client, writer, "Uno")
    kept = await published_notebook(client, writer, "Dos")
    await follow(client, reader, gone)
    await follow(client, reader, kept)
    await follow(client, writer, gone)
    await client.delete("/readings/", headers=reader.headers, query_string={"notebook_id": gone})
    assert notebook_ids(await followed(client, reader)) == [kept]
    assert notebook_ids(await followed(client, writer)) == [gone]


async def test_unfollow_when_not_following_is_404(client, writer, reader):
    notebook_id = await published_notebook(client, writer)
    response = await client.delete(
        "/readings/", headers=reader.headers, query_string={"notebook_id": notebook_id}
    )
    await problem(response, 404, "not_found")


async def test_second_unfollow_is_404(client, writer, reader):
    notebook_id = await published_notebook(client, writer)
    await follow(client, reader, notebook_id)
    query = {"notebook_id": notebook_id}
    await client.delete("/readings/", headers=reader.headers, query_string=query)
    await problem(
        await client.delete("/readings/", headers=reader.headers, query_string=query), 404, "not_found"
    )


async def test_follow_again_after_unfollow(client, writer, reader):
    notebook_id = await published_notebook(client, writer)
    await follow(client, reader, notebook_id)
    await client.delete("/readings/", headers=reader.headers, query_string={"notebook_id": notebook_id})
    assert (await follow(client, reader, notebook_id)).status_code == 201


async def test_unfollow_needs_a_token(client, writer, reader):
    notebook_id = await published_notebook(client, writer)
    await follow(client, reader, notebook_id)
    response = await client.delete("/readings/", query_string={"notebook_id": notebook_id})
    await problem(response, 401, "token_missing")
    assert (await followed(client, reader))["total"] == 1


async def test_unfollow_without_notebook_id_is_400(client, reader):
    await problem(await client.delete("/readings/", headers=reader.headers), 400, "validation_error")


async def test_unfollow_with_invalid_notebook_id_is_400(client, reader):
    for value in ("abc", "0"):
        response = await client.delete(
            "/readings/", headers=reader.headers, query_string={"notebook_id": value}
        )
        await problem(response, 400, "validation_error")


async def test_unfollow_body_with_unknown_fields_is_400(client, writer, reader):
    notebook_id = await published_notebook(client, writer)
    await follow(client, reader, notebook_id)
    response = await client.delete(
        "/readings/", headers=reader.headers, json={"notebook_id": notebook_id, "user_id": writer.user_id}
    )
    await problem(response, 400, "validation_error")
    assert (await followed(client, reader))["total"] == 1


async def test_unfollow_with_unknown_query_parameter_is_400(client, writer, reader):
    notebook_id = await published_notebook(client, writer)
    response = await client.delete(
        "/readings/", headers=reader.headers, query_string={"notebook_id": notebook_id, "user_id": 1}
    )
    await problem(response, 400, "validation_error")
