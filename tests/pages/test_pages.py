from __future__ import annotations

import pytest

from tests.support import create_notebook, create_page, problem, publish_notebook, publish_page, slate

DEFAULT_CONTENT = [{"type": "paragraph", "children": [{"text": ""}]}]


@pytest.fixture
async def notebook(client, writer):
    return await create_notebook(client, writer)


async def editor(client, account, page_id):
    response = await client.get(f"/pages/{page_id}?mode=editor", headers=account.headers)
    assert response.status_code == 200, await response.get_data(as_text=True)
    return await response.get_json()


async def positions(client, account, notebook_id):
    body = await (await client.get(f"/notebooks/{notebook_id}", headers=account.headers)).get_json()
    return [(page["title"], page["position"]) for page in body["pages"]]


def nested(depth):
    node = {"text": "deep"}
    for _ in range(depth - 1):
        node = {"type": "quote", "children": [node]}
    return [node]


async def test_new_page_is_appended_with_default_content(client, writer, notebook):
    first = await create_page(client, writer, notebook["notebook_id"])
    response = await client.post(
        "/pages/", headers=writer.headers, json={"notebook_id": notebook["notebook_id"], "title": "Dos"}
    )
    second = await response.get_json()
    assert response.headers["Location"] == f"/pages/{second['page_id']}"
    assert first["position"] == 1 and second["position"] == 2
    assert second["content"] == DEFAULT_CONTENT and second["version"] == 1 and second["published"] is False
    assert second["title"] == "Dos" and second["notebook_id"] == notebook["notebook_id"]


async def test_content_of_64_levels_is_accepted(client, writer, notebook):
    page = await create_page(client, writer, notebook["notebook_id"], content=nested(64))
    assert page["content"] == nested(64)


@pytest.mark.parametrize(
    "content",
    [
        {"type": "paragraph"},
        ["text"],
        [{"type": "paragraph"}],
        [{"text": 1}],
        [{"text": "a", "children": []}],
        [{"children": "a"}],
        [{"children": [7]}],
        "nested(65)",
        "oversized",
    ],
)
async def test_invalid_content_is_400_and_nothing_is_written(client, writer, notebook, content):
    if content == "nested(65)":
        content = nested(65)
    elif content == "oversized":
        content = slate("x" * (1024 * 1024))
    page = await create_page(client, writer, notebook["notebook_id"])
    response = await client.put(
        f"/pages/{page['page_id']}", headers=writer.headers, json={"content": content}
    )
    document = await problem(response, 400, "validation_error")
    assert document["errors"][0]["loc"][:2] == ["body", "content"]
    after = await editor(client, writer, page["page_id"])
    assert after["content"] == DEFAULT_CONTENT and after["version"] == 1


async def test_save_bumps_version_by_one_and_returns_etag(client, writer, notebook):
    page = await create_page(client, writer, notebook["notebook_id"])
    response = await client.put(
        f"/pages/{page['page_id']}", headers=writer.headers, json={"title": "Nuevo", "content": slate("Hola")}
    )
    body = await response.get_json()
    assert response.status_code == 200 and response.headers["ETag"] == '"2"'
    assert body["version"] == 2 and body["title"] == "Nuevo" and body["position"] == 1
    assert set(body) == {"page_id", "version", "title", "position", "updated_at"}
    stored = await editor(client, writer, page["page_id"])
    assert stored["content"] == slate("Hola") and stored["version"] == 2


async def test_editor_response_carries_version_etag(client, writer, notebook):
    page = await create_page(client, writer, notebook["notebook_id"])
    response = await client.get(f"/pages/{page['page_id']}?mode=editor", headers=writer.headers)
    assert response.headers["ETag"] == '"1"'


async def test_stale_base_version_is_412_and_writes_nothing(client, writer, notebook):
    page = await create_page(client, writer, notebook["notebook_id"])
    path = f"/pages/{page['page_id']}"
    await client.put(path, headers=writer.headers, json={"content": slate("v2"), "base_version": 1})
    response = await client.put(
        path, headers=writer.headers, json={"content": slate("stale"), "base_version": 1}
    )
    document = await problem(response, 412, "version_conflict")
    assert document["current_version"] == 2
    stored = await editor(client, writer, page["page_id"])
    assert stored["content"] == slate("v2") and stored["version"] == 2


async def test_if_match_makes_the_save_conditional(client, writer, notebook):
    page = await create_page(client, writer, notebook["notebook_id"])
    path = f"/pages/{page['page_id']}"
    stale = await client.put(path, headers={**writer.headers, "If-Match": '"7"'}, json={"title": "x"})
    assert (await problem(stale, 412, "version_conflict"))["current_version"] == 1
    fresh = await client.put(path, headers={**writer.headers, "If-Match": '"1"'}, json={"title": "x"})
    assert fresh.status_code == 200 and (await fresh.get_json())["version"] == 2


