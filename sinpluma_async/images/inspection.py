"""What an upload is, decided from its bytes: the format by signature, the size from its header."""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass

from PIL import GifImagePlugin, ImageFile, JpegImagePlugin, PngImagePlugin

MAX_PIXELS = 40_000_000
SIGNATURE_BYTES = 12


@dataclass(frozen=True, slots=True)
class ImageKind:
    content_type: str
    pillow_format: str


JPEG = ImageKind("image/jpeg", "JPEG")
PNG = ImageKind("image/png", "PNG")
GIF = ImageKind("image/gif", "GIF")
WEBP = ImageKind("image/webp", "WEBP")


def sniff(head: bytes) -> ImageKind | None:
    """The image format the first bytes announce, or None for anything else."""
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return GIF
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    return None


def dimensions(head: bytes, kind: ImageKind) -> tuple[int, int] | None:
    """Width and height read from the header alone (nothing is decoded), or None if the head
    does not reach them yet or they are not of the announced format.

    Pillow's `Image.open` is not used: it refuses images past its own decompression-bomb limit
    (about 179 megapixels) before the size can be judged here, and for WebP it builds a decoder
    that needs the whole file and allocates the whole canvas. The WebP header is read by hand;
    the other formats by Pillow's format class alone, which only parses the header.
    """
    if kind is WEBP:
        size = _webp_dimensions(head)
    else:
        try:
            with _HEADER_READERS[kind.pillow_format](io.BytesIO(head)) as image:
                size = image.size
        except (SyntaxError, OSError, ValueError, EOFError):
            return None
    if size is None or size[0] <= 0 or size[1] <= 0:
        return None
    return size


_HEADER_READERS: dict[str, type[ImageFile.ImageFile]] = {
    "JPEG": JpegImagePlugin.JpegImageFile,
    "PNG": PngImagePlugin.PngImageFile,
    "GIF": GifImagePlugin.GifImageFile,
}


def _webp_dimensions(head: bytes) -> tuple[int, int] | None:
    """The canvas size from the first chunk of a RIFF/WebP file (RFC 9649): VP8, VP8L or VP8X."""
    chunk = head[12:16]
    if chunk == b"VP8 " and len(head) >= 30:
        if head[23:26] != b"\x9d\x01\x2a":
            return None
        width, height = struct.unpack_from("<HH", head, 26)
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L" and len(head) >= 25:
        if head[20] != 0x2F:
            return None
        (bits,) = struct.unpack_from("<I", head, 21)
        if bits >> 29:  # the version must be 0
            return None
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X" and len(head) >= 30:
        width = int.from_bytes(head[24:27], "little") + 1
        height = int.from_bytes(head[27:30], "little") + 1
        return width, height
    return None
