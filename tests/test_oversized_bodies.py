"""Bodies over a limit, through a live Hypercorn: every client reads a problem+json 413.

A declared Content-Length over the limit is refused before any of the body is read, and
without a `100 Continue`; a body found too large while streaming is refused, and the rest is
read and dropped so that the client reads the 413 instead of a reset; then the connection closes.
Nothing is stored. Each way is tried for a JSON body and an image, with httpx's sync and async
clients, a raw socket that keeps sending, and fetch() in headless Chromium.
"""

from __future__ import annotations

import asyncio
import base64
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import func, select

from sinpluma_async.config import Settings
from sinpluma_async.notebooks.models import Notebook
from tests.browser import chromium_page
from tests.images.support import MIB, assert_nothing_left_behind, multipart, padded, picture
from tests.live import LiveServer, settings_environment
from tests.support import PASSWORD, Account

IMAGE_LIMIT = MIB
JSON_LIMIT = Settings().max_json_bytes
PIECE = 64 * 1024
SECONDS = 60


@dataclass(frozen=True)
class Oversized:
    """A request whose body is over its route's limit."""

    name: str
    path: str
    content_type: str
    body: bytes
    chunked: bool

    @property
    def refused_before_reading(self) -> bool:
        """Refused for its Content-Length: the response always goes out before the body ends."""
        return self.name.endswith("declared") and not self.name.startswith("multipart")


def oversized_requests(account: Account) -> list[Oversized]:
    json_body = b'{"title": "' + b"a" * JSON_LIMIT + b'", "genre_id": 1}'
    image_path = f"/user/{account.username}/image/"
    form, form_headers = multipart(padded(IMAGE_LIMIT + 1))
    return [
        Oversized("json, declared", "/notebooks/", "application/json", json_body, chunked=False),
        Oversized("json, chunked", "/notebooks/", "application/json", json_body, chunked=True),
        Oversized("image, declared", image_path, "image/png", padded(IMAGE_LIMIT + 1), chunked=False),
        Oversized("image, chunked", image_path, "image/png", padded(IMAGE_LIMIT + PIECE), chunked=True),
        # Within the multipart allowance, so the image is found too large only while streaming.
        Oversized("multipart, declared", image_path, form_headers["Content-Type"], form, chunked=False),
    ]


@pytest.fixture
def live(settings: Settings, app) -> Iterator[LiveServer]:
    """A Hypercorn process on the test's database and storage, with an IMAGE_LIMIT image limit."""
    environment = settings_environment(settings, SINPLUMA_MAX_IMAGE_BYTES=str(IMAGE_LIMIT))
    with LiveServer(environment) as server:
        yield server


async def assert_nothing_stored(app, settings: Settings) -> None:
    async with app.extensions["sinpluma"].database.snapshot() as session:
        assert (await session.execute(select(func.count()).select_from(Notebook))).scalar_one() == 0
    await assert_nothing_left_behind(app, settings)


def assert_413(status: int, content_type: str, document: dict, label: str) -> None:
    assert status == 413, (label, status, document)
    assert content_type == "application/problem+json", label
    assert document["status"] == 413 and document["code"] == "payload_too_large", (label, document)


def pieces(data: bytes) -> Iterator[bytes]:
    for start in range(0, len(data), PIECE):
        yield data[start : start + PIECE]


def headers_for(request: Oversized, account: Account) -> dict[str, str]:
    return {**account.headers, "Content-Type": request.content_type}


def post_each_with_a_sync_client(server: LiveServer, account: Account) -> None:
    with httpx.Client(base_url=server.url, timeout=SECONDS) as http:
        for request in oversized_requests(account):
            content = pieces(request.body) if request.chunked else request.body
            response = http.post(request.path, headers=headers_for(request, account), content=content)
            assert_413(response.status_code, response.headers["content-type"], response.json(), request.name)
            if request.refused_before_reading:
                assert response.headers["connection"] == "close", request.name


