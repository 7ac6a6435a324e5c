"""Positions stay exactly 1..n under concurrent creations, moves and deletions."""

from __future__ import annotations

import asyncio
import random

from tests.support import create_notebook, create_page, slate


async def positions(client, account, notebook_id):
    response = await client.get(f"/pages/?notebook_id={notebook_id}&per_page=100", headers=account.headers)
    return [(page["page_id"], page["position"]) for page in (await response.get_json())["items"]]


async def test_fifty_concurrent_creations_get_positions_one_to_fifty(client, writer):
    notebook = await create_notebook(client, writer)
    responses = await asyncio.gather(
        *(
            client.post(
                "/pages/",
                headers=writer.headers,
                json={"notebook_id": notebook["notebook_id"], "title": str(n)},
            )
            for n in range(50)
        )
    )
    assert [response.status_code for response in responses] == [201] * 50
    created = sorted([(await response.get_json())["position"] for response in responses])
    assert created == list(range(1, 51))
    assert [position for _, position in await positions(client, writer, notebook["notebook_id"])] == list(
        range(1, 51)
    )


async def test_concurrent_deletes_moves_and_creations_keep_positions_dense(client, writer):
    notebook = await create_notebook(client, writer)
    notebook_id = notebook["notebook_id"]
    page_ids = [(await create_page(client, writer, notebook_id, title=str(n)))["page_id"] for n in range(30)]
    shuffled = random.Random(7).sample(page_ids, len(page_ids))
    deleted, moved = shuffled[:10], shuffled[10:25]
    operations = [client.delete(f"/pages/{page_id}", headers=writer.headers) for page_id in deleted]
    operations += [
        client.put(f"/pages/{page_id}", headers=writer.headers, json={"position": 1 + index % 15})
        for index, page_id in enumerate(moved)
    ]
    operations += [
        client.post("/pages/", headers=writer.headers, json={"notebook_id": notebook_id}) for _ in range(10)
    ]
    responses = await asyncio.gather(*operations)
    statuses = [response.status_code for response in responses]
    assert statuses[:10] == [204] * 10 and statuses[25:] == [201] * 10
    # A move can name a position that a concurrent delete has just removed: 400, and nothing moves.
    assert set(statuses[10:25]) <= {200, 400}
    final = await positions(client, writer, notebook_id)
    assert [position for _, position in final] == list(range(1, len(final) + 1))
    assert len(final) == 30
    assert not set(deleted) & {page_id for page_id, _ in final}


async def test_saves_publishing_moves_and_deletes_at_once_never_deadlock(client, writer):
    notebook_id = (await create_notebook(client, writer))["notebook_id"]
    page_ids = [(await create_page(client, writer, notebook_id, title=str(n)))["page_id"] for n in range(20)]
    shuffled = random.Random(11).sample(page_ids, len(page_ids))
    deleted, moved, written = shuffled[:5], shuffled[5:10], shuffled[10:]
    operations = [client.delete(f"/pages/{page_id}", headers=writer.headers) for page_id in deleted]
    operations += [
        client.put(f"/pages/{page_id}", headers=writer.headers, json={"position": 1 + index % 10})
        for index, page_id in enumerate(moved)
    ]
    operations += [
        client.put(f"/pages/{page_id}", headers=writer.headers, json={"content": slate(f"v{round_}")})
        for round_ in range(3)
        for page_id in written
    ]
    operations += [client.post(f"/pages/{page_id}/publish", headers=writer.headers) for page_id in written]
    responses = await asyncio.gather(*operations)
    statuses = [response.status_code for response in responses]
    assert statuses[:5] == [204] * 5
    assert set(statuses[5:10]) <= {200, 400}
    assert statuses[10:] == [200] * (len(statuses) - 10)
    for page_id in written:
        page = await (await client.get(f"/pages/{page_id}?mode=editor", headers=writer.headers)).get_json()
        assert page["version"] == 4 and page["published"] is True
    final = await positions(client, writer, notebook_id)
    assert [position for _, position in final] == list(range(1, 16))
