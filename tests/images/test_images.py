"""Profile pictures and notebook covers (API.md, "Images"), through the real app on both backends.

Every test that takes `client` or `settings` runs on SQLite + a local object directory and on
MariaDB + Redis + S3 (moto). "Nothing left behind" means: no object in storage (no partial file
under `.incoming`, no unfinished multipart upload either) and no row in `images`.
"""

from __future__ import annotations

import asyncio
import dataclasses
from contextlib import AsyncExitStack

import httpx
import pytest
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from sinpluma_async import create_app
from sinpluma_async.images import service as image_service
from sinpluma_async.images.models import Image
from tests.images.support import (
    BOUNDARY,
    FORMATS,
    HTML,
    MIB,
    RANDOM,
    SVG,
    TEXT,
    assert_consistent,
    assert_live_problem,
    assert_nothing_left_behind,
    avatar_key,
    avatar_path,
    cover_path,
    fail_writes,
    fetch,
    header_only,
    huge_png,
    image_keys,
    in_pieces,
    multipart,
    noisy,
    padded,
    picture,
    post_chunked,
    post_multipart,
    post_raw,
    post_streamed,
    stored_objects,
    uploaded,
)
from tests.live import LiveServer, settings_environment
from tests.support import create_notebook, make_account, problem, publish_notebook

# The two places an image hangs: a user's picture and a notebook's cover.


@pytest.fixture(params=["avatar", "cover"])
async def slot(request, client, writer):
    """The path of an image slot owned by `writer`, and how the owner's JSON links to it."""
    if request.param == "avatar":

        async def linked_url():
            return (await (await client.get(f"/user/{writer.username}")).get_json())["image_url"]

        return avatar_path(writer), linked_url
    notebook = await create_notebook(client, writer)

    async def linked_cover_url():
        response = await client.get(f"/notebooks/{notebook['notebook_id']}", headers=writer.headers)
        return (await response.get_json())["cover_url"]

    return cover_path(notebook), linked_cover_url


@pytest.fixture
async def build_app(settings):
    """Apps on the test's backend with another image size limit, opened until the test ends."""
    async with AsyncExitStack() as stack:

        async def build(max_image_bytes):
            application = create_app(dataclasses.replace(settings, max_image_bytes=max_image_bytes))
            await stack.enter_async_context(application.test_app())
            return application

        yield build


# Upload, read back, link.


async def test_raw_body_upload_answers_the_metadata(client, writer, slot):
    path, _ = slot
    data = picture("PNG", (7, 5))
    body = await uploaded(await post_raw(client, path, writer, data))
    assert body == {
        "image_url": path,
        "content_type": "image/png",
        "size": len(data),
        "width": 7,
        "height": 5,
    }


async def test_multipart_upload_answers_the_metadata(client, writer, slot):
    path, _ = slot
    data = picture("JPEG", (9, 4))
    body = await uploaded(await post_multipart(client, path, writer, data, content_type="image/jpeg"))
    assert body == {
        "image_url": path,
        "content_type": "image/jpeg",
        "size": len(data),
        "width": 9,
        "height": 4,
    }


async def test_multipart_upload_ignores_other_fields(client, writer):
    data = picture("PNG")
    response = await post_multipart(
        client, avatar_path(writer), writer, data, extra={"caption": "yo", "image_alt": "x" * 1000}
    )
    assert (await uploaded(response))["size"] == len(data)
    assert (await fetch(client, avatar_path(writer)))[1] == data


async def test_owner_json_links_to_the_uploaded_image(client, writer, slot):
    path, linked_url = slot
    assert await linked_url() is None
    await uploaded(await post_raw(client, path, writer, picture()))
    assert await linked_url() == path


async def test_get_streams_the_same_bytes_with_the_stored_type(client, writer, slot):
    path, _ = slot
    data = picture("GIF", (6, 6))
    await uploaded(await post_raw(client, path, writer, data, content_type="image/gif"))
    response, body = await fetch(client, path, writer.headers)
    assert body == data
    assert response.headers["Content-Type"] == "image/gif"
    assert response.headers["Content-Length"] == str(len(data))


async def test_get_sends_etag_cache_control_and_nosniff(client, writer, slot):
    path, _ = slot
    await uploaded(await post_raw(client, path, writer, picture()))
    response, _ = await fetch(client, path, writer.headers)
    assert response.headers["ETag"].startswith('"') and response.headers["ETag"].endswith('"')
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] and "no-store" not in response.headers["Cache-Control"]


