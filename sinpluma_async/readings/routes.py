from __future__ import annotations

from quart import Blueprint, request
from quart_schema import (
    RequestSchemaValidationError,
    validate_querystring,
    validate_request,
    validate_response,
)
from quart_schema.conversion import model_load

from sinpluma_async.errors import invalid
from sinpluma_async.idempotency.http import idempotent
from sinpluma_async.openapi import empty_response, problems
from sinpluma_async.pagination import PageQuery, Paginated, paginate
from sinpluma_async.ratelimits.http import rate_limit
from sinpluma_async.readings import service
from sinpluma_async.readings.schemas import Following, ReadingCreate, ReadingQuery, ReadingRead, ReadingRemove
from sinpluma_async.runtime import current_runtime
from sinpluma_async.security.access import auth_required, current_identity

blueprint = Blueprint("readings", __name__, url_prefix="/readings")


@blueprint.get("/")
@rate_limit("read")
@auth_required
@validate_querystring(PageQuery)
@validate_response(Paginated[ReadingRead])
async def list_readings(query_args: PageQuery) -> Paginated[ReadingRead]:
    """The notebooks the caller follows, newest follow first."""
    found = await service.list_readings(
        db=current_runtime().database, reader_id=current_identity().user_id, page=query_args
    )
    return paginate(found, query_args, "/readings/", {})


@blueprint.post("/")
@problems(404, 409)
@rate_limit("write")
@auth_required
@validate_request(ReadingCreate)
@idempotent
@validate_response(Following, 201)
async def follow(data: ReadingCreate) -> tuple[Following, int]:
    """Follow a notebook."""
    following = await service.follow(
        db=current_runtime().database, reader_id=current_identity().user_id, notebook_id=data.notebook_id
    )
    return following, 201


@blueprint.delete("/")
@problems(400, 404)
@empty_response(204)
@rate_limit("write")
@auth_required
@validate_querystring(ReadingQuery)
async def unfollow(query_args: ReadingQuery) -> tuple[str, int]:
    """Stop following a notebook, named by `notebook_id` in the query (or in a JSON body)."""
    notebook_id = query_args.notebook_id
    if notebook_id is None and await request.get_data():
        body = model_load(await request.get_json(), ReadingRemove, RequestSchemaValidationError)
        notebook_id = body.notebook_id
    if notebook_id is None:
        raise invalid(["notebook_id"], "name the notebook to stop following", location="query")
    await service.unfollow(
        db=current_runtime().database, reader_id=current_identity().user_id, notebook_id=notebook_id
    )
    return "", 204
