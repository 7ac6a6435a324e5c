"""API.md "Conditional reads" on GET /pages/<id> (reader mode) and GET /notebooks/<id>."""

from __future__ import annotations

import pytest

from tests.support import create_notebook, create_page, publish_notebook, publish_page, slate


@pytest.fixture
async def published(client, writer):
    """A published notebook with one published page; (notebook, page)."""
    notebook = await create_notebook(client, writer)
    page = await create_page(
        client, writer, notebook["notebook_id"], title="Uno", content=slate("Hola ñandú")
    )
    await publish_page(client, writer, page["page_id"])
    await publish_notebook(client, writer, notebook["notebook_id"])
    return notebook, page


async def test_reader_page_carries_etag_and_matching_if_none_match_is_304(client, reader, published):
    _, page = published
    first = await client.get(f"/pages/{page['page_id']}", headers=reader.headers)
    assert first.status_code == 200
    etag = first.headers["ETag"]
    again = await client.get(f"/pages/{page['page_id']}", headers={**reader.headers, "If-None-Match": etag})
    assert again.status_code == 304
    assert await again.get_data() == b""
    assert again.headers["ETag"] == etag


async def test_reader_page_is_private_with_a_token_and_public_without(client, reader, published):
    _, page = published
    with_token = await client.get(f"/pages/{page['page_id']}", headers=reader.headers)
    anonymous = await client.get(f"/pages/{page['page_id']}")
    assert with_token.headers["Cache-Control"] == "private, no-cache"
    assert anonymous.headers["Cache-Control"] == "public, no-cache"
    assert "Authorization" in with_token.headers["Vary"] and "Authorization" in anonymous.headers["Vary"]
    assert with_token.headers["ETag"] == anonymous.headers["ETag"]


async def test_republished_page_changes_its_etag_and_a_stale_one_gets_the_new_body(
    client, writer, reader, published
):
    _, page = published
    stale = (await client.get(f"/pages/{page['page_id']}")).headers["ETag"]
    await client.put(f"/pages/{page['page_id']}", headers=writer.headers, json={"content": slate("Nuevo")})
    await publish_page(client, writer, page["page_id"])
    response = await client.get(f"/pages/{page['page_id']}", headers={"If-None-Match": stale})
    assert response.status_code == 200
    assert response.headers["ETag"] != stale
    assert (await response.get_json())["content"] == slate("Nuevo")


async def test_reader_page_body_is_the_published_copy_with_every_field(client, writer, published):
    notebook, page = published
    await client.put(f"/pages/{page['page_id']}", headers=writer.headers, json={"title": "Borrador"})
    body = await (await client.get(f"/pages/{page['page_id']}")).get_json()
    assert list(body) == ["page_id", "notebook_id", "title", "position", "content", "published_at"]
    assert body["title"] == "Uno" and body["content"] == slate("Hola ñandú")
    assert body["notebook_id"] == notebook["notebook_id"] and body["position"] == 1
    assert body["published_at"].endswith("Z")


async def test_editor_page_keeps_its_version_etag_and_stays_uncached(client, writer, published):
    _, page = published
    response = await client.get(f"/pages/{page['page_id']}?mode=editor", headers=writer.headers)
    body = await response.get_json()
    assert response.headers["ETag"] == f'"{body["version"]}"'
    assert response.headers["Cache-Control"] == "no-store"
    assert body["content"] == slate("Hola ñandú") and body["published"] is True


async def test_notebook_etag_gives_304_until_a_page_changes(client, writer, reader, published):
    notebook, page = published
    path = f"/notebooks/{notebook['notebook_id']}"
    first = await client.get(path, headers=reader.headers)
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"] == "private, no-cache" and "Authorization" in first.headers["Vary"]
    assert (await client.get(path, headers={**reader.headers, "If-None-Match": etag})).status_code == 304
    await client.put(f"/pages/{page['page_id']}", headers=writer.headers, json={"title": "Otro"})
    await publish_page(client, writer, page["page_id"])
    changed = await client.get(path, headers={**reader.headers, "If-None-Match": etag})
    assert changed.status_code == 200
    assert (await changed.get_json())["pages"][0]["title"] == "Otro"


async def test_notebook_read_anonymously_is_public(client, published):
    notebook, _ = published
    response = await client.get(f"/notebooks/{notebook['notebook_id']}")
    assert response.headers["Cache-Control"] == "public, no-cache"


async def test_author_and_reader_get_different_etags_for_a_notebook_with_a_draft_page(
    client, writer, reader, published
):
    notebook, _ = published
    await create_page(client, writer, notebook["notebook_id"], title="Sin publicar")
    path = f"/notebooks/{notebook['notebook_id']}"
    as_author = await client.get(path, headers=writer.headers)
    as_reader = await client.get(path, headers=reader.headers)
    assert as_author.headers["ETag"] != as_reader.headers["ETag"]
    assert (
        await client.get(path, headers={**reader.headers, "If-None-Match": as_author.headers["ETag"]})
    ).status_code == 200


async def test_unpublished_page_is_404_even_with_if_none_match(client, writer, published):
    _, page = published
    etag = (await client.get(f"/pages/{page['page_id']}")).headers["ETag"]
    await client.delete(f"/pages/{page['page_id']}/publish", headers=writer.headers)
    response = await client.get(f"/pages/{page['page_id']}", headers={"If-None-Match": etag})
    assert response.status_code == 404


async def test_authors_reader_preview_in_a_draft_notebook_is_not_cached(client, writer):
    notebook = await create_notebook(client, writer)
    page = await create_page(client, writer, notebook["notebook_id"], content=slate("vista previa"))
    await publish_page(client, writer, page["page_id"])
    response = await client.get(f"/pages/{page['page_id']}", headers=writer.headers)
    assert response.status_code == 200 and (await response.get_json())["content"] == slate("vista previa")
    assert response.headers["Cache-Control"] == "no-store" and "ETag" not in response.headers