async def test_if_none_match_with_the_etag_is_304_without_a_body(client, writer, slot):
    path, _ = slot
    await uploaded(await post_raw(client, path, writer, picture()))
    first, _ = await fetch(client, path, writer.headers)
    response = await client.get(path, headers={**writer.headers, "If-None-Match": first.headers["ETag"]})
    assert response.status_code == 304
    assert await response.get_data() == b""
    assert response.headers["ETag"] == first.headers["ETag"]
    assert response.headers["Cache-Control"] == first.headers["Cache-Control"]
    assert response.headers.get("Content-Type", "image/png") == "image/png"


async def test_if_none_match_with_another_etag_is_200(client, writer):
    await uploaded(await post_raw(client, avatar_path(writer), writer, picture()))
    response = await client.get(avatar_path(writer), headers={"If-None-Match": '"something-else"'})
    assert response.status_code == 200 and await response.get_data() == picture()


async def test_etag_changes_when_the_image_is_replaced(client, writer):
    path = avatar_path(writer)
    await uploaded(await post_raw(client, path, writer, picture(color=(1, 2, 3))))
    before, _ = await fetch(client, path)
    await uploaded(await post_raw(client, path, writer, picture(color=(4, 5, 6))))
    after, _ = await fetch(client, path)
    assert before.headers["ETag"] != after.headers["ETag"]
    stale = await client.get(path, headers={"If-None-Match": before.headers["ETag"]})
    assert stale.status_code == 200


async def test_profile_picture_is_public(client, writer):
    await uploaded(await post_raw(client, avatar_path(writer), writer, picture()))
    _, body = await fetch(client, avatar_path(writer))
    assert body == picture()


async def test_get_without_an_image_is_404(client, writer, slot):
    path, _ = slot
    await problem(await client.get(path, headers=writer.headers), 404, "not_found")


# The type comes from the bytes.


@pytest.mark.parametrize("fmt", FORMATS)
async def test_each_accepted_format_is_stored_with_its_type(client, writer, fmt):
    data = picture(fmt, (5, 3))
    body = await uploaded(
        await post_raw(client, avatar_path(writer), writer, data, content_type=FORMATS[fmt])
    )
    assert (body["content_type"], body["width"], body["height"]) == (FORMATS[fmt], 5, 3)
    response, stored = await fetch(client, avatar_path(writer))
    assert stored == data and response.headers["Content-Type"] == FORMATS[fmt]


@pytest.mark.parametrize("fmt", FORMATS)
async def test_each_accepted_format_is_recognized_in_multipart(client, writer, fmt):
    data = picture(fmt, (2, 8))
    body = await uploaded(
        await post_multipart(
            client, avatar_path(writer), writer, data, content_type="application/octet-stream"
        )
    )
    assert (body["content_type"], body["width"], body["height"]) == (FORMATS[fmt], 2, 8)


async def test_png_labelled_as_jpeg_is_stored_as_png(client, writer):
    body = await uploaded(
        await post_raw(client, avatar_path(writer), writer, picture(), content_type="image/jpeg")
    )
    assert body["content_type"] == "image/png"
    response, _ = await fetch(client, avatar_path(writer))
    assert response.headers["Content-Type"] == "image/png"


async def test_multipart_part_type_and_filename_are_ignored(client, writer):
    response = await post_multipart(
        client, avatar_path(writer), writer, picture("GIF"), filename="x.html", content_type="text/html"
    )
    assert (await uploaded(response))["content_type"] == "image/gif"
    fetched, _ = await fetch(client, avatar_path(writer))
    assert fetched.headers["Content-Type"] == "image/gif"


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        pytest.param(SVG, "image/svg+xml", id="svg"),
        pytest.param(SVG, "image/png", id="svg-labelled-png"),
        pytest.param(HTML, "image/png", id="html-labelled-png"),
        pytest.param(TEXT, "image/png", id="text-labelled-png"),
        pytest.param(RANDOM, "image/jpeg", id="random-bytes"),
        pytest.param(b"\x89PNG\r\n\x1a\n" + TEXT, "image/png", id="png-signature-then-text"),
        pytest.param(b"\xff\xd8\xff", "image/jpeg", id="jpeg-signature-only"),
        pytest.param(b"GIF8", "image/gif", id="shorter-than-a-signature"),
    ],
)
async def test_raw_body_that_is_not_an_image_is_415(client, writer, data, content_type):
    response = await post_raw(client, avatar_path(writer), writer, data, content_type=content_type)
    await problem(response, 415, "unsupported_media_type")


