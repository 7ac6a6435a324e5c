"""What an upload is, decided from its bytes: the format by signature, the size by Pillow."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

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
    does not reach them yet or they are not of the announced format."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(head), formats=[kind.pillow_format]) as image:
                width, height = image.size
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError, EOFError):
        return None
    if width <= 0 or height <= 0:
        return None
    return width, height
