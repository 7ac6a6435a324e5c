"""The in-memory counters give waits to the millisecond, whatever the clock reads (no float dust)."""

from __future__ import annotations

import math

import pytest

from sinpluma_async.ratelimits.counting import Hit
from sinpluma_async.ratelimits.memory import MemoryCounters
from sinpluma_async.ratelimits.policies import parse_rate_limits


@pytest.mark.parametrize("reading", [1000.003, 1000.005, 4090.833771576286, 524258.24229178455])
async def test_a_fresh_window_waits_exactly_its_length(reading):
    policy = parse_rate_limits("read=3/1m").policies()["read"]
    counters = MemoryCounters(clock=lambda: reading)
    tally = await counters.count([Hit(policy, "someone")])
    [count] = tally.counts
    assert math.ceil(count.wait) == 60