@pytest.mark.parametrize(
    ("data", "filename", "content_type"),
    [
        pytest.param(SVG, "logo.svg", "image/svg+xml", id="svg"),
        pytest.param(HTML, "page.png", "image/png", id="renamed-html"),
        pytest.param(TEXT, "notes.png", "image/png", id="renamed-text"),
        pytest.param(RANDOM, "photo.jpg", "image/jpeg", id="random-bytes"),
    ],
)
async def test_multipart_file_that_is_not_an_image_is_415(client, writer, data, filename, content_type):
    response = await post_multipart(
        client, avatar_path(writer), writer, data, filename=filename, content_type=content_type
    )
    await problem(response, 415, "unsupported_media_type")


@pytest.mark.parametrize("content_type", ["application/json", "text/plain", "text/html", "application/xml"])
async def test_body_of_another_content_type_is_415(client, writer, content_type):
    response = await post_raw(client, avatar_path(writer), writer, picture(), content_type=content_type)
    await problem(response, 415, "unsupported_media_type")


async def test_json_body_is_415(client, writer):
    response = await client.post(avatar_path(writer), headers=writer.headers, json={"image": "aGVsbG8="})
    await problem(response, 415, "unsupported_media_type")


async def test_empty_raw_body_is_400(client, writer):
    await problem(await post_raw(client, avatar_path(writer), writer, b""), 400, "validation_error")


async def test_empty_multipart_image_field_is_400(client, writer):
    await problem(await post_multipart(client, avatar_path(writer), writer, b""), 400, "validation_error")


async def test_multipart_without_an_image_field_is_400(client, writer):
    response = await post_multipart(client, avatar_path(writer), writer, picture(), field="photo")
    await problem(response, 400, "validation_error")


async def test_multipart_with_only_other_fields_is_400(client, writer):
    response = await post_multipart(client, avatar_path(writer), writer, None, extra={"caption": "hola"})
    await problem(response, 400, "validation_error")


async def test_multipart_without_its_closing_boundary_is_400(client, app, settings, writer):
    body, headers = multipart(picture())
    unterminated = body[: body.rindex(f"\r\n--{BOUNDARY}--".encode())]
    response = await client.post(
        avatar_path(writer), headers={**writer.headers, **headers}, data=unterminated
    )
    await problem(response, 400, "validation_error")
    await assert_nothing_left_behind(app, settings)


async def test_multipart_cut_inside_the_image_is_400(client, app, settings, writer):
    data = padded(300_000)
    body, headers = multipart(data)
    cut = body[: body.index(data) + 200_000]
    response = await client.post(avatar_path(writer), headers={**writer.headers, **headers}, data=cut)
    await problem(response, 400, "validation_error")
    await assert_nothing_left_behind(app, settings)


async def test_multipart_without_a_boundary_is_400(client, writer):
    headers = {**writer.headers, "Content-Type": "multipart/form-data"}
    response = await client.post(avatar_path(writer), headers=headers, data=picture())
    await problem(response, 400, "validation_error")


# Pixels.


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("size", [(8000, 5001), (16383, 16383)], ids=["8000x5001", "16383x16383"])
async def test_image_over_40_megapixels_is_400(client, app, settings, writer, fmt, size):
    """16383x16383 is also past the size at which Pillow's Image.open refuses to look at a file."""
    data = header_only(fmt, *size)
    assert len(data) < 64 * 1024
    response = await post_raw(client, avatar_path(writer), writer, data, content_type=FORMATS[fmt])
    await problem(response, 400, "validation_error")
    await assert_nothing_left_behind(app, settings)


async def test_image_of_exactly_40_megapixels_is_accepted(client, writer):
    body = await uploaded(await post_raw(client, avatar_path(writer), writer, huge_png(8000, 5000)))
    assert (body["width"], body["height"]) == (8000, 5000)


@pytest.mark.parametrize("fmt", FORMATS)
async def test_large_image_arriving_in_pieces_is_measured_from_its_header(fmt):
    """Service level: a server hands the body over in pieces, and the header is in the first ones."""
    data = noisy(fmt)
    assert len(data) > 400_000
    upload = await image_service.inspect_upload(in_pieces(data, 16 * 1024))
    assert (upload.kind.content_type, upload.width, upload.height) == (FORMATS[fmt], 600, 600)
    assert b"".join([piece async for piece in upload.chunks]) == data


