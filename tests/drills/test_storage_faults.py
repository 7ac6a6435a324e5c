"""Object storage stops answering in the middle of an upload, under a live server.

The upload answers 503 within the storage client's timeouts; no image row and no object are left,
and uploads work again within 5 s of the fault clearing.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import boto3
import httpx

from tests.drills.conftest import CLIENT_TIMEOUT_SECONDS, Drill, User, seconds_until, timed
from tests.images.support import padded

IMAGE_BYTES = 2 * 1024 * 1024
# miniopy-async's session: its read timeout (10 s) bounds a stalled part upload.
STORAGE_FAILURE_SECONDS = 15
# A failed put's object is deleted every second for a minute (storage/s3.SWEEP_EVERY_SECONDS).
ORPHAN_SECONDS = 10


def objects_in_bucket(drill: Drill) -> list[str]:
    s3 = boto3.client(
        "s3",
        endpoint_url=f"http://{drill.storage.target[0]}:{drill.storage.target[1]}",
        aws_access_key_id="test-access-key",
        aws_secret_access_key="test-secret-key",
        region_name="us-east-1",
    )
    listing = s3.list_objects_v2(Bucket=drill.server_environment["SINPLUMA_S3_BUCKET"])
    return [item["Key"] for item in listing.get("Contents", [])]


def seconds_until_only(drill: Drill, count: int) -> float:
    """How long until the bucket holds exactly `count` objects."""
    started = time.monotonic()
    while len(objects_in_bucket(drill)) != count:
        assert time.monotonic() - started < ORPHAN_SECONDS, objects_in_bucket(drill)
        time.sleep(0.1)
    return time.monotonic() - started


def upload(drill: Drill, user: User, chunks: Iterator[bytes]) -> httpx.Response:
    return httpx.post(
        f"{drill.server.url}/user/{user.username}/image/",
        headers={**user.headers, "Content-Type": "image/png"},
        content=chunks,
        timeout=CLIENT_TIMEOUT_SECONDS,
    )


def cut_midway(drill: Drill, image: bytes) -> Iterator[bytes]:
    """The first half of the image, then storage goes dark, then the rest."""
    half = len(image) // 2
    yield image[:half]
    drill.storage.set("blackhole")
    yield image[half:]


def test_an_upload_cut_midway_leaves_no_row_and_no_object(drill, user):
    image = padded(IMAGE_BYTES)
    before = objects_in_bucket(drill)
    try:
        refused, refused_after = timed(lambda: upload(drill, user, cut_midway(drill, image)))
    finally:
        drill.storage.set("pass")
    recovered_after = seconds_until(lambda: upload(drill, user, iter([image])), 201)

    assert refused.status_code == 503, refused.text
    assert refused.headers["Retry-After"] and refused_after < STORAGE_FAILURE_SECONDS
    # The cut upload's request, held by the network, may still land once it heals: it is deleted,
    # and only the upload made after recovery stays.
    orphan_gone_after = seconds_until_only(drill, len(before) + 1)
    print(
        f"\nDRILL storage blackhole mid-upload: 503 after {refused_after:.2f} s;"
        f" recovered {recovered_after:.2f} s after the fault cleared;"
        f" a late-landing object deleted within {orphan_gone_after:.2f} s"
    )
