"""Listing 100 items costs as many SQL statements as listing a few: no query per row."""

from __future__ import annotations

from tests.support import counting_statements, create_notebook, create_page, publish_notebook


async def statements_for(app, client, path, headers, expected_items):
    with counting_statements(app) as statements:
        response = await client.get(path, headers=headers)
    assert len((await response.get_json())["items"]) == expected_items
    return len(statements)


async def test_listing_notebooks_costs_the_same_for_3_and_100(app, client, writer, reader):
    for number in range(100):
        notebook = await create_notebook(client, writer, title=f"N{number}")
        await publish_notebook(client, writer, notebook["notebook_id"])
        await client.post("/readings/", headers=reader.headers, json={"notebook_id": notebook["notebook_id"]})
    few = await statements_for(app, client, "/notebooks/?scope=public&per_page=3", reader.headers, 3)
    many = await statements_for(app, client, "/notebooks/?scope=public&per_page=100", reader.headers, 100)
    assert few == many <= 3
    few = await statements_for(app, client, "/readings/?per_page=3", reader.headers, 3)
    many = await statements_for(app, client, "/readings/?per_page=100", reader.headers, 100)
    assert few == many <= 3


async def test_listing_pages_costs_the_same_for_3_and_100(app, client, writer):
    notebook = await create_notebook(client, writer)
    for number in range(100):
        await create_page(client, writer, notebook["notebook_id"], title=f"P{number}")
    path = f"/pages/?notebook_id={notebook['notebook_id']}"
    few = await statements_for(app, client, f"{path}&per_page=3", writer.headers, 3)
    many = await statements_for(app, client, f"{path}&per_page=100", writer.headers, 100)
    assert few == many <= 4
    with counting_statements(app) as statements:
        detail = await (
            await client.get(f"/notebooks/{notebook['notebook_id']}", headers=writer.headers)
        ).get_json()
    assert len(detail["pages"]) == 100 and len(statements) <= 4