@pytest.mark.parametrize("fmt", FORMATS)
async def test_large_image_streamed_in_pieces_is_accepted(client, app, settings, writer, fmt):
    data = noisy(fmt)
    response = await post_streamed(client, avatar_path(writer), writer, data, FORMATS[fmt])
    body = await uploaded(response)
    assert (body["content_type"], body["size"], body["width"], body["height"]) == (
        FORMATS[fmt],
        len(data),
        600,
        600,
    )
    assert (await fetch(client, avatar_path(writer)))[1] == data
    await assert_consistent(app, settings)


# Size limit.


LIMIT = 64 * 1024


async def test_raw_image_of_exactly_the_limit_is_accepted(build_app):
    app = await build_app(LIMIT)
    client = app.test_client()
    account = await make_account(client, "ana")
    body = await uploaded(await post_raw(client, avatar_path(account), account, padded(LIMIT)))
    assert body["size"] == LIMIT


async def test_raw_image_one_byte_over_the_limit_is_413(build_app, settings):
    app = await build_app(LIMIT)
    client = app.test_client()
    account = await make_account(client, "ana")
    response = await post_raw(client, avatar_path(account), account, padded(LIMIT + 1))
    await problem(response, 413, "payload_too_large")
    await assert_nothing_left_behind(app, settings)


async def test_multipart_image_of_exactly_the_limit_is_accepted(build_app):
    app = await build_app(LIMIT)
    client = app.test_client()
    account = await make_account(client, "ana")
    body = await uploaded(await post_multipart(client, avatar_path(account), account, padded(LIMIT)))
    assert body["size"] == LIMIT


async def test_multipart_image_one_byte_over_the_limit_is_413(build_app, settings):
    app = await build_app(LIMIT)
    client = app.test_client()
    account = await make_account(client, "ana")
    response = await post_multipart(client, avatar_path(account), account, padded(LIMIT + 1))
    await problem(response, 413, "payload_too_large")
    await assert_nothing_left_behind(app, settings)


async def test_multipart_body_far_over_the_limit_is_413_before_reading(build_app, settings):
    app = await build_app(LIMIT)
    client = app.test_client()
    account = await make_account(client, "ana")
    response = await post_multipart(client, avatar_path(account), account, padded(4 * LIMIT))
    await problem(response, 413, "payload_too_large")
    await assert_nothing_left_behind(app, settings)


async def test_cover_one_byte_over_the_limit_is_413(build_app, settings):
    app = await build_app(LIMIT)
    client = app.test_client()
    account = await make_account(client, "ana")
    notebook = await create_notebook(client, account)
    response = await post_raw(client, cover_path(notebook), account, padded(LIMIT + 1))
    await problem(response, 413, "payload_too_large")
    await assert_nothing_left_behind(app, settings)


async def test_413_keeps_the_previous_image(build_app, settings):
    app = await build_app(LIMIT)
    client = app.test_client()
    account = await make_account(client, "ana")
    await uploaded(await post_raw(client, avatar_path(account), account, picture()))
    keys = await image_keys(app)
    await problem(
        await post_raw(client, avatar_path(account), account, padded(LIMIT + 1)), 413, "payload_too_large"
    )
    assert await image_keys(app) == keys == stored_objects(settings)
    assert (await fetch(client, avatar_path(account)))[1] == picture()


async def test_streamed_image_of_exactly_the_limit_is_accepted(build_app, settings):
    app = await build_app(LIMIT)
    client = app.test_client()
    account = await make_account(client, "ana")
    response = await post_streamed(client, avatar_path(account), account, padded(LIMIT), piece=1000)
    assert (await uploaded(response))["size"] == LIMIT
    assert (await fetch(client, avatar_path(account)))[1] == padded(LIMIT)
    await assert_consistent(app, settings)


async def test_streamed_image_one_byte_over_the_limit_is_413(build_app, settings):
    app = await build_app(LIMIT)
    client = app.test_client()
    account = await make_account(client, "ana")
    response = await post_streamed(client, avatar_path(account), account, padded(LIMIT + 1), piece=1000)
    await problem(response, 413, "payload_too_large")
    await assert_nothing_left_behind(app, settings)


async def test_streamed_multipart_image_one_byte_over_the_limit_is_413(build_app, settings):
    app = await build_app(LIMIT)
    client = app.test_client()
    account = await make_account(client, "ana")
    body, headers = multipart(padded(LIMIT + 1))
    response = await post_streamed(client, avatar_path(account), account, body, headers["Content-Type"], 1000)
    await problem(response, 413, "payload_too_large")
    await assert_nothing_left_behind(app, settings)