async def test_httpx_sync_client_reads_the_413(live, app, settings, writer):
    await asyncio.to_thread(post_each_with_a_sync_client, live, writer)
    await assert_nothing_stored(app, settings)


async def test_httpx_async_client_reads_the_413(live, app, settings, writer):
    async def chunks(data: bytes):
        for piece in pieces(data):
            yield piece

    async with httpx.AsyncClient(base_url=live.url, timeout=SECONDS) as http:
        for request in oversized_requests(writer):
            for attempt in range(3):  # the reset used to win the race most of the time
                content = chunks(request.body) if request.chunked else request.body
                headers = headers_for(request, writer)
                response = await http.post(request.path, headers=headers, content=content)
                label = f"{request.name} #{attempt}"
                assert_413(response.status_code, response.headers["content-type"], response.json(), label)
    await assert_nothing_stored(app, settings)


async def test_a_response_before_an_upload_is_read_reaches_an_async_client(live, app, settings):
    async with httpx.AsyncClient(base_url=live.url, timeout=SECONDS) as http:
        response = await http.post(
            "/user/nobody/image/", headers={"Content-Type": "image/png"}, content=padded(IMAGE_LIMIT)
        )
    assert response.status_code == 401 and response.json()["code"] == "token_missing"
    assert response.headers["connection"] == "close"


class RawExchange:
    """A socket that sends a whole request at once, whatever the server answers meanwhile."""

    def __init__(self, server: LiveServer, head: bytes, body: bytes) -> None:
        self.socket = socket.create_connection(("127.0.0.1", server.port), timeout=SECONDS)
        self.sent_all = False
        self.send_error: OSError | None = None
        self._sender = threading.Thread(target=self._send, args=(head, body), daemon=True)
        self._sender.start()

    def _send(self, head: bytes, body: bytes) -> None:
        try:
            self.socket.sendall(head)
            for piece in pieces(body):
                self.socket.sendall(piece)
            self.sent_all = True
        except OSError as error:
            self.send_error = error

    def read_response(self) -> tuple[int, dict[str, str], bytes]:
        """The response; when it says `Connection: close`, what follows it must be the end."""
        received = b""
        while b"\r\n\r\n" not in received:
            received += self.socket.recv(PIECE)
        status, headers, body = parse_response(received)
        while len(body) < int(headers["content-length"]):
            body += self.socket.recv(PIECE)
        if headers.get("connection") == "close":
            while chunk := self.socket.recv(PIECE):
                body += chunk
        self._sender.join(SECONDS)
        self.socket.close()
        return status, headers, body


def request_head(path: str, account: Account, content_type: str, *lines: str) -> bytes:
    fields = [f"Authorization: {account.headers['Authorization']}", f"Content-Type: {content_type}", *lines]
    return "\r\n".join([f"POST {path} HTTP/1.1", "Host: 127.0.0.1", *fields, "", ""]).encode()


def raw_request(request: Oversized, account: Account) -> tuple[bytes, bytes]:
    if not request.chunked:
        framing = f"Content-Length: {len(request.body)}"
        return request_head(request.path, account, request.content_type, framing), request.body
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(piece), piece) for piece in pieces(request.body))
    head = request_head(request.path, account, request.content_type, "Transfer-Encoding: chunked")
    return head, chunks + b"0\r\n\r\n"


def parse_response(raw: bytes) -> tuple[int, dict[str, str], bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in lines)}
    return int(status_line.split()[1]), headers, body


async def test_a_raw_client_that_keeps_sending_reads_the_413_then_the_connection_closes(
    live, app, settings, writer
):
    for request in oversized_requests(writer):
        exchange = RawExchange(live, *raw_request(request, writer))
        status, headers, body = exchange.read_response()
        assert len(body) == int(headers["content-length"]), request.name  # the response, then the end
        assert_413(status, headers["content-type"], json.loads(body), request.name)
        if request.refused_before_reading:
            assert headers["connection"] == "close", request.name
        assert exchange.sent_all and exchange.send_error is None, (request.name, exchange.send_error)
    await assert_nothing_stored(app, settings)


