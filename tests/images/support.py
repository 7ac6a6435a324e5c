"""What the image tests share: images made in memory, upload requests, and what storage holds."""

from __future__ import annotations

import dataclasses
import random
import struct
import zlib
from collections.abc import AsyncIterator, Mapping
from io import BytesIO
from typing import Any

import boto3
import httpx
import pytest
from PIL import Image as PillowImage
from quart import Quart
from quart.typing import TestClientProtocol
from quart.wrappers.response import Response
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from sinpluma_async.config import Settings
from sinpluma_async.images import routes as image_routes
from sinpluma_async.images.models import Image
from sinpluma_async.users.models import User
from tests.live import LiveServer
from tests.support import Account

MIB = 1024 * 1024
BOUNDARY = "sinpluma-test-boundary-7MA4YWxkTrZu0gW"
FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif", "WEBP": "image/webp"}
SVG = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b"<script>alert(1)</script></svg>"
)
HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
TEXT = b"Notes for chapter two, not a picture at all.\n" * 20
RANDOM = random.Random(20240611).randbytes(4096)

Color = tuple[int, int, int]


# Images, made in memory.


def picture(fmt: str = "PNG", size: tuple[int, int] = (3, 2), color: Color = (200, 30, 60)) -> bytes:
    buffer = BytesIO()
    PillowImage.new("RGB", size, color).save(buffer, format=fmt)
    return buffer.getvalue()


def padded(total: int, color: Color = (10, 20, 30)) -> bytes:
    """A valid small PNG followed by trailing bytes, exactly `total` bytes long."""
    head = picture("PNG", (4, 4), color)
    return head + bytes(index % 251 for index in range(total - len(head)))


