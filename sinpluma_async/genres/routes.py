from __future__ import annotations

from quart import Blueprint, Response, request
from quart_schema import validate_response

from sinpluma_async.genres.schemas import GenreList
from sinpluma_async.openapi import empty_response
from sinpluma_async.ratelimits.http import rate_limit
from sinpluma_async.runtime import current_runtime
from sinpluma_async.security.access import public

blueprint = Blueprint("genres", __name__, url_prefix="/genres")
CACHE_CONTROL = "public, max-age=300"


@blueprint.get("/")
@empty_response(304)
@rate_limit("read")
@public
@validate_response(GenreList)
async def list_genres() -> GenreList | Response | tuple[GenreList, int, dict[str, str]]:
    """Every genre; cacheable, and 304 when `If-None-Match` matches the ETag."""
    runtime = current_runtime()
    genres = await runtime.genres.load(runtime.database)
    etag = runtime.genres.etag
    headers = {"ETag": f'"{etag}"', "Cache-Control": CACHE_CONTROL}
    # If-None-Match compares weakly (RFC 9110 13.1.2): W/"x" matches "x", and * matches.
    if request.if_none_match.contains_weak(etag):
        return Response(status=304, headers=headers)
    return genres, 200, headers
