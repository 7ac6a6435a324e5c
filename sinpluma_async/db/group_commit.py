"""Group commit: transactions sent in one round trip (`Database.write_together`) that arrive while
others are being written wait, and then go to the database together, as one transaction.

Why it exists: each save was a transaction of its own, with its own pooled connection, round trip
and commit, on the server and in MariaDB. Committed together, 1,500 socket editors that had fallen
behind (ack p99 7-10 s, saves dropped) were all acked at p99 126-276 ms, and REST saves under load
ran 39-59 % more a second (docs/benchmarks.md, "Saves committed together").

What each caller keeps:
- Its statements run in the order given, after those of the callers ahead of it in the group, and
  its answers are its own. A caller that finds fewer than two groups being written is sent at
  once, as before: an idle service adds no wait.
- A group commits whole or not at all. When the server refuses one of its statements, nothing of
  the group was kept, and each caller's transaction is sent again alone, in the group's order, so
  that a failure is only its own caller's.
- A group whose connection was lost, or whose time ran out, is not sent again: whether its COMMIT
  was applied is unknown, so each of its callers gets the error, as it would alone.
- A caller that gives up before its group is sent is never written, nor sent again alone.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from sqlalchemy.exc import DBAPIError

from sinpluma_async.db.statements import Answer, Step
from sinpluma_async.observability.metrics import DATABASE_GROUPED_TRANSACTIONS

RunTogether = Callable[[Sequence[Step]], Awaitable[list[Answer]]]

# Groups written at once by one process: two, so that a group waiting for a lock (a notebook being
# reordered) does not hold every other save of the process behind it.
GROUPS_IN_FLIGHT = 2
# A group's size: its text stays far below max_allowed_packet (16 MiB by default), and one slow
# group never holds more than this many callers.
GROUP_MOST_TRANSACTIONS = 32
GROUP_MOST_CHARACTERS = 1_000_000


@dataclass(frozen=True, slots=True)
class _Caller:
    steps: Sequence[Step]
    answers: asyncio.Future[list[Answer]]
    characters: int


class GroupCommit:
    """Sends the transactions that wait together, at most `GROUPS_IN_FLIGHT` groups at a time."""

    def __init__(self, run_together: RunTogether) -> None:
        self._run_together = run_together
        self._waiting: deque[_Caller] = deque()
        self._free = GROUPS_IN_FLIGHT
        self._writing: set[asyncio.Task[None]] = set()

    async def run(self, steps: Sequence[Step]) -> list[Answer]:
        """Each statement's answer, once the group that holds them committed."""
        caller = _Caller(steps, asyncio.get_running_loop().create_future(), _characters(steps))
        self._waiting.append(caller)
        if self._free > 0:
            self._free -= 1
            task = asyncio.create_task(self._write_while_waiting())
            self._writing.add(task)
            task.add_done_callback(self._writing.discard)
        # A caller cancelled here (over its time) cancels its future: a group not yet formed skips it.
        return await caller.answers

    async def _write_while_waiting(self) -> None:
        try:
            while self._waiting:
                group = self._next_group()
                if group:
                    await self._write(group)
        finally:
            self._free += 1

    def _next_group(self) -> list[_Caller]:
        group: list[_Caller] = []
        characters = 0
        while self._waiting and len(group) < GROUP_MOST_TRANSACTIONS:
            caller = self._waiting[0]
            if group and characters + caller.characters > GROUP_MOST_CHARACTERS:
                break
            self._waiting.popleft()
            if not caller.answers.done():
                group.append(caller)
                characters += caller.characters
        return group

    async def _write(self, group: list[_Caller]) -> None:
        try:
            answers = await self._run_together([step for caller in group for step in caller.steps])
        except Exception as error:
            if len(group) > 1 and _refused_by_the_server(error):
                await self._write_each_alone(group)
            else:
                _fail(group, error)
            return
        except BaseException:
            for caller in group:
                caller.answers.cancel()
            raise
        DATABASE_GROUPED_TRANSACTIONS.observe(len(group))
        start = 0
        for caller in group:
            _answer(caller, answers[start : start + len(caller.steps)])
            start += len(caller.steps)

    async def _write_each_alone(self, group: list[_Caller]) -> None:
        try:
            for caller in group:
                if not caller.answers.done():  # done: its caller gave up while the group was written
                    await self._write([caller])
        except BaseException:
            for caller in group:
                caller.answers.cancel()  # a no-op for those already answered
            raise

    async def close(self) -> None:
        """Let the groups being written finish."""
        await asyncio.gather(*self._writing, return_exceptions=True)


def _refused_by_the_server(error: Exception) -> bool:
    """The server answered a statement with an error: the group stopped before its COMMIT."""
    return (
        isinstance(error, DBAPIError)
        and not error.connection_invalidated
        and not isinstance(error.orig, TimeoutError)
    )


def _characters(steps: Sequence[Step]) -> int:
    return sum(len(value) for _, params in steps for value in params.values() if isinstance(value, str))


def _answer(caller: _Caller, answers: list[Answer]) -> None:
    if not caller.answers.done():
        caller.answers.set_result(answers)


def _fail(group: list[_Caller], error: Exception) -> None:
    for caller in group:
        if not caller.answers.done():
            caller.answers.set_exception(error)
