from __future__ import annotations

import pytest

from tests.support import create_notebook, create_page, problem, publish_notebook, publish_page


async def test_create_starts_a_draft_by_the_caller(client, writer):
    response = await client.post(
        "/notebooks/",
        headers=writer.headers,
        json={"title": "Mi cuaderno", "genre_id": 3, "resume": "Sobre…"},
    )
    assert response.status_code == 201
    body = await response.get_json()
    assert response.headers["Location"] == f"/notebooks/{body['notebook_id']}"
    assert body["status"] == "draft" and body["published_at"] is None
    assert body["author"] == {"user_id": writer.user_id, "username": "writer", "display_name": None}
    assert body["genre"] == {"genre_id": 3, "name": "Ciencia ficción"} and body["genre_id"] == 3
    assert body["page_count"] == 0 and body["cover_url"] is None and body["resume"] == "Sobre…"


async def test_unicode_title_round_trips(client, writer):
    notebook = await create_notebook(client, writer, title="Acción y aventura ✍️📚 詩")
    response = await client.get(f"/notebooks/{notebook['notebook_id']}", headers=writer.headers)
    assert (await response.get_json())["title"] == "Acción y aventura ✍️📚 詩"


@pytest.mark.parametrize(
    "body",
    [
        {"title": "x", "genre_id": 999},
        {"title": "", "genre_id": 1},
        {"title": "   ", "genre_id": 1},
        {"title": "x" * 101, "genre_id": 1},
        {"title": "x", "genre_id": 1, "resume": "r" * 2001},
        {"title": "x"},
        {"title": "x", "genre_id": "1"},
        {"title": "x", "genre_id": 1, "status": "published"},
        {"title": "x", "genre_id": 1, "author_id": 2},
    ],
)
async def test_invalid_notebook_is_400(client, writer, body):
    response = await client.post("/notebooks/", headers=writer.headers, json=body)
    await problem(response, 400, "validation_error")
    listing = await (await client.get("/notebooks/", headers=writer.headers)).get_json()
    assert listing["total"] == 0


async def test_create_needs_a_token(client):
    await problem(await client.post("/notebooks/", json={"title": "x", "genre_id": 1}), 401, "token_missing")


async def test_default_scope_is_mine_with_a_token_and_public_without(client, writer, reader):
    draft = await create_notebook(client, writer, title="Borrador")
    published = await create_notebook(client, writer, title="Publicado")
    await publish_notebook(client, writer, published["notebook_id"])
    await create_notebook(client, reader, title="Del lector")
    mine = await (await client.get("/notebooks/", headers=writer.headers)).get_json()
    assert [item["title"] for item in mine["items"]] == ["Publicado", "Borrador"]
    public = await (await client.get("/notebooks/")).get_json()
    assert [item["notebook_id"] for item in public["items"]] == [published["notebook_id"]]
    assert draft["notebook_id"] not in [item["notebook_id"] for item in public["items"]]


async def test_scope_mine_without_token_is_401(client):
    await problem(await client.get("/notebooks/?scope=mine"), 401, "token_missing")


async def test_public_scope_filters_by_genre_and_author(client, writer, reader):
    for account, genre in ((writer, 1), (writer, 2), (reader, 1)):
        notebook = await create_notebook(client, account, genre_id=genre)
        await publish_notebook(client, account, notebook["notebook_id"])
    by_genre = await (await client.get("/notebooks/?scope=public&genre_id=1")).get_json()
    assert by_genre["total"] == 2 and {item["genre_id"] for item in by_genre["items"]} == {1}
    by_author = await (await client.get("/notebooks/?scope=public&author=WRITER")).get_json()
    assert by_author["total"] == 2 and {item["author"]["username"] for item in by_author["items"]} == {
        "writer"
    }


async def test_listing_is_paginated_with_links(client, writer):
    for number in range(5):
        await create_notebook(client, writer, title=f"N{number}")
    response = await client.get("/notebooks/?page=2&per_page=2", headers=writer.headers)
    body = await response.get_json()
    assert body["page"] == 2 and body["per_page"] == 2 and body["total"] == 5 and body["pages"] == 3
    assert [item["title"] for item in body["items"]] == ["N2", "N1"]
    assert body["links"] == {
        "self": "/notebooks/?page=2&per_page=2",
        "next": "/notebooks/?page=3&per_page=2",
        "prev": "/notebooks/?page=1&per_page=2",
    }


@pytest.mark.parametrize(
    "query", ["page=0", "per_page=0", "per_page=101", "page=x", "scope=all", "colour=red"]
)
async def test_bad_list_parameters_are_400(client, query):
    await problem(await client.get(f"/notebooks/?{query}"), 400, "validation_error")


