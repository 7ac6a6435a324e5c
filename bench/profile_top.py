"""py-spy samples of a server's workers during a benchmark, and the frames that took the most.

`sampled(server_pid, seconds, directory)` records every child of the server (Hypercorn's workers)
with `py-spy record --format raw` for `seconds` and yields a list that, once the block ends, holds
the top frames: by own samples ("self") and by samples with the frame anywhere on the stack
("total"), as shares of all samples. py-spy is not in the locks: `pip install py-spy` first.
With `BENCH_NATIVE_FRAMES=1` in the environment py-spy also samples C frames (`--native`): what
Python frames call into uvloop, the driver's C parts or the allocator shows under its own name.
py-spy then stops each worker to sample it, so that run's latency and CPU figures do not count.

Run on raw files already recorded, it prints the same top frames, and the share of named parts:
  .venv/bin/python bench/profile_top.py var/profiles/x.txt [--within FRAME ...] [--part TEXT ...]
`--within` keeps the stacks that hold a frame containing one of these texts (a request's own work,
say, leaving out start-up), so shares are of those samples; `--part` reports, for each text, the
share of those samples with a frame containing it anywhere on the stack.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from servers import process_stats

TOP = 12


def children(pid: int) -> list[int]:
    return [child for child, fields in process_stats() if int(fields[1]) == pid]


@contextmanager
def sampled(server_pid: int, seconds: float, directory: Path | None) -> Iterator[list[str]]:
    top: list[str] = []
    if directory is None:
        yield top
        return
    directory.mkdir(parents=True, exist_ok=True)
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    native = os.environ.get("BENCH_NATIVE_FRAMES") == "1"  # py-spy stops the process to unwind C
    outputs = [directory / f"{pid}.txt" for pid in children(server_pid)]
    recorders = [
        subprocess.Popen(
            [
                py_spy,
                "record",
                "--pid",
                output.stem,
                "--duration",
                str(int(seconds)),
                "--format",
                "raw",
                *(["--native"] if native else ["--nonblocking"]),
                "--output",
                str(output),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for output in outputs
    ]
    yield top
    for recorder in recorders:
        recorder.wait()
    top.extend(summarize([output for output in outputs if output.exists()]))


def stacks(outputs: list[Path], within: Iterable[str] = ()) -> Iterator[tuple[list[str], int]]:
    """Each sampled stack and its count; with `within`, only stacks holding one of those frames."""
    wanted = tuple(within)
    for output in outputs:
        for line in output.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            if not stack or not count.isdigit():
                continue
            if wanted and not any(text in stack for text in wanted):
                continue
            yield stack.split(";"), int(count)


def summarize(outputs: list[Path], within: Iterable[str] = ()) -> list[str]:
    own: Counter[str] = Counter()
    anywhere: Counter[str] = Counter()
    total = 0
    for frames, samples in stacks(outputs, within):
        total += samples
        own[frames[-1]] += samples
        for frame in set(frames):
            anywhere[frame] += samples
    share = 100 / max(1, total)
    lines = [f"self {share * n:4.1f}% {frame}" for frame, n in own.most_common(TOP)]
    lines += [f"total {share * n:4.1f}% {frame}" for frame, n in anywhere.most_common(TOP * 3)]
    return lines


def part_shares(outputs: list[Path], within: Iterable[str], parts: list[str]) -> list[str]:
    counted: Counter[str] = Counter()
    total = 0
    for frames, samples in stacks(outputs, within):
        total += samples
        for part in parts:
            if any(part in frame for frame in frames):
                counted[part] += samples
    share = 100 / max(1, total)
    return [f"part {share * counted[part]:4.1f}% {part}" for part in parts]


def main() -> None:
    parser = argparse.ArgumentParser(description="Top frames, and named parts' shares, of py-spy raw files")
    parser.add_argument("outputs", type=Path, nargs="+")
    parser.add_argument("--within", action="append", default=[], help="keep stacks holding this frame")
    parser.add_argument("--part", action="append", default=[], help="report this frame's share")
    arguments = parser.parse_args()
    print("samples", sum(samples for _, samples in stacks(arguments.outputs, arguments.within)))
    for line in summarize(arguments.outputs, arguments.within):
        print(line)
    for line in part_shares(arguments.outputs, arguments.within, arguments.part):
        print(line)


if __name__ == "__main__":
    main()