async def test_malformed_if_match_is_400(client, writer, notebook):
    page = await create_page(client, writer, notebook["notebook_id"])
    response = await client.put(
        f"/pages/{page['page_id']}",
        headers={**writer.headers, "If-Match": "version-one"},
        json={"title": "x"},
    )
    await problem(response, 400, "validation_error")


async def test_moving_a_page_shifts_the_ones_between(client, writer, notebook):
    pages = [await create_page(client, writer, notebook["notebook_id"], title=name) for name in "ABCDE"]
    await client.put(f"/pages/{pages[3]['page_id']}", headers=writer.headers, json={"position": 1})
    assert await positions(client, writer, notebook["notebook_id"]) == [
        ("D", 1),
        ("A", 2),
        ("B", 3),
        ("C", 4),
        ("E", 5),
    ]
    await client.put(f"/pages/{pages[0]['page_id']}", headers=writer.headers, json={"position": 5})
    assert await positions(client, writer, notebook["notebook_id"]) == [
        ("D", 1),
        ("B", 2),
        ("C", 3),
        ("E", 4),
        ("A", 5),
    ]


@pytest.mark.parametrize("position", [0, 4, -1])
async def test_position_outside_the_notebook_is_400(client, writer, notebook, position):
    pages = [await create_page(client, writer, notebook["notebook_id"], title=name) for name in "ABC"]
    response = await client.put(
        f"/pages/{pages[0]['page_id']}", headers=writer.headers, json={"position": position}
    )
    await problem(response, 400, "validation_error")
    assert await positions(client, writer, notebook["notebook_id"]) == [("A", 1), ("B", 2), ("C", 3)]


async def test_deleting_a_page_moves_later_pages_up(client, writer, notebook):
    pages = [await create_page(client, writer, notebook["notebook_id"], title=name) for name in "ABCD"]
    response = await client.delete(f"/pages/{pages[1]['page_id']}", headers=writer.headers)
    assert response.status_code == 204
    assert await positions(client, writer, notebook["notebook_id"]) == [("A", 1), ("C", 2), ("D", 3)]


async def test_reader_mode_is_404_until_published(client, writer, notebook):
    page = await create_page(client, writer, notebook["notebook_id"], title="T", content=slate("texto"))
    await problem(await client.get(f"/pages/{page['page_id']}", headers=writer.headers), 404, "not_found")
    await publish_page(client, writer, page["page_id"])
    response = await client.get(f"/pages/{page['page_id']}", headers=writer.headers)
    body = await response.get_json()
    assert set(body) == {"page_id", "notebook_id", "title", "position", "content", "published_at"}
    assert body["title"] == "T" and body["content"] == slate("texto") and "ETag" not in response.headers


async def test_reader_mode_shows_the_published_copy_not_later_drafts(client, writer, reader, notebook):
    page = await create_page(client, writer, notebook["notebook_id"], title="Publicado", content=slate("uno"))
    await publish_page(client, writer, page["page_id"])
    await publish_notebook(client, writer, notebook["notebook_id"])
    await client.put(
        f"/pages/{page['page_id']}",
        headers=writer.headers,
        json={"title": "Borrador", "content": slate("dos")},
    )
    body = await (await client.get(f"/pages/{page['page_id']}", headers=reader.headers)).get_json()
    assert body["title"] == "Publicado" and body["content"] == slate("uno")


async def test_published_page_of_a_draft_notebook_is_hidden_from_others(client, writer, reader, notebook):
    page = await create_page(client, writer, notebook["notebook_id"])
    await publish_page(client, writer, page["page_id"])
    await problem(await client.get(f"/pages/{page['page_id']}", headers=reader.headers), 404, "not_found")
    await problem(await client.get(f"/pages/{page['page_id']}"), 404, "not_found")


async def test_editor_mode_is_for_the_author_only(client, writer, reader, notebook):
    page = await create_page(client, writer, notebook["notebook_id"])
    await publish_page(client, writer, page["page_id"])
    await publish_notebook(client, writer, notebook["notebook_id"])
    path = f"/pages/{page['page_id']}?mode=editor"
    await problem(await client.get(path, headers=reader.headers), 403, "forbidden")
    await problem(await client.get(path), 403, "forbidden")


