"""The moving window, in this process's memory, on a clock the test moves."""

from __future__ import annotations

import pytest

from sinpluma_async.ratelimits.counting import Hit
from sinpluma_async.ratelimits.memory import SWEEP_SECONDS, ConnectionLimit, MemoryCounters
from sinpluma_async.ratelimits.policies import Policy, Rate

LOGIN = Policy("login", Rate(5, 10))


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def counters(clock):
    return MemoryCounters(clock=clock)


async def admitted(counters, hits=None):
    return (await counters.count(hits or [Hit(LOGIN, "k")])).admitted


async def test_a_limit_of_5_never_becomes_10_across_a_window_edge(counters, clock):
    # Five calls at the very end of one 10-second span...
    clock.now = 1009.99
    assert [await admitted(counters) for _ in range(6)] == [True] * 5 + [False]
    # ...leave no room at any time within the next 10 seconds, wherever a fixed window would end.
    for now in (1010.0, 1010.01, 1015.0, 1019.0, 1019.98):
        clock.now = now
        assert not await admitted(counters)
    clock.now = 1020.0
    assert [await admitted(counters) for _ in range(6)] == [True] * 5 + [False]


async def test_a_call_fits_once_the_oldest_leaves_the_window(counters, clock):
    for offset in range(5):
        clock.now = 1000.0 + offset
        assert await admitted(counters)
    clock.now = 1009.5
    tally = await counters.count([Hit(LOGIN, "k")])
    assert not tally.admitted and tally.nearest().wait == pytest.approx(0.5)
    clock.now = 1010.0
    assert await admitted(counters)
    assert not await admitted(counters)


async def test_counts_report_remaining_and_when_one_more_fits(counters, clock):
    tally = await counters.count([Hit(LOGIN, "k")])
    count = tally.counts[0]
    assert count.counted and count.used == 1 and count.remaining == 4 and count.wait == pytest.approx(10)
    clock.now += 4
    count = (await counters.count([Hit(LOGIN, "k")])).counts[0]
    assert count.remaining == 3 and count.wait == pytest.approx(6)


async def test_refused_calls_are_not_counted(counters, clock):
    for _ in range(20):
        await counters.count([Hit(LOGIN, "k")])
    clock.now += 10
    assert [await admitted(counters) for _ in range(6)] == [True] * 5 + [False]


async def test_keys_are_counted_apart(counters):
    for _ in range(5):
        await counters.count([Hit(LOGIN, "a")])
    assert not await admitted(counters, [Hit(LOGIN, "a")])
    assert await admitted(counters, [Hit(LOGIN, "b")])


async def test_a_conditional_hit_is_not_counted_when_another_does_not_fit(counters):
    small = Policy("login-client", Rate(1, 60))
    assert await admitted(counters, [Hit(small, "c"), Hit(LOGIN, "k", conditional=True)])
    tally = await counters.count([Hit(small, "c"), Hit(LOGIN, "k", conditional=True)])
    assert not tally.admitted
    assert [count.counted for count in tally.counts] == [False, False]
    assert tally.counts[1].used == 1  # only the first call's


async def test_an_unconditional_hit_is_counted_when_it_fits(counters):
    every = Policy("login-client", Rate(60, 60))
    for _ in range(5):
        await counters.count([Hit(LOGIN, "k")])
    tally = await counters.count([Hit(every, "c"), Hit(LOGIN, "k", conditional=True)])
    assert not tally.admitted
    assert [count.counted for count in tally.counts] == [True, False]


async def test_a_refund_gives_back_what_was_counted(counters):
    for _ in range(4):
        await counters.count([Hit(LOGIN, "k")])
    tally = await counters.count([Hit(LOGIN, "k")])
    await counters.refund(tally, {"login"})
    assert tally.without({"login"}).counts[0].remaining == 1
    assert await admitted(counters)
    assert not await admitted(counters)


async def test_windows_left_empty_are_swept(counters, clock):
    for key in range(100):
        await counters.count([Hit(LOGIN, str(key))])
    clock.now += SWEEP_SECONDS + 1
    await counters.count([Hit(LOGIN, "new")])
    assert len(counters._windows) == 1


def test_a_connection_limit_counts_its_own_calls(clock):
    limit = ConnectionLimit(Policy("ws-save", Rate(2, 1)), clock)
    assert (limit.amount, limit.per) == (2, "a second")
    assert [limit.admit() for _ in range(3)] == [True, True, False]
    clock.now += 1
    assert limit.admit()
