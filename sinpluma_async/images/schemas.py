from __future__ import annotations

from pydantic import BaseModel


class ImageMetadata(BaseModel):
    """The stored image: where to fetch it, its type (decided from its bytes) and its size."""

    image_url: str
    content_type: str
    size: int
    width: int
    height: int