async def test_client_disconnecting_after_one_s3_part_leaves_nothing_behind(build_app, settings, monkeypatch):
    """The request is cancelled while the store waits for more of the body, past the first 5 MiB part."""
    app = await build_app(6 * MIB)
    client = app.test_client()
    account = await make_account(client, "ana")
    store = app.extensions["sinpluma"].objects
    put = store.put
    waiting_after_first_part = asyncio.Event()

    async def watched_put(key, chunks, content_type):
        async def watched():
            passed = 0
            async for chunk in chunks:
                passed += len(chunk)
                yield chunk
                if passed > 5 * MIB:  # the store came back for more: the first part is stored
                    waiting_after_first_part.set()

        return await put(key, watched(), content_type)

    monkeypatch.setattr(store, "put", watched_put)
    headers = {**account.headers, "Content-Type": "image/png"}
    data = padded(5 * MIB + 256 * 1024)
    async with client.request(avatar_path(account), method="POST", headers=headers) as connection:
        for start in range(0, len(data), 64 * 1024):
            await connection.send(data[start : start + 64 * 1024])
        await waiting_after_first_part.wait()
        await connection.disconnect()
    await assert_nothing_left_behind(app, settings)


@pytest.mark.parametrize("size", [5 * MIB - 1, 5 * MIB, 5 * MIB + 1], ids=["5MiB-1", "5MiB", "5MiB+1"])
async def test_upload_around_one_s3_part_reads_back_byte_identical(build_app, settings, size):
    app = await build_app(6 * MIB)
    client = app.test_client()
    account = await make_account(client, "ana")
    data = padded(size)
    body = await uploaded(await post_raw(client, avatar_path(account), account, data))
    assert body["size"] == size
    response, stored = await fetch(client, avatar_path(account))
    assert stored == data and response.headers["Content-Length"] == str(size)
    await assert_consistent(app, settings)


@pytest.mark.parametrize("size", [5 * MIB - 1, 5 * MIB, 5 * MIB + 1], ids=["5MiB-1", "5MiB", "5MiB+1"])
async def test_multipart_upload_around_one_s3_part_reads_back_byte_identical(build_app, settings, size):
    app = await build_app(6 * MIB)
    client = app.test_client()
    account = await make_account(client, "ana")
    data = padded(size)
    assert (await uploaded(await post_multipart(client, avatar_path(account), account, data)))["size"] == size
    assert (await fetch(client, avatar_path(account)))[1] == data
    await assert_consistent(app, settings)


async def test_upload_over_the_limit_after_one_s3_part_is_413_and_aborted(build_app, settings):
    app = await build_app(6 * MIB)
    client = app.test_client()
    account = await make_account(client, "ana")
    response = await post_multipart(client, avatar_path(account), account, padded(6 * MIB + 1))
    await problem(response, 413, "payload_too_large")
    await assert_nothing_left_behind(app, settings)


# Bodies without a Content-Length, through a live Hypercorn.

LIVE_LIMIT = 2 * MIB


@pytest.fixture
def live(settings, app):
    """A Hypercorn process on the test's database and storage, with a LIVE_LIMIT image limit."""
    environment = settings_environment(settings, SINPLUMA_MAX_IMAGE_BYTES=str(LIVE_LIMIT))
    server = LiveServer(environment)
    yield server
    server.stop()


async def test_chunked_raw_image_within_the_limit_is_stored(live, app, settings, writer):
    data = padded(LIVE_LIMIT)
    response = await post_chunked(live, avatar_path(writer), writer, data, "image/png")
    assert response.status_code == 201, response.text
    assert response.json()["size"] == LIVE_LIMIT
    async with httpx.AsyncClient(base_url=live.url) as http:
        assert (await http.get(avatar_path(writer))).content == data
    await assert_consistent(app, settings)


async def test_chunked_raw_image_over_the_limit_is_413_and_leaves_nothing(live, app, settings, writer):
    response = await post_chunked(live, avatar_path(writer), writer, padded(LIVE_LIMIT + 1), "image/png")
    assert_live_problem(response, 413, "payload_too_large")
    await assert_nothing_left_behind(app, settings)