def huge_png(width: int, height: int) -> bytes:
    """A valid bilevel PNG of any size: all-zero rows compress to almost nothing."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = b"\x00" * (1 + (width + 7) // 8)
    pixels = zlib.compressobj(9)
    idat = b"".join(pixels.compress(row) for _ in range(height)) + pixels.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def header_only(fmt: str, width: int, height: int) -> bytes:
    """A file announcing that size: only the headers for JPEG, GIF and WebP, a whole PNG."""
    if fmt == "JPEG":
        frame = struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
        scan = struct.pack(">HB", 8, 1) + b"\x01\x00\x00\x3f\x00"
        return b"\xff\xd8\xff\xc0" + frame + b"\xff\xda" + scan + b"\x00" * 64 + b"\xff\xd9"
    if fmt == "GIF":
        screen = struct.pack("<HH", width, height) + b"\x00\x00\x00"
        frame = b"\x2c" + struct.pack("<HHHH", 0, 0, width, height) + b"\x00"
        return b"GIF89a" + screen + frame + b"\x02\x02\x44\x01\x00\x3b"
    if fmt == "WEBP":
        canvas = (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
        chunk = b"VP8X" + struct.pack("<I", 10) + b"\x00" * 4 + canvas
        return b"RIFF" + struct.pack("<I", 4 + len(chunk)) + b"WEBP" + chunk
    return huge_png(width, height)


def noisy(fmt: str = "WEBP", side: int = 600) -> bytes:
    """An image of random pixels, large as a file (a lossless WebP of 600x600 is over a megabyte)."""
    buffer = BytesIO()
    noise = random.Random(side).randbytes(side * side * 3)
    options = {"lossless": True} if fmt == "WEBP" else {"quality": 95} if fmt == "JPEG" else {}
    PillowImage.frombytes("RGB", (side, side), noise).save(buffer, format=fmt, **options)
    return buffer.getvalue()


def multipart(
    data: bytes | None,
    *,
    field: str = "image",
    filename: str = "picture.png",
    content_type: str = "image/png",
    extra: dict[str, str] | None = None,
    boundary: str = BOUNDARY,
) -> tuple[bytes, dict[str, str]]:
    """A multipart/form-data body with the file in `field` (none if data is None), and its header."""
    body = b""
    for name, value in (extra or {}).items():
        body += f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
    if data is not None:
        body += (
            f"--{boundary}\r\n"
            f'Content-Disposition: form-data; name="{field}"; filename="{filename}"\r\n'
            f"Content-Type: {content_type}\r\n\r\n"
        ).encode()
        body += data + b"\r\n"
    body += f"--{boundary}--\r\n".encode()
    return body, {"Content-Type": f"multipart/form-data; boundary={boundary}"}


async def in_pieces(data: bytes, size: int = 8192) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


# Requests.


def avatar_path(account: Account) -> str:
    return f"/user/{account.username}/image/"


def cover_path(notebook: Mapping[str, Any]) -> str:
    return f"/notebooks/{notebook['notebook_id']}/image/"


async def post_raw(
    client: TestClientProtocol,
    path: str,
    account: Account | None,
    data: bytes,
    content_type: str = "image/png",
) -> Response:
    headers = {**(account.headers if account else {}), "Content-Type": content_type}
    return await client.post(path, headers=headers, data=data)


async def post_multipart(
    client: TestClientProtocol, path: str, account: Account, data: bytes | None, **options: Any
) -> Response:
    body, headers = multipart(data, **options)
    return await client.post(path, headers={**account.headers, **headers}, data=body)


async def post_streamed(
    client: TestClientProtocol,
    path: str,
    account: Account,
    data: bytes,
    content_type: str = "image/png",
    piece: int = 16 * 1024,
) -> Response:
    """A body handed to the app in pieces, without a Content-Length, as a server does with chunked bodies."""
    headers = {**account.headers, "Content-Type": content_type}
    async with client.request(path, method="POST", headers=headers) as connection:
        for start in range(0, len(data), piece):
            await connection.send(data[start : start + piece])
        await connection.send_complete()
    return await connection.as_response()


async def post_chunked(
    server: LiveServer, path: str, account: Account, data: bytes, content_type: str
) -> httpx.Response:
    """A body sent to a live server with Transfer-Encoding: chunked."""
    headers = {**account.headers, "Content-Type": content_type}
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        response = await http.post(path, headers=headers, content=in_pieces(data))
    assert "content-length" not in response.request.headers
    assert response.request.headers["transfer-encoding"] == "chunked"
    return response


async def uploaded(response: Response) -> dict[str, Any]:
    body = await response.get_data(as_text=True)
    assert response.status_code == 201, body
    metadata: dict[str, Any] = await response.get_json()
    return metadata


async def fetch(
    client: TestClientProtocol, path: str, headers: dict[str, str] | None = None
) -> tuple[Response, bytes]:
    response = await client.get(path, headers=headers or {})
    body = await response.get_data(as_text=False)
    assert response.status_code == 200, body
    return response, body


def assert_live_problem(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == code


# What storage and the database hold.


def s3_client(settings: Settings) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=f"http://{settings.s3_endpoint}",
        aws_access_key_id=settings.s3_access_key,
        aws_secret_access_key=settings.s3_secret_key,
        region_name="us-east-1",
    )


def stored_objects(settings: Settings) -> set[str]:
    """Every complete object in storage."""
    if settings.s3_endpoint is None:
        root = settings.object_dir
        files = (path.relative_to(root) for path in root.rglob("*") if path.is_file())
        return {path.as_posix() for path in files if path.parts[0] != ".incoming"}
    pages = s3_client(settings).get_paginator("list_objects_v2").paginate(Bucket=settings.s3_bucket)
    return {item["Key"] for page in pages for item in page.get("Contents", [])}


def unfinished_uploads(settings: Settings) -> list[str]:
    """Partial files of the local store, or multipart uploads S3 still holds parts of."""
    if settings.s3_endpoint is None:
        incoming = settings.object_dir / ".incoming"
        return [path.name for path in incoming.iterdir()] if incoming.exists() else []
    uploads = s3_client(settings).list_multipart_uploads(Bucket=settings.s3_bucket).get("Uploads", [])
    return [upload["Key"] for upload in uploads]


async def image_keys(app: Quart) -> set[str]:
    async with app.extensions["sinpluma"].database.snapshot() as session:
        return set((await session.execute(select(Image.object_key))).scalars())


async def avatar_key(session: AsyncSession, username: str) -> str | None:
    query = select(Image.object_key).join(User, User.avatar_id == Image.id).where(User.username == username)
    return (await session.execute(query)).scalar_one_or_none()


async def assert_nothing_left_behind(app: Quart, settings: Settings) -> None:
    assert await image_keys(app) == set()
    assert stored_objects(settings) == set()
    assert unfinished_uploads(settings) == []


async def assert_consistent(app: Quart, settings: Settings) -> None:
    """Rows and objects match one to one, and no upload is half done."""
    assert await image_keys(app) == stored_objects(settings)
    assert unfinished_uploads(settings) == []


# Failures.


def fail_writes(monkeypatch: pytest.MonkeyPatch, factory_name: str, *, on_call: int) -> None:
    """Make the slot's locked owner lookup (inside the row's transaction) fail with a lost database."""
    factory = getattr(image_routes, factory_name)

    def failing_factory(**arguments: Any) -> Any:
        real = factory(**arguments)
        calls = 0

        async def for_writing(session: AsyncSession) -> Any:
            nonlocal calls
            calls += 1
            if calls == on_call:
                raise OperationalError("SELECT ... FOR UPDATE", {}, Exception("server has gone away"))
            return await real.for_writing(session)

        return dataclasses.replace(real, for_writing=for_writing)

    monkeypatch.setattr(image_routes, factory_name, failing_factory)
