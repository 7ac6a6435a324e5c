"""Peak server memory and /healthz latency while 20 clients upload a 5 MiB image each, at once.

Run: .venv/bin/python bench/upload_memory.py --storage local|s3 [--uploads 20] [--size-mib 5] [--json]
     [--idempotency-key]   (each upload sends its own Idempotency-Key: the body is hashed as it streams)

`s3` starts moto's S3 server in its own process (its memory is not the API server's). Peak RSS is
the kernel's high-water mark (VmHWM) of the server process, reset just before the uploads start.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import multiprocessing
import secrets
import statistics
import sys
import time
from collections.abc import AsyncIterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
from harness import expect, latency_summary, running_server
from PIL import Image
from servers import MotoServer

CHUNK = 64 * 1024
ENV_OVERRIDES = [
    tuple(item.split("=", 1)) for item in __import__("os").environ.get("BENCH_SERVER_ENV", "").split()
]
HEALTH_INTERVAL_S = 0.01


def png_of_size(size: int) -> bytes:
    """A valid PNG header and pixels, padded with trailing bytes to exactly `size` bytes."""
    buffer = io.BytesIO()
    Image.new("RGB", (1200, 800), (200, 120, 40)).save(buffer, format="PNG")
    image = buffer.getvalue()
    return image + secrets.token_bytes(size - len(image))


def memory_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} for {pid}")


def server_pids(root: int) -> list[int]:
    children = Path(f"/proc/{root}/task/{root}/children").read_text().split()
    return [root, *map(int, children)]


def poll_health(url: str, stop: Any, samples: Any) -> None:
    """GET /healthz every 10 ms until told to stop; report each latency in milliseconds."""
    latencies: list[float] = []
    with httpx.Client(base_url=url, timeout=10) as client:
        while not stop.is_set():
            start = time.perf_counter()
            expect(client.get("/healthz"), 200)
            latencies.append((time.perf_counter() - start) * 1000)
            time.sleep(HEALTH_INTERVAL_S)
    samples.put(latencies)


def reset_peak(pid: int) -> None:
    """Set the process's peak RSS (VmHWM) back to its current RSS."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


async def chunked(data: bytes) -> AsyncIterator[bytes]:
    for start in range(0, len(data), CHUNK):
        yield data[start : start + CHUNK]


async def bench(url: str, server_pid: int, args: argparse.Namespace) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=url, timeout=120) as client:
        username, password = f"bench_{secrets.token_hex(4)}", secrets.token_urlsafe(18)
        body = {"username": username, "email": f"{username}@example.com", "password": password}
        expect(await client.post("/user/register", json=body), 201)
        login = expect(
            await client.post("/user/login", json={"username": username, "password": password}), 200
        )
        auth = {"Authorization": f"Bearer {login.json()['access_token']}"}
        headers = {**auth, "Content-Type": "image/png"}
        notebooks = [
            expect(
                await client.post("/notebooks/", headers=auth, json={"title": f"N{n}", "genre_id": 1}), 201
            )
            for n in range(args.uploads)
        ]
        ids = [notebook.json()["notebook_id"] for notebook in notebooks]
        image = png_of_size(args.size_mib * 1024 * 1024)
        # Warm-up: the first upload loads Pillow's plugins and opens the storage connections.
        expect(await client.post(f"/notebooks/{ids[0]}/image/", headers=headers, content=chunked(image)), 201)
        await asyncio.sleep(1)
        pids = server_pids(server_pid)
        idle_kib = sum(memory_kib(pid, "VmRSS") for pid in pids)
        for pid in pids:
            reset_peak(pid)
        # The prober runs in its own process: in this one, its timings would include the delay of
        # an event loop busy sending 100 MiB.
        stop = multiprocessing.Event()
        samples: multiprocessing.Queue[list[float]] = multiprocessing.Queue()
        prober = multiprocessing.Process(target=poll_health, args=(url, stop, samples))
        prober.start()

        async def upload(notebook_id: int) -> float:
            async with httpx.AsyncClient(base_url=url, timeout=120) as uploader:
                start = time.perf_counter()
                content = image if args.content_length else chunked(image)
                keyed = {"Idempotency-Key": f"upload-{notebook_id}"} if args.idempotency_key else {}
                response = await uploader.post(
                    f"/notebooks/{notebook_id}/image/", headers=headers | keyed, content=content
                )
                expect(response, 201)
                return time.perf_counter() - start

        await asyncio.sleep(0.5)
        client_cpu, started = time.process_time(), time.perf_counter()
        durations = await asyncio.gather(*(upload(notebook_id) for notebook_id in ids))
        elapsed, client_cpu = time.perf_counter() - started, time.process_time() - client_cpu
        stop.set()
        health = samples.get(timeout=30)
        prober.join(timeout=10)
        peak_kib = sum(memory_kib(pid, "VmHWM") for pid in pids)
        stored = await client.get(f"/notebooks/{ids[-1]}/image/", headers=auth)
        assert stored.content == image, "the stored image differs from the upload"
    return {
        "storage": args.storage,
        "idempotency_key": args.idempotency_key,
        "uploads": args.uploads,
        "size_mib": args.size_mib,
        "idle_rss_mib": idle_kib / 1024,
        "peak_rss_mib": peak_kib / 1024,
        "growth_mib": (peak_kib - idle_kib) / 1024,
        "all_uploads_s": elapsed,
        "upload_mean_s": statistics.fmean(durations),
        "client_cpu_s": client_cpu,
        "healthz_samples": len(health),
        **{f"healthz_{key}": value for key, value in latency_summary(health).items()},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--storage", choices=("local", "s3"), required=True)
    parser.add_argument("--uploads", type=int, default=20)
    parser.add_argument("--size-mib", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--content-length", action="store_true", help="send Content-Length instead of a chunked body"
    )
    parser.add_argument(
        "--idempotency-key", action="store_true", help="send an Idempotency-Key with each upload"
    )
    args = parser.parse_args()
    env = {"SINPLUMA_MAX_IMAGE_BYTES": str(args.size_mib * 1024 * 1024)}
    with ExitStack() as stack:
        if args.storage == "s3":
            moto = stack.enter_context(MotoServer())
            env |= {
                "SINPLUMA_S3_ENDPOINT": f"127.0.0.1:{moto.port}",
                "SINPLUMA_S3_ACCESS_KEY": "bench-access-key",
                "SINPLUMA_S3_SECRET_KEY": "bench-secret-key",
                "SINPLUMA_S3_BUCKET": "bench",
            }
        server = stack.enter_context(running_server("sqlite", env=env))
        result = asyncio.run(bench(server.url, server.process.pid, args))
        result["server_cpu_s"] = server.cpu()
    print(
        f"{result['uploads']} x {result['size_mib']} MiB to {result['storage']} storage in "
        f"{result['all_uploads_s']:.2f} s: server RSS idle {result['idle_rss_mib']:.1f} MiB, "
        f"peak {result['peak_rss_mib']:.1f} MiB, growth {result['growth_mib']:.1f} MiB; "
        f"/healthz during uploads p50 {result['healthz_p50_ms']:.2f} ms, "
        f"p99 {result['healthz_p99_ms']:.2f} ms, "
        f"max {result['healthz_max_ms']:.2f} ms ({result['healthz_samples']} samples); "
        f"client cpu {result['client_cpu_s']:.2f} s, server cpu (whole run) {result['server_cpu_s']:.2f} s"
    )
    if args.json:
        print(json.dumps(result, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
