"""Image uploads with an Idempotency-Key: fingerprinted as they stream, replayed without a second object."""

from __future__ import annotations

import dataclasses

import pytest

from sinpluma_async import create_app
from tests.idempotency.support import REPLAYED, keyed
from tests.images.support import (
    assert_consistent,
    avatar_path,
    cover_path,
    image_keys,
    multipart,
    padded,
    picture,
    stored_objects,
)
from tests.support import create_notebook, make_account, problem


async def upload(client, account, path, data, key, content_type="image/png"):
    headers = {**keyed(account, key), "Content-Type": content_type}
    return await client.post(path, headers=headers, data=data)


async def upload_in_pieces(client, account, path, data, key, piece=4096):
    """The same bytes handed to the app in pieces, without a Content-Length (a chunked body)."""
    headers = {**keyed(account, key), "Content-Type": "image/png"}
    async with client.request(path, method="POST", headers=headers) as connection:
        for start in range(0, len(data), piece):
            await connection.send(data[start : start + piece])
        await connection.send_complete()
    return await connection.as_response()


async def test_repeated_upload_is_replayed_without_a_second_object(client, app, settings, writer):
    image = padded(64 * 1024)
    first = await upload(client, writer, avatar_path(writer), image, "img")
    assert first.status_code == 201
    again = await upload(client, writer, avatar_path(writer), image, "img")
    assert again.status_code == 201 and again.headers[REPLAYED] == "true"
    assert await again.get_json() == await first.get_json()
    assert len(await image_keys(app)) == 1 and len(stored_objects(settings)) == 1
    await assert_consistent(app, settings)


async def test_repeated_multipart_upload_is_replayed(client, app, settings, writer):
    notebook = await create_notebook(client, writer)
    body, headers = multipart(picture())
    for replayed in (False, True):
        response = await client.post(
            cover_path(notebook), headers={**keyed(writer, "c"), **headers}, data=body
        )
        assert response.status_code == 201 and (REPLAYED in response.headers) == replayed
    assert len(stored_objects(settings)) == 1
    await assert_consistent(app, settings)


async def post_in_pieces(client, account, path, body, headers, key, piece):
    async with client.request(path, method="POST", headers={**keyed(account, key), **headers}) as connection:
        for start in range(0, len(body), piece):
            await connection.send(body[start : start + piece])
        await connection.send_complete()
    return await connection.as_response()


@pytest.mark.parametrize("piece", [7, 4096])
async def test_a_form_rebuilt_with_a_new_boundary_is_the_same_request(client, app, settings, writer, piece):
    # Browsers pick a new boundary each time they build a form: a retry is the same form.
    notebook = await create_notebook(client, writer)
    body, headers = multipart(picture(), boundary="----WebKitFormBoundaryAAAAAAAAAAAAAAAA")
    first = await client.post(cover_path(notebook), headers={**keyed(writer, "c"), **headers}, data=body)
    assert first.status_code == 201
    body, headers = multipart(picture(), boundary="----WebKitFormBoundaryZZZZZZZZZZZZZZZZ")
    again = await post_in_pieces(client, writer, cover_path(notebook), body, headers, "c", piece)
    assert again.status_code == 201 and again.headers[REPLAYED] == "true"
    assert await again.get_json() == await first.get_json()
    other, headers = multipart(padded(8000), boundary="----WebKitFormBoundaryQQQQQQQQQQQQQQQQ")
    refused = await post_in_pieces(client, writer, cover_path(notebook), other, headers, "c", piece)
    await problem(refused, 422, "idempotency_key_reused")
    assert len(stored_objects(settings)) == 1
    await assert_consistent(app, settings)


async def test_the_fingerprint_does_not_depend_on_how_the_body_arrives(client, app, settings, writer):
    image = padded(100 * 1024)
    assert (await upload(client, writer, avatar_path(writer), image, "img")).status_code == 201
    again = await upload_in_pieces(client, writer, avatar_path(writer), image, "img")
    assert again.status_code == 201 and again.headers[REPLAYED] == "true"
    assert len(stored_objects(settings)) == 1


async def test_another_image_with_the_same_key_is_422(client, app, settings, writer):
    assert (await upload(client, writer, avatar_path(writer), padded(8000), "img")).status_code == 201
    other = await upload_in_pieces(client, writer, avatar_path(writer), padded(8000, (1, 2, 3)), "img")
    await problem(other, 422, "idempotency_key_reused")
    assert len(stored_objects(settings)) == 1
    await assert_consistent(app, settings)


async def test_the_same_image_on_another_slot_is_422(client, app, settings, writer):
    notebook = await create_notebook(client, writer)
    image = picture()
    assert (await upload(client, writer, avatar_path(writer), image, "img")).status_code == 201
    await problem(
        await upload(client, writer, cover_path(notebook), image, "img"), 422, "idempotency_key_reused"
    )
    assert len(stored_objects(settings)) == 1


async def test_a_refusal_before_the_body_is_read_is_replayed(client, writer, reader):
    image = padded(32 * 1024)
    await problem(await upload(client, reader, avatar_path(writer), image, "img"), 403, "forbidden")
    replay = await upload(client, reader, avatar_path(writer), image, "img")
    await problem(replay, 403, "forbidden")
    assert replay.headers[REPLAYED] == "true"


async def test_a_413_is_not_stored(settings):
    app = create_app(dataclasses.replace(settings, max_image_bytes=16 * 1024))
    async with app.test_app():
        client = app.test_client()
        account = await make_account(client, "writer")
        too_large = padded(16 * 1024 + 1)
        await problem(
            await upload(client, account, avatar_path(account), too_large, "img"), 413, "payload_too_large"
        )
        retry = await upload(client, account, avatar_path(account), padded(16 * 1024), "img")
        assert retry.status_code == 201 and REPLAYED not in retry.headers


@pytest.mark.parametrize("content_type", ["text/plain", "image/svg+xml"])
async def test_an_upload_that_is_not_an_image_is_replayed(client, writer, content_type):
    body = b"<svg xmlns='http://www.w3.org/2000/svg'/>" * 100
    await problem(
        await upload(client, writer, avatar_path(writer), body, "x", content_type),
        415,
        "unsupported_media_type",
    )
    replay = await upload(client, writer, avatar_path(writer), body, "x", content_type)
    await problem(replay, 415, "unsupported_media_type")
    assert replay.headers[REPLAYED] == "true"
