"""Two live processes writing on a primary and reading from its replica, two seconds behind.

A user always reads their own writes, on the other process too; anonymous reads go to the replica
(its own counters show it); nothing is written through the read URL.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from tests.live import LiveAuthor
from tests.replication.conftest import Replication
from tests.support import slate

DELAY_SECONDS = 2
WAIT_SECONDS = 20


@pytest.fixture(scope="module", autouse=True)
def lagging_replica(replication: Replication) -> Iterator[None]:
    replication.wait_caught_up()
    replication.set_delay(DELAY_SECONDS)
    yield
    replication.set_delay(0)
    replication.wait_caught_up()


def user_statistics(replication: Replication, user: str) -> dict[str, int]:
    columns = ("SELECT_COMMANDS", "UPDATE_COMMANDS", "OTHER_COMMANDS", "ROWS_UPDATED")
    rows = replication.run(
        replication.replica,
        f"SELECT {', '.join(columns)} FROM information_schema.USER_STATISTICS WHERE USER = '{user}'",
    )
    return dict(zip(columns, rows[0], strict=True)) if rows else dict.fromkeys(columns, 0)


def test_a_new_notebook_and_page_are_read_back_on_the_other_process(replicated_servers):
    first, second = replicated_servers
    author = LiveAuthor.on(first.url, title="Réplica")

    notebook = httpx.get(f"{second.url}/notebooks/{author.notebook_id}", headers=author.headers)
    profile = httpx.get(f"{second.url}/user/{author.username}", headers=author.headers)

    assert notebook.status_code == 200 and notebook.json()["pages"][0]["page_id"] == author.page_id
    assert profile.status_code == 200 and profile.json()["notebook_count"] == 0


def test_every_save_is_read_back_on_the_other_process(replicated_servers):
    first, second = replicated_servers
    author = LiveAuthor.on(first.url, title="Réplica")
    for version in range(2, 6):
        saved = httpx.put(
            f"{first.url}/pages/{author.page_id}",
            headers=author.headers,
            json={"content": slate(f"Versión {version}")},
        )
        read = httpx.get(f"{second.url}/pages/{author.page_id}?mode=editor", headers=author.headers)
        assert saved.json()["version"] == version
        assert read.json()["version"] == version
        assert read.json()["content"] == slate(f"Versión {version}")


def test_a_publication_is_read_back_at_once_and_reaches_anonymous_readers_later(replicated_servers):
    first, second = replicated_servers
    author = LiveAuthor.on(first.url, title="Réplica")
    published = {"status": "published"}
    assert httpx.put(f"{first.url}/notebooks/{author.notebook_id}", headers=author.headers, json=published)
    assert (
        httpx.post(f"{first.url}/pages/{author.page_id}/publish", headers=author.headers).status_code == 200
    )

    own = httpx.get(f"{second.url}/pages/{author.page_id}", headers=author.headers)
    anonymous = httpx.get(f"{second.url}/pages/{author.page_id}")

    assert own.status_code == 200
    # The replica is two seconds behind: an anonymous reader sees the page once it has caught up.
    assert anonymous.status_code == 404
    deadline = time.monotonic() + WAIT_SECONDS
    while httpx.get(f"{second.url}/pages/{author.page_id}").status_code != 200:
        assert time.monotonic() < deadline, "the replica never caught up"
        time.sleep(0.1)


def test_a_deletion_is_read_back_on_the_other_process(replicated_servers):
    first, second = replicated_servers
    author = LiveAuthor.on(first.url, title="Réplica")
    assert httpx.get(f"{second.url}/pages/{author.page_id}?mode=editor", headers=author.headers)

    deleted = httpx.delete(f"{first.url}/notebooks/{author.notebook_id}", headers=author.headers)
    notebook = httpx.get(f"{second.url}/notebooks/{author.notebook_id}", headers=author.headers)
    page = httpx.get(f"{second.url}/pages/{author.page_id}?mode=editor", headers=author.headers)

    assert deleted.status_code == 204
    assert notebook.status_code == 404 and page.status_code == 404


def test_anonymous_reads_are_counted_by_the_replica_not_the_primary(replication, replicated_servers):
    _, second = replicated_servers
    primary_before = replication.counter(replication.primary, "Com_select")
    replica_before = user_statistics(replication, "reader")["SELECT_COMMANDS"]

    for _ in range(5):
        assert httpx.get(f"{second.url}/notebooks/?scope=public").status_code == 200

    assert user_statistics(replication, "reader")["SELECT_COMMANDS"] >= replica_before + 5
    assert replication.counter(replication.primary, "Com_select") == primary_before


def test_nothing_is_written_through_the_read_url(replication, replicated_servers):
    first, second = replicated_servers
    author = LiveAuthor.on(first.url, title="Réplica")
    httpx.put(f"{second.url}/pages/{author.page_id}", headers=author.headers, json={"title": "Otra"})
    httpx.delete(f"{second.url}/user/logout", headers=author.headers)

    grants = replication.run(replication.replica, "SHOW GRANTS FOR 'reader'@'%'")
    statistics = user_statistics(replication, "reader")

    assert any("GRANT SELECT ON `sinpluma`.*" in grant for (grant,) in grants)
    assert not any("INSERT" in grant or "ALL PRIVILEGES" in grant for (grant,) in grants)
    assert statistics["SELECT_COMMANDS"] > 0
    assert statistics["UPDATE_COMMANDS"] == 0 and statistics["ROWS_UPDATED"] == 0