async def test_chunked_multipart_image_over_the_limit_is_413_and_leaves_nothing(live, app, settings, writer):
    body, headers = multipart(padded(LIVE_LIMIT + 1))
    response = await post_chunked(live, avatar_path(writer), writer, body, headers["Content-Type"])
    assert_live_problem(response, 413, "payload_too_large")
    await assert_nothing_left_behind(app, settings)


async def test_chunked_cover_over_the_limit_is_413_and_leaves_nothing(live, app, settings, client, writer):
    notebook = await create_notebook(client, writer)
    response = await post_chunked(live, cover_path(notebook), writer, padded(LIVE_LIMIT + 1), "image/jpeg")
    assert_live_problem(response, 413, "payload_too_large")
    await assert_nothing_left_behind(app, settings)


# Consistency between rows and objects.


@pytest.mark.parametrize(
    ("data", "content_type", "status", "code"),
    [
        pytest.param(SVG, "image/svg+xml", 415, "unsupported_media_type", id="svg"),
        pytest.param(RANDOM, "image/png", 415, "unsupported_media_type", id="random"),
        pytest.param(b"", "image/png", 400, "validation_error", id="empty"),
        pytest.param(huge_png(8000, 5001), "image/png", 400, "validation_error", id="too-many-pixels"),
        pytest.param(b'{"a": 1}', "application/json", 415, "unsupported_media_type", id="json"),
    ],
)
async def test_refused_upload_leaves_nothing_behind(
    client, app, settings, writer, data, content_type, status, code
):
    await problem(await post_raw(client, avatar_path(writer), writer, data, content_type), status, code)
    await assert_nothing_left_behind(app, settings)


async def test_refused_upload_keeps_the_previous_image(client, app, settings, writer, slot):
    path, linked_url = slot
    await uploaded(await post_raw(client, path, writer, picture()))
    keys = await image_keys(app)
    await problem(await post_raw(client, path, writer, SVG), 415, "unsupported_media_type")
    assert await image_keys(app) == keys == stored_objects(settings)
    assert (await fetch(client, path, writer.headers))[1] == picture()
    assert await linked_url() == path


async def test_upload_stores_one_object_per_row(client, app, settings, writer, slot):
    path, _ = slot
    await uploaded(await post_raw(client, path, writer, picture()))
    assert len(await image_keys(app)) == 1
    await assert_consistent(app, settings)


async def test_replacing_an_image_deletes_the_old_object(client, app, settings, writer, slot):
    path, _ = slot
    await uploaded(await post_raw(client, path, writer, picture(color=(1, 1, 1))))
    old = await image_keys(app)
    await uploaded(await post_raw(client, path, writer, picture("JPEG", (4, 4))))
    new = await image_keys(app)
    assert len(new) == 1 and new.isdisjoint(old)
    await assert_consistent(app, settings)
    response, body = await fetch(client, path, writer.headers)
    assert body == picture("JPEG", (4, 4)) and response.headers["Content-Type"] == "image/jpeg"


async def test_old_object_is_deleted_only_after_the_new_row_is_committed(client, app, writer, monkeypatch):
    runtime = app.extensions["sinpluma"]
    path = avatar_path(writer)
    await uploaded(await post_raw(client, path, writer, picture(color=(1, 1, 1))))
    (old_key,) = await image_keys(app)
    seen = []
    delete = runtime.objects.delete

    async def observing_delete(key):
        async with runtime.database.snapshot() as session:
            current = await avatar_key(session, writer.username)
        seen.append((key, current))
        await delete(key)

    monkeypatch.setattr(runtime.objects, "delete", observing_delete)
    await uploaded(await post_raw(client, path, writer, picture(color=(2, 2, 2))))
    (new_key,) = await image_keys(app)
    assert seen == [(old_key, new_key)]


async def test_delete_removes_the_row_and_the_object(client, app, settings, writer, slot):
    path, linked_url = slot
    await uploaded(await post_raw(client, path, writer, picture()))
    response = await client.delete(path, headers=writer.headers)
    assert response.status_code == 204 and await response.get_data() == b""
    await assert_nothing_left_behind(app, settings)
    assert await linked_url() is None
    await problem(await client.get(path, headers=writer.headers), 404, "not_found")


async def test_delete_without_an_image_is_404(client, writer, slot):
    path, _ = slot
    await problem(await client.delete(path, headers=writer.headers), 404, "not_found")


async def test_upload_after_delete_works(client, app, settings, writer, slot):
    path, linked_url = slot
    await uploaded(await post_raw(client, path, writer, picture()))
    assert (await client.delete(path, headers=writer.headers)).status_code == 204
    await uploaded(await post_raw(client, path, writer, picture("GIF")))
    assert (await fetch(client, path, writer.headers))[1] == picture("GIF")
    assert await linked_url() == path
    await assert_consistent(app, settings)


