from __future__ import annotations

from collections.abc import AsyncIterator

from quart import Blueprint, Response, request
from quart_schema import validate_response

from sinpluma_async.errors import not_found
from sinpluma_async.idempotency.http import idempotent
from sinpluma_async.images import service
from sinpluma_async.images.schemas import ImageMetadata
from sinpluma_async.images.service import ImageSlot, avatar_slot, cover_slot
from sinpluma_async.images.uploads import upload_chunks
from sinpluma_async.openapi import binary_response, empty_response, image_upload, problems
from sinpluma_async.ratelimits.http import rate_limit
from sinpluma_async.runtime import current_runtime
from sinpluma_async.security.access import auth_optional, auth_required, current_identity, public, viewer_id
from sinpluma_async.storage.objects import ObjectMissingError

blueprint = Blueprint("images", __name__)
CACHE_CONTROL = "public, no-cache"


async def serve(slot: ImageSlot) -> Response:
    runtime = current_runtime()
    image = await service.find_image(db=runtime.database, slot=slot)
    headers = {"ETag": f'"{image.etag}"', "Cache-Control": CACHE_CONTROL}
    if request.if_none_match.contains_weak(image.etag):
        # A 304 describes the stored representation; without a type Quart would label it text/html.
        return Response(status=304, headers=headers, content_type=image.content_type)
    headers |= {"Content-Length": str(image.size), "Content-Disposition": "inline"}
    if request.method == "HEAD":
        # Answered from the row alone; the headers (Content-Length included) are those of a GET.
        response = Response(b"", status=200, content_type=image.content_type)
        response.headers.update(headers)
        return response
    chunks = runtime.objects.read(image.object_key)
    try:
        first = await anext(chunks, b"")
    except ObjectMissingError:
        raise not_found("There is no image here") from None

    async def body() -> AsyncIterator[bytes]:
        yield first
        async for chunk in chunks:
            yield chunk

    return Response(body(), status=200, content_type=image.content_type, headers=headers)


async def upload(slot: ImageSlot) -> tuple[ImageMetadata, int]:
    runtime = current_runtime()
    chunks = upload_chunks(request, runtime.settings.max_image_bytes)
    return await service.replace_image(
        db=runtime.database, store=runtime.objects, slot=slot, chunks=chunks
    ), 201


async def remove(slot: ImageSlot) -> tuple[str, int]:
    runtime = current_runtime()
    await service.remove_image(db=runtime.database, store=runtime.objects, slot=slot)
    return "", 204


@blueprint.get("/user/<username>/image/")
@problems(404)
@binary_response()
@rate_limit("read")
@public
async def get_user_image(username: str) -> Response:
    """A user's picture, with its stored type and ETag (304 on `If-None-Match`)."""
    return await serve(avatar_slot(username=username, viewer_id=None))


@blueprint.post("/user/<username>/image/")
@problems(403, 404)
@image_upload
@rate_limit("upload")
@auth_required
@idempotent
@validate_response(ImageMetadata, 201)
async def upload_user_image(username: str) -> tuple[ImageMetadata, int]:
    """Set the caller's picture: JPEG, PNG, WebP or GIF, as multipart field `image` or a raw body."""
    return await upload(avatar_slot(username=username, viewer_id=current_identity().user_id))


@blueprint.delete("/user/<username>/image/")
@problems(403, 404)
@empty_response(204)
@rate_limit("write")
@auth_required
async def delete_user_image(username: str) -> tuple[str, int]:
    """Remove the caller's picture."""
    return await remove(avatar_slot(username=username, viewer_id=current_identity().user_id))


@blueprint.get("/notebooks/<id:notebook_id>/image/")
@problems(404)
@binary_response()
@rate_limit("read")
@auth_optional
async def get_cover(notebook_id: int) -> Response:
    """A notebook's cover, visible to whoever can see the notebook."""
    return await serve(cover_slot(notebook_id=notebook_id, viewer_id=viewer_id()))


@blueprint.post("/notebooks/<id:notebook_id>/image/")
@problems(403, 404)
@image_upload
@rate_limit("upload")
@auth_required
@idempotent
@validate_response(ImageMetadata, 201)
async def upload_cover(notebook_id: int) -> tuple[ImageMetadata, int]:
    """Set the cover of the caller's notebook."""
    return await upload(cover_slot(notebook_id=notebook_id, viewer_id=current_identity().user_id))


@blueprint.delete("/notebooks/<id:notebook_id>/image/")
@problems(403, 404)
@empty_response(204)
@rate_limit("write")
@auth_required
async def delete_cover(notebook_id: int) -> tuple[str, int]:
    """Remove the cover of the caller's notebook."""
    return await remove(cover_slot(notebook_id=notebook_id, viewer_id=current_identity().user_id))
