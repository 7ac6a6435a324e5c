"""aiomysql parses each result's column descriptions once (db/column_descriptions_once.py)."""

from __future__ import annotations

import pytest

from sinpluma_async.db.column_descriptions_once import kept_description
from tests.support import create_notebook, create_page


@pytest.mark.parametrize("backend", ["mariadb"], indirect=True)
async def test_a_page_read_again_parses_no_column_description(client, writer):
    notebook = await create_notebook(client, writer)
    page = await create_page(client, writer, notebook["notebook_id"], title="Uno")
    path = f"/pages/{page['page_id']}?mode=editor"
    first = await client.get(path, headers=writer.headers)
    assert first.status_code == 200
    before = kept_description.cache_info()
    again = await client.get(path, headers=writer.headers)
    after = kept_description.cache_info()
    assert again.status_code == 200 and await again.get_json() == await first.get_json()
    assert after.misses == before.misses and after.hits > before.hits