async def test_deleting_a_notebook_removes_its_cover_object(client, app, settings, writer):
    notebook = await create_notebook(client, writer)
    await uploaded(await post_raw(client, cover_path(notebook), writer, picture()))
    response = await client.delete(f"/notebooks/{notebook['notebook_id']}", headers=writer.headers)
    assert response.status_code == 204
    await assert_nothing_left_behind(app, settings)


async def test_deleting_a_notebook_keeps_other_images(client, app, settings, writer):
    kept = await create_notebook(client, writer, title="Kept")
    gone = await create_notebook(client, writer, title="Gone")
    await uploaded(await post_raw(client, cover_path(kept), writer, picture(color=(9, 9, 9))))
    await uploaded(await post_raw(client, cover_path(gone), writer, picture(color=(8, 8, 8))))
    await uploaded(await post_raw(client, avatar_path(writer), writer, picture(color=(7, 7, 7))))
    assert (
        await client.delete(f"/notebooks/{gone['notebook_id']}", headers=writer.headers)
    ).status_code == 204
    assert len(await image_keys(app)) == 2
    await assert_consistent(app, settings)
    assert (await fetch(client, cover_path(kept), writer.headers))[1] == picture(color=(9, 9, 9))


async def test_database_failure_after_the_upload_is_503_and_removes_the_object(
    client, app, settings, writer, slot, monkeypatch
):
    path, _ = slot
    fail_writes(monkeypatch, "avatar_slot" if path.startswith("/user/") else "cover_slot", on_call=2)
    response = await post_raw(client, path, writer, picture())
    await problem(response, 503, "service_unavailable")
    assert int(response.headers["Retry-After"]) > 0
    await assert_nothing_left_behind(app, settings)


async def test_database_failure_after_the_upload_keeps_the_previous_image(
    client, app, settings, writer, slot, monkeypatch
):
    path, linked_url = slot
    await uploaded(await post_raw(client, path, writer, picture(color=(3, 3, 3))))
    keys = await image_keys(app)
    fail_writes(monkeypatch, "avatar_slot" if path.startswith("/user/") else "cover_slot", on_call=2)
    await problem(await post_raw(client, path, writer, picture(color=(4, 4, 4))), 503, "service_unavailable")
    assert await image_keys(app) == keys == stored_objects(settings)
    assert (await fetch(client, path, writer.headers))[1] == picture(color=(3, 3, 3))
    assert await linked_url() == path


async def test_row_insert_failure_is_503_and_removes_the_object(client, app, settings, writer, monkeypatch):
    await uploaded(await post_raw(client, avatar_path(writer), writer, picture(color=(3, 3, 3))))
    keys = await image_keys(app)
    flush = AsyncSession.flush

    async def failing_flush(self, objects=None):
        if any(isinstance(item, Image) for item in self.new):
            raise OperationalError("INSERT INTO images ...", {}, Exception("lock wait timeout"))
        await flush(self, objects)

    monkeypatch.setattr(AsyncSession, "flush", failing_flush)
    response = await post_raw(client, avatar_path(writer), writer, picture(color=(4, 4, 4)))
    await problem(response, 503, "service_unavailable")
    monkeypatch.undo()
    assert await image_keys(app) == keys == stored_objects(settings)
    assert (await fetch(client, avatar_path(writer)))[1] == picture(color=(3, 3, 3))


# Ownership.


async def test_another_user_cannot_upload_someones_picture(client, app, settings, writer, reader):
    response = await post_raw(client, avatar_path(writer), reader, picture())
    await problem(response, 403, "forbidden")
    await assert_nothing_left_behind(app, settings)


async def test_another_user_cannot_delete_someones_picture(client, writer, reader):
    await uploaded(await post_raw(client, avatar_path(writer), writer, picture()))
    await problem(await client.delete(avatar_path(writer), headers=reader.headers), 403, "forbidden")
    assert (await fetch(client, avatar_path(writer)))[1] == picture()


async def test_another_user_can_see_someones_picture(client, writer, reader):
    await uploaded(await post_raw(client, avatar_path(writer), writer, picture()))
    assert (await fetch(client, avatar_path(writer), reader.headers))[1] == picture()


