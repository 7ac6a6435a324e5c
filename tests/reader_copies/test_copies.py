"""What a process keeps of reader-mode answers: within its budget, under the generation it read."""

from __future__ import annotations

import pytest
import redis.asyncio

from sinpluma_async.ratelimits.counting import Hit
from sinpluma_async.ratelimits.memory import MemoryCounters
from sinpluma_async.ratelimits.policies import Policy, Rate
from sinpluma_async.ratelimits.shared import RedisCounters
from sinpluma_async.reader_copies.copies import COPY_SECONDS, ReaderAnswer, ReaderCopies
from sinpluma_async.reader_copies.generations import MemoryGenerations, RedisGenerations
from tests.support import redis_key_prefix

NONE_READ: dict[str, bytes] = {}


def answer(notebook_id: int, body: bytes = b"x" * 10) -> ReaderAnswer:
    return ReaderAnswer(notebook_id, 1, notebook_status="published", published=True, body=body, etag="e")


def kept_and_checked(copies: ReaderCopies, page_id: int, notebook_id: int) -> None:
    """Keep a copy, then keep it again under the generation a second request reads."""
    copies.keep(page_id, answer(notebook_id), copies.check(page_id, NONE_READ))
    copies.keep(page_id, answer(notebook_id), copies.check(page_id, NONE_READ))


def test_a_copy_is_served_from_the_request_after_its_generation_is_known():
    copies = ReaderCopies(MemoryGenerations(), max_bytes=1000)
    copies.keep(1, answer(7), copies.check(1, NONE_READ))
    assert copies.check(1, NONE_READ).fresh is None  # kept before any generation was read
    copies.keep(1, answer(7), copies.check(1, NONE_READ))
    assert copies.check(1, NONE_READ).fresh == answer(7)


async def test_a_new_generation_outdates_the_copies_of_its_notebook_only():
    copies = ReaderCopies(MemoryGenerations(), max_bytes=1000)
    kept_and_checked(copies, 1, notebook_id=7)
    kept_and_checked(copies, 2, notebook_id=8)
    await copies.renew(7)
    assert copies.check(1, NONE_READ).fresh is None
    assert copies.check(2, NONE_READ).fresh == answer(8)


def test_a_page_found_in_another_notebook_is_not_kept_under_the_generation_read_for_the_first():
    copies = ReaderCopies(MemoryGenerations(), max_bytes=1000)
    kept_and_checked(copies, 1, notebook_id=7)
    copies.keep(1, answer(9), copies.check(1, NONE_READ))  # the id now names a page of notebook 9
    assert copies.check(1, NONE_READ).fresh is None


def test_past_the_budget_the_copy_served_least_recently_is_dropped():
    copies = ReaderCopies(MemoryGenerations(), max_bytes=25)
    kept_and_checked(copies, 1, notebook_id=7)
    kept_and_checked(copies, 2, notebook_id=7)
    assert copies.check(1, NONE_READ).fresh is not None  # page 1 served last
    kept_and_checked(copies, 3, notebook_id=7)
    assert copies.check(2, NONE_READ).fresh is None
    assert copies.check(1, NONE_READ).fresh is not None and copies.check(3, NONE_READ).fresh is not None


def test_a_budget_of_zero_keeps_nothing():
    copies = ReaderCopies(MemoryGenerations(), max_bytes=0)
    kept_and_checked(copies, 1, notebook_id=7)
    assert copies.check(1, NONE_READ).fresh is None and copies.keys_to_read(1) == []


def test_a_copy_is_read_again_after_copy_seconds_whatever_its_generation():
    now = [0.0]
    copies = ReaderCopies(MemoryGenerations(), max_bytes=1000, clock=lambda: now[0])
    kept_and_checked(copies, 1, notebook_id=7)
    now[0] = COPY_SECONDS - 1
    assert copies.check(1, NONE_READ).fresh is not None
    now[0] = COPY_SECONDS + 1
    assert copies.check(1, NONE_READ).fresh is None


async def test_in_memory_counters_read_no_generation():
    tally = await MemoryCounters().count([Hit(Policy("read", Rate(10, 60)), "user:1")], generations=["g"])
    assert tally.generations == {}


@pytest.fixture
async def shared(redis_url):
    client = redis.asyncio.Redis.from_url(redis_url)
    prefix = redis_key_prefix()
    yield client, prefix
    keys = [key async for key in client.scan_iter(f"{prefix}*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


async def test_the_counting_round_trip_starts_a_missing_generation_and_reads_it_after(shared):
    client, prefix = shared
    counters = RedisCounters(client, prefix, revocation_keys=lambda claims: [])
    generations = RedisGenerations(client, prefix)
    keys = generations.keys_to_read(7)
    hit = Hit(Policy("read", Rate(10, 60)), "user:1")

    async def generation() -> bytes | None:
        return generations.current(7, (await counters.count([hit], generations=keys)).generations)

    started = await generation()
    assert started is not None and await generation() == started
    await generations.renew(7)
    renewed = await generation()
    assert renewed not in (None, started)
    await client.delete(*keys)
    assert await generation() not in (None, started, renewed)
    assert 0 < await client.pttl(keys[0]) <= 24 * 3600 * 1000
