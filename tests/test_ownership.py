"""A second user tries every write endpoint on the first user's notebooks and pages."""

from __future__ import annotations

import pytest

from tests.support import create_notebook, create_page, publish_notebook, publish_page, slate


async def snapshot(client, owner, notebook_id, page_ids):
    notebook = await (await client.get(f"/notebooks/{notebook_id}", headers=owner.headers)).get_json()
    pages = [
        await (await client.get(f"/pages/{page_id}?mode=editor", headers=owner.headers)).get_json()
        for page_id in page_ids
    ]
    return notebook, pages


def write_attempts(notebook_id, page_id):
    return [
        ("PUT", f"/notebooks/{notebook_id}", {"title": "Robado"}),
        ("PUT", f"/notebooks/{notebook_id}", {"status": "draft"}),
        ("DELETE", f"/notebooks/{notebook_id}", None),
        ("POST", "/pages/", {"notebook_id": notebook_id, "title": "Intrusa"}),
        ("PUT", f"/pages/{page_id}", {"content": slate("vandalismo")}),
        ("PUT", f"/pages/{page_id}", {"position": 2}),
        ("POST", f"/pages/{page_id}/publish", None),
        ("DELETE", f"/pages/{page_id}/publish", None),
        ("DELETE", f"/pages/{page_id}", None),
    ]


@pytest.mark.parametrize("published", [False, True], ids=["draft", "published"])
async def test_other_user_can_change_nothing(client, writer, reader, published):
    notebook = await create_notebook(client, writer, title="Mío")
    pages = [
        await create_page(client, writer, notebook["notebook_id"], title=title, content=slate(title))
        for title in ("Uno", "Dos")
    ]
    page_ids = [page["page_id"] for page in pages]
    if published:
        for page_id in page_ids:
            await publish_page(client, writer, page_id)
        await publish_notebook(client, writer, notebook["notebook_id"])
    before = await snapshot(client, writer, notebook["notebook_id"], page_ids)
    for method, path, body in write_attempts(notebook["notebook_id"], page_ids[0]):
        response = await client.open(path, method=method, headers=reader.headers, json=body)
        expected = 403 if published else 404
        assert response.status_code == expected, (method, path, await response.get_data(as_text=True))
        assert response.headers["Content-Type"] == "application/problem+json"
    assert await snapshot(client, writer, notebook["notebook_id"], page_ids) == before