async def test_unpublish_hides_the_page_from_readers(client, writer, reader, notebook):
    page = await create_page(client, writer, notebook["notebook_id"])
    await publish_page(client, writer, page["page_id"])
    await publish_notebook(client, writer, notebook["notebook_id"])
    response = await client.delete(f"/pages/{page['page_id']}/publish", headers=writer.headers)
    assert response.status_code == 204
    await problem(await client.get(f"/pages/{page['page_id']}", headers=reader.headers), 404, "not_found")
    assert (await editor(client, writer, page["page_id"]))["published"] is False


async def test_publish_copies_the_current_draft(client, writer, notebook):
    page = await create_page(client, writer, notebook["notebook_id"], title="Uno", content=slate("a"))
    await client.put(
        f"/pages/{page['page_id']}", headers=writer.headers, json={"title": "Dos", "content": slate("b")}
    )
    response = await client.post(f"/pages/{page['page_id']}/publish", headers=writer.headers)
    body = await response.get_json()
    assert body["published"] is True and body["published_at"].endswith("Z") and body["version"] == 2
    reader_view = await (await client.get(f"/pages/{page['page_id']}", headers=writer.headers)).get_json()
    assert reader_view["title"] == "Dos" and reader_view["content"] == slate("b")


async def test_list_pages_by_position_with_visibility(client, writer, reader, notebook):
    pages = [await create_page(client, writer, notebook["notebook_id"], title=name) for name in "ABC"]
    await publish_page(client, writer, pages[2]["page_id"])
    await publish_notebook(client, writer, notebook["notebook_id"])
    path = f"/pages/?notebook_id={notebook['notebook_id']}&per_page=2"
    own = await (await client.get(path, headers=writer.headers)).get_json()
    assert [page["title"] for page in own["items"]] == ["A", "B"] and own["total"] == 3
    assert own["links"]["next"] == f"/pages/?notebook_id={notebook['notebook_id']}&page=2&per_page=2"
    others = await (await client.get(path, headers=reader.headers)).get_json()
    assert [page["title"] for page in others["items"]] == ["C"] and others["total"] == 1


async def test_list_pages_needs_notebook_id(client):
    await problem(await client.get("/pages/"), 400, "validation_error")


async def test_list_pages_of_an_invisible_notebook_is_404(client, writer, reader, notebook):
    response = await client.get(f"/pages/?notebook_id={notebook['notebook_id']}", headers=reader.headers)
    await problem(response, 404, "not_found")


async def test_content_with_unicode_round_trips(client, writer, notebook):
    content = slate("Acción y aventura ✍️📚", "詩")
    page = await create_page(client, writer, notebook["notebook_id"], content=content)
    assert (await editor(client, writer, page["page_id"]))["content"] == content


async def test_content_with_characters_sql_escapes_round_trips(client, writer, notebook):
    tricky = "comillas ' y \" barra \\ \\' nulo \x00 fin \n retorno \r sustituto \x1a %_ acción"
    page = await create_page(client, writer, notebook["notebook_id"], content=slate("inicio"))
    response = await client.put(
        f"/pages/{page['page_id']}",
        headers=writer.headers,
        json={"content": slate(tricky), "title": tricky[:90]},
    )
    assert response.status_code == 200, await response.get_data(as_text=True)
    stored = await editor(client, writer, page["page_id"])
    assert stored["content"] == slate(tricky) and stored["title"] == tricky[:90]


async def test_integers_of_any_size_in_content_come_back_exactly(client, writer, notebook):
    page = await create_page(client, writer, notebook["notebook_id"])
    content = [
        {
            "type": "p",
            "id": 2**64,
            "n": -(2**63) - 1,
            "big": 10**30,
            "children": [{"text": "12345678901234567890"}],
        }
    ]
    response = await client.put(
        f"/pages/{page['page_id']}", headers=writer.headers, json={"content": content}
    )
    assert response.status_code == 200
    assert (await editor(client, writer, page["page_id"]))["content"] == content


@pytest.mark.parametrize(
    "body",
    [b'{"content": [{"text": "\\ud800"}]}', b'{"content": [{"text": "a", "size": 1e400}]}'],
    ids=["lone-surrogate", "number-too-large-for-a-float"],
)
async def test_content_that_cannot_be_stored_as_json_is_400_and_nothing_is_written(
    client, writer, notebook, body
):
    page = await create_page(client, writer, notebook["notebook_id"])
    response = await client.put(
        f"/pages/{page['page_id']}",
        headers={**writer.headers, "Content-Type": "application/json"},
        data=body,
    )
    await problem(response, 400, "validation_error")
    assert (await editor(client, writer, page["page_id"]))["version"] == 1
