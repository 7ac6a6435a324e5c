"""Profile pictures and notebook covers: checked from their bytes, streamed to storage, kept consistent.

The object is stored before its row is written; if the row cannot be written the object is
removed; the replaced image's object is deleted only after the new row is committed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from sinpluma_async.db.engines import Database
from sinpluma_async.errors import (
    APIError,
    bad_request,
    forbidden,
    not_found,
    unauthorized,
    unsupported_media_type,
)
from sinpluma_async.images import inspection
from sinpluma_async.images.models import Image
from sinpluma_async.images.schemas import ImageMetadata
from sinpluma_async.notebooks.models import Notebook
from sinpluma_async.storage.objects import ObjectStore, discard_object, new_object_key
from sinpluma_async.users.models import User
from sinpluma_async.visibility import notebook_for_reading, notebook_for_writing

FIRST_LOOK_BYTES = 16 * 1024
# JPEG dimensions sit after any EXIF and ICC segments; give up on a header longer than this.
MAX_HEADER_BYTES = 512 * 1024

Owner = User | Notebook


@dataclass(frozen=True)
class ImageSlot:
    """Where an image hangs: a user's avatar or a notebook's cover."""

    attribute: str
    url: Callable[[Owner], str]
    for_reading: Callable[[AsyncSession], Awaitable[Owner]]
    for_writing: Callable[[AsyncSession], Awaitable[Owner]]


def avatar_slot(*, username: str, viewer_id: int | None) -> ImageSlot:
    async def load(session: AsyncSession, *, lock: bool) -> User:
        query = select(User).where(User.username == username)
        user = (await session.execute(query.with_for_update() if lock else query)).scalar_one_or_none()
        if user is None:
            raise not_found("No such user")
        return user

    async def for_writing(session: AsyncSession) -> User:
        user = await load(session, lock=True)
        if user.id != viewer_id:
            raise forbidden("Only that user may change their picture")
        return user

    async def for_reading(session: AsyncSession) -> User:
        return await load(session, lock=False)

    def url(user: Owner) -> str:
        # The stored spelling: the lookup ignores case, the profile's image_url does not.
        assert isinstance(user, User)
        return f"/user/{user.username}/image/"

    return ImageSlot("avatar_id", url, for_reading, for_writing)


def cover_slot(*, notebook_id: int, viewer_id: int | None) -> ImageSlot:
    async def for_writing(session: AsyncSession) -> Notebook:
        if viewer_id is None:
            raise unauthorized("token_missing", "This endpoint needs a bearer token")
        return await notebook_for_writing(session, notebook_id=notebook_id, viewer_id=viewer_id)

    async def for_reading(session: AsyncSession) -> Notebook:
        return await notebook_for_reading(session, notebook_id=notebook_id, viewer_id=viewer_id)

    return ImageSlot("cover_id", lambda _: f"/notebooks/{notebook_id}/image/", for_reading, for_writing)


@dataclass
class InspectedUpload:
    kind: inspection.ImageKind
    width: int
    height: int
    chunks: AsyncIterator[bytes]


def not_an_image() -> APIError:
    return unsupported_media_type("The body is not a JPEG, PNG, WebP or GIF image")


async def inspect_upload(chunks: AsyncIterator[bytes]) -> InspectedUpload:
    """Read just enough of the upload to know its format and size; the rest stays unread."""
    head = bytearray()
    kind: inspection.ImageKind | None = None
    size: tuple[int, int] | None = None
    next_look = FIRST_LOOK_BYTES
    exhausted = False
    while size is None and len(head) < MAX_HEADER_BYTES:
        chunk = await anext(chunks, None)
        exhausted = chunk is None
        if chunk is not None:
            head += chunk
        if kind is None and (len(head) >= inspection.SIGNATURE_BYTES or exhausted):
            kind = inspection.sniff(bytes(head[: inspection.SIGNATURE_BYTES]))
            if kind is None:
                raise bad_request("The image is empty") if not head else not_an_image()
        if kind is not None and (len(head) >= next_look or exhausted):
            size = inspection.dimensions(bytes(head), kind)
            next_look *= 2
        if exhausted:
            break
    if kind is None or size is None:
        raise not_an_image()
    width, height = size
    if width * height > inspection.MAX_PIXELS:
        raise bad_request(f"The image has {width}x{height} pixels; at most 40 megapixels are accepted")

    async def everything() -> AsyncIterator[bytes]:
        yield bytes(head)
        if not exhausted:
            async for chunk in chunks:
                yield chunk

    return InspectedUpload(kind, width, height, everything())


async def replace_image(
    *, db: Database, store: ObjectStore, slot: ImageSlot, chunks: AsyncIterator[bytes]
) -> ImageMetadata:
    """Store a new image for the slot and drop the one it replaces."""
    async with db.snapshot() as session:
        await slot.for_writing(session)  # refuse early, before reading the upload
    upload = await inspect_upload(chunks)
    stored = await store.put(new_object_key("images"), upload.chunks, upload.kind.content_type)
    try:
        async with db.transaction() as session:
            owner = await slot.for_writing(session)
            replaced = await _current_image(session, getattr(owner, slot.attribute))
            image = Image(
                object_key=stored.key,
                content_type=upload.kind.content_type,
                size=stored.size,
                width=upload.width,
                height=upload.height,
                etag=stored.etag,
            )
            session.add(image)
            await session.flush()
            setattr(owner, slot.attribute, image.id)
            if replaced is not None:
                await session.flush()
                await session.execute(delete(Image).where(Image.id == replaced.id))
    except BaseException:
        await discard_object(store, stored.key)
        raise
    if replaced is not None:
        await discard_object(store, replaced.object_key)
    return ImageMetadata(
        image_url=slot.url(owner),
        content_type=image.content_type,
        size=image.size,
        width=image.width,
        height=image.height,
    )


async def remove_image(*, db: Database, store: ObjectStore, slot: ImageSlot) -> None:
    """Remove the slot's image; 404 when it has none."""
    async with db.transaction() as session:
        owner = await slot.for_writing(session)
        image = await _current_image(session, getattr(owner, slot.attribute))
        if image is None:
            raise not_found("There is no image here")
        setattr(owner, slot.attribute, None)
        await session.flush()
        await session.execute(delete(Image).where(Image.id == image.id))
    await discard_object(store, image.object_key)


async def find_image(*, db: Database, slot: ImageSlot) -> Image:
    """The slot's image row, if the viewer may see its owner; 404 otherwise."""
    async with db.snapshot() as session:
        owner = await slot.for_reading(session)
        image = await _current_image(session, getattr(owner, slot.attribute))
    if image is None:
        raise not_found("There is no image here")
    return image


async def _current_image(session: AsyncSession, image_id: int | None) -> Image | None:
    return None if image_id is None else await session.get(Image, image_id)