@pytest.mark.parametrize("method", ["GET", "POST", "DELETE"])
async def test_unknown_username_is_404(client, writer, method):
    response = await client.open(
        "/user/nobody/image/",
        method=method,
        headers={**writer.headers, "Content-Type": "image/png"},
        data=picture(),
    )
    await problem(response, 404, "not_found")


@pytest.mark.parametrize("method", ["GET", "POST", "DELETE"])
async def test_unknown_notebook_cover_is_404(client, writer, method):
    response = await client.open(
        "/notebooks/999999/image/",
        method=method,
        headers={**writer.headers, "Content-Type": "image/png"},
        data=picture(),
    )
    await problem(response, 404, "not_found")


async def test_owner_sees_the_cover_of_their_draft(client, writer):
    notebook = await create_notebook(client, writer)
    await uploaded(await post_raw(client, cover_path(notebook), writer, picture()))
    assert (await fetch(client, cover_path(notebook), writer.headers))[1] == picture()


@pytest.mark.parametrize("method", ["GET", "POST", "DELETE"])
async def test_cover_of_another_users_draft_is_404(client, app, settings, writer, reader, method):
    notebook = await create_notebook(client, writer)
    await uploaded(await post_raw(client, cover_path(notebook), writer, picture()))
    keys = await image_keys(app)
    response = await client.open(
        cover_path(notebook),
        method=method,
        headers={**reader.headers, "Content-Type": "image/png"},
        data=picture(),
    )
    await problem(response, 404, "not_found")
    assert await image_keys(app) == keys == stored_objects(settings)


async def test_cover_of_a_draft_is_404_without_a_token(client, writer):
    notebook = await create_notebook(client, writer)
    await uploaded(await post_raw(client, cover_path(notebook), writer, picture()))
    await problem(await client.get(cover_path(notebook)), 404, "not_found")


async def test_cover_of_a_published_notebook_is_visible_to_everyone(client, writer, reader):
    notebook = await create_notebook(client, writer)
    await uploaded(await post_raw(client, cover_path(notebook), writer, picture()))
    await publish_notebook(client, writer, notebook["notebook_id"])
    assert (await fetch(client, cover_path(notebook), reader.headers))[1] == picture()
    assert (await fetch(client, cover_path(notebook)))[1] == picture()


@pytest.mark.parametrize("method", ["POST", "DELETE"])
async def test_cover_of_another_users_published_notebook_is_403_to_change(
    client, app, settings, writer, reader, method
):
    notebook = await create_notebook(client, writer)
    await uploaded(await post_raw(client, cover_path(notebook), writer, picture()))
    await publish_notebook(client, writer, notebook["notebook_id"])
    keys = await image_keys(app)
    response = await client.open(
        cover_path(notebook),
        method=method,
        headers={**reader.headers, "Content-Type": "image/png"},
        data=picture("GIF"),
    )
    await problem(response, 403, "forbidden")
    assert await image_keys(app) == keys == stored_objects(settings)
    assert (await fetch(client, cover_path(notebook)))[1] == picture()


@pytest.mark.parametrize("method", ["POST", "DELETE"])
async def test_changing_an_image_without_a_token_is_401(client, app, settings, writer, slot, method):
    path, _ = slot
    response = await client.open(path, method=method, headers={"Content-Type": "image/png"}, data=picture())
    await problem(response, 401, "token_missing")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    await assert_nothing_left_behind(app, settings)


async def test_upload_through_another_spelling_of_the_username_links_the_real_one(client, writer):
    body = await uploaded(
        await post_raw(client, f"/user/{writer.username.upper()}/image/", writer, picture())
    )
    profile = await (await client.get(f"/user/{writer.username}")).get_json()
    assert body["image_url"] == profile["image_url"] == avatar_path(writer)


async def test_raw_body_without_an_image_content_type_is_415(client, writer):
    response = await post_raw(client, avatar_path(writer), writer, picture("PNG"), "application/octet-stream")
    await problem(response, 415, "unsupported_media_type")


async def test_head_answers_from_the_row_without_opening_the_object(app, client, writer, monkeypatch):
    await uploaded(await post_raw(client, avatar_path(writer), writer, picture("PNG")))
    store = app.extensions["sinpluma"].objects
    opened = []
    monkeypatch.setattr(store, "read", lambda key: opened.append(key))
    response = await client.head(avatar_path(writer))
    assert response.status_code == 200 and await response.get_data() == b""
    assert response.headers["Content-Type"] == "image/png" and response.headers["ETag"]
    assert opened == []
