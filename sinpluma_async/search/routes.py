from __future__ import annotations

from quart import Blueprint
from quart_schema import validate_querystring, validate_response

from sinpluma_async.pagination import Paginated, paginate
from sinpluma_async.ratelimits.http import rate_limit
from sinpluma_async.runtime import current_runtime
from sinpluma_async.search import service
from sinpluma_async.search.schemas import SearchHit, SearchQuery
from sinpluma_async.security.access import public

blueprint = Blueprint("search", __name__)


@blueprint.get("/search")
@rate_limit("search")
@public
@validate_querystring(SearchQuery)
@validate_response(Paginated[SearchHit])
async def search(query_args: SearchQuery) -> Paginated[SearchHit]:
    """Search published notebooks and pages; title matches rank above body-only matches."""
    found = await service.search(
        db=current_runtime().database, query=query_args.q, kind=query_args.kind, page=query_args
    )
    return paginate(found, query_args, "/search", {"q": query_args.q, "kind": query_args.kind})