async def test_newest_update_comes_first(client, writer):
    first = await create_notebook(client, writer, title="Primero")
    await create_notebook(client, writer, title="Segundo")
    await client.put(f"/notebooks/{first['notebook_id']}", headers=writer.headers, json={"resume": "editado"})
    body = await (await client.get("/notebooks/", headers=writer.headers)).get_json()
    assert [item["title"] for item in body["items"]] == ["Primero", "Segundo"]


async def test_owner_sees_draft_with_all_pages(client, writer):
    notebook = await create_notebook(client, writer)
    first = await create_page(client, writer, notebook["notebook_id"], title="Uno")
    await create_page(client, writer, notebook["notebook_id"], title="Dos")
    await publish_page(client, writer, first["page_id"])
    body = await (
        await client.get(f"/notebooks/{notebook['notebook_id']}", headers=writer.headers)
    ).get_json()
    assert body["page_count"] == 2
    assert [(page["title"], page["position"], page["published"]) for page in body["pages"]] == [
        ("Uno", 1, True),
        ("Dos", 2, False),
    ]


async def test_draft_notebook_is_404_to_others(client, writer, reader):
    notebook = await create_notebook(client, writer)
    await problem(
        await client.get(f"/notebooks/{notebook['notebook_id']}", headers=reader.headers), 404, "not_found"
    )
    await problem(await client.get(f"/notebooks/{notebook['notebook_id']}"), 404, "not_found")


async def test_readers_see_only_published_pages_with_published_titles(client, writer, reader):
    notebook = await create_notebook(client, writer)
    shown = await create_page(client, writer, notebook["notebook_id"], title="Publicada")
    await create_page(client, writer, notebook["notebook_id"], title="Oculta")
    await publish_page(client, writer, shown["page_id"])
    await client.put(f"/pages/{shown['page_id']}", headers=writer.headers, json={"title": "Borrador nuevo"})
    await publish_notebook(client, writer, notebook["notebook_id"])
    body = await (
        await client.get(f"/notebooks/{notebook['notebook_id']}", headers=reader.headers)
    ).get_json()
    assert body["page_count"] == 1
    assert [page["title"] for page in body["pages"]] == ["Publicada"]


async def test_partial_update_changes_only_given_fields(client, writer):
    notebook = await create_notebook(client, writer, title="Antes", resume="Resumen")
    response = await client.put(
        f"/notebooks/{notebook['notebook_id']}", headers=writer.headers, json={"genre_id": 8}
    )
    body = await response.get_json()
    assert body["title"] == "Antes" and body["resume"] == "Resumen"
    assert body["genre"] == {"genre_id": 8, "name": "Poesía"}


async def test_publishing_sets_published_at_and_drafting_clears_it(client, writer):
    notebook = await create_notebook(client, writer)
    path = f"/notebooks/{notebook['notebook_id']}"
    published = await (
        await client.put(path, headers=writer.headers, json={"status": "published"})
    ).get_json()
    assert published["status"] == "published" and published["published_at"].endswith("Z")
    drafted = await (await client.put(path, headers=writer.headers, json={"status": "draft"})).get_json()
    assert drafted["status"] == "draft" and drafted["published_at"] is None


@pytest.mark.parametrize("body", [{"status": "archived"}, {"title": None}, {"genre_id": 0}, {"version": 3}])
async def test_invalid_update_is_400(client, writer, body):
    notebook = await create_notebook(client, writer)
    response = await client.put(f"/notebooks/{notebook['notebook_id']}", headers=writer.headers, json=body)
    await problem(response, 400, "validation_error")


async def test_delete_removes_notebook_and_pages(client, writer):
    notebook = await create_notebook(client, writer)
    page = await create_page(client, writer, notebook["notebook_id"])
    response = await client.delete(f"/notebooks/{notebook['notebook_id']}", headers=writer.headers)
    assert response.status_code == 204
    await problem(
        await client.get(f"/notebooks/{notebook['notebook_id']}", headers=writer.headers), 404, "not_found"
    )
    await problem(
        await client.get(f"/pages/{page['page_id']}?mode=editor", headers=writer.headers), 404, "not_found"
    )


async def test_unknown_notebook_is_404(client, writer):
    await problem(await client.get("/notebooks/999999", headers=writer.headers), 404, "not_found")
    await problem(await client.put("/notebooks/999999", headers=writer.headers, json={}), 404, "not_found")


async def test_published_notebook_counts_on_the_author_profile(client, writer):
    notebook = await create_notebook(client, writer)
    await create_notebook(client, writer)
    await publish_notebook(client, writer, notebook["notebook_id"])
    assert (await (await client.get("/user/writer")).get_json())["notebook_count"] == 1