async def test_a_declared_body_over_the_limit_is_refused_without_100_continue(live, app, settings, writer):
    head = request_head(
        "/notebooks/", writer, "application/json", f"Content-Length: {JSON_LIMIT + 1}", "Expect: 100-continue"
    )
    with socket.create_connection(("127.0.0.1", live.port), timeout=SECONDS) as connection:
        connection.sendall(head)
        received = b""
        while chunk := connection.recv(PIECE):  # the server closes without waiting for a body
            received += chunk
    status, headers, body = parse_response(received)
    assert_413(status, headers["content-type"], json.loads(body), "expect 100-continue")
    assert b"100 Continue" not in received and not received.startswith(b"HTTP/1.1 100")
    await assert_nothing_stored(app, settings)


async def test_a_body_within_the_limit_is_invited_with_100_continue_when_the_route_reads_it(live, writer):
    body = b'{"title": "Cuaderno", "genre_id": 1}'
    head = request_head(
        "/notebooks/",
        writer,
        "application/json",
        f"Content-Length: {len(body)}",
        "Expect: 100-continue",
        "Connection: close",
    )
    with socket.create_connection(("127.0.0.1", live.port), timeout=SECONDS) as connection:
        connection.sendall(head)
        invitation = connection.recv(PIECE)
        assert invitation.startswith(b"HTTP/1.1 100"), invitation
        connection.sendall(body)
        received = invitation.partition(b"\r\n\r\n")[2]
        while chunk := connection.recv(PIECE):
            received += chunk
    status, _, document = parse_response(received)
    assert status == 201 and json.loads(document)["title"] == "Cuaderno"


FETCH = """(async () => {
  const head = Uint8Array.from(atob(%(png)s), c => c.charCodeAt(0));
  const image = new Uint8Array(%(image_bytes)d);
  image.set(head);
  const form = new FormData();
  form.append("image", new Blob([image], {type: "image/png"}), "picture.png");
  const bodies = {
    "json": ['{"title": "' + "a".repeat(%(json_bytes)d) + '", "genre_id": 1}', "application/json"],
    "image": [new Blob([image], {type: "image/png"}), "image/png"],
    "multipart": [form, null],
  };
  const results = {};
  for (const [name, [body, type]] of Object.entries(bodies)) {
    const headers = {Authorization: %(authorization)s};
    if (type) headers["Content-Type"] = type;
    const path = name === "json" ? "/notebooks/" : %(image_path)s;
    const response = await fetch(path, {method: "POST", headers, body});
    results[name] = {status: response.status, type: response.headers.get("content-type"),
                     document: await response.json()};
  }
  return results;
})()"""


async def test_fetch_in_chromium_reads_the_413(live, app, settings, writer):
    script = FETCH % {
        "png": json.dumps(base64.b64encode(picture("PNG", (4, 4))).decode()),
        "image_bytes": IMAGE_LIMIT + 1,
        "json_bytes": JSON_LIMIT,
        "authorization": json.dumps(writer.headers["Authorization"]),
        "image_path": json.dumps(f"/user/{writer.username}/image/"),
    }
    with chromium_page(f"{live.url}/healthz") as page:
        results = page.evaluate(script, timeout=SECONDS)
    assert set(results) == {"json", "image", "multipart"}
    for name, result in results.items():
        assert_413(result["status"], result["type"], result["document"], name)
    await assert_nothing_stored(app, settings)


def test_the_oversized_bodies_are_over_their_limits():
    account = Account(1, "someone", "someone@example.com", PASSWORD, "token", "refresh")
    for request in oversized_requests(account):
        limit = JSON_LIMIT if request.content_type == "application/json" else IMAGE_LIMIT
        assert len(request.body) > limit, request.name
