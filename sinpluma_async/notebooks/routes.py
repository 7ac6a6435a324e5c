from __future__ import annotations

from quart import Blueprint, Response
from quart_schema import document_response, validate_querystring, validate_request, validate_response

from sinpluma_async.conditional import body_etag, conditional_json
from sinpluma_async.idempotency.http import idempotent
from sinpluma_async.notebooks import service
from sinpluma_async.notebooks.schemas import (
    NotebookCreate,
    NotebookDetail,
    NotebookQuery,
    NotebookRead,
    NotebookUpdate,
)
from sinpluma_async.openapi import empty_response, problems
from sinpluma_async.pagination import Paginated, paginate
from sinpluma_async.ratelimits.http import rate_limit
from sinpluma_async.runtime import current_runtime
from sinpluma_async.security.access import auth_optional, auth_required, current_identity, viewer_id

blueprint = Blueprint("notebooks", __name__, url_prefix="/notebooks")


@blueprint.get("/")
@problems(401)
@rate_limit("read")
@auth_optional
@validate_querystring(NotebookQuery)
@validate_response(Paginated[NotebookRead])
async def list_notebooks(query_args: NotebookQuery) -> Paginated[NotebookRead]:
    """Notebooks, newest `updated_at` first.

    `scope=mine` (the default with a token) lists the caller's own; `public` lists published ones.
    """
    found = await service.list_notebooks(
        db=current_runtime().database,
        viewer_id=viewer_id(),
        scope=query_args.scope,
        genre_id=query_args.genre_id,
        author=query_args.author,
        page=query_args,
    )
    filters = {"scope": query_args.scope, "genre_id": query_args.genre_id, "author": query_args.author}
    return paginate(found, query_args, "/notebooks/", filters)


@blueprint.post("/")
@rate_limit("write")
@auth_required
@validate_request(NotebookCreate)
@idempotent
@validate_response(NotebookRead, 201)
async def create_notebook(data: NotebookCreate) -> tuple[NotebookRead, int, dict[str, str]]:
    """Start a draft notebook; the author is the caller."""
    runtime = current_runtime()
    notebook = await service.create_notebook(
        db=runtime.database, genres=runtime.genres, author_id=current_identity().user_id, notebook_create=data
    )
    return notebook, 201, {"Location": f"/notebooks/{notebook.notebook_id}"}


@blueprint.get("/<id:notebook_id>")
@problems(404)
@empty_response(304)
@rate_limit("read")
@auth_optional
@document_response(NotebookDetail)
async def get_notebook(notebook_id: int) -> Response:
    """A notebook with its pages; others see only published notebooks and published pages.

    Conditional: an `ETag`, and 304 when `If-None-Match` matches it.
    """
    viewer = viewer_id()
    notebook = await service.get_notebook(
        db=current_runtime().database, viewer_id=viewer, notebook_id=notebook_id
    )
    body = notebook.model_dump_json().encode()
    return conditional_json(body, body_etag(body), shared=viewer is None)


@blueprint.put("/<id:notebook_id>")
@problems(403, 404)
@rate_limit("write")
@auth_required
@validate_request(NotebookUpdate)
@validate_response(NotebookRead)
async def update_notebook(notebook_id: int, data: NotebookUpdate) -> NotebookRead:
    """Change any of title, genre, resume and status of the caller's notebook."""
    runtime = current_runtime()
    return await service.update_notebook(
        db=runtime.database,
        genres=runtime.genres,
        copies=runtime.reader_copies,
        viewer_id=current_identity().user_id,
        notebook_id=notebook_id,
        changes=data,
    )


@blueprint.delete("/<id:notebook_id>")
@problems(403, 404)
@empty_response(204)
@rate_limit("write")
@auth_required
async def delete_notebook(notebook_id: int) -> tuple[str, int]:
    """Delete the caller's notebook with its pages, readings and cover."""
    runtime = current_runtime()
    await service.delete_notebook(
        db=runtime.database,
        store=runtime.objects,
        copies=runtime.reader_copies,
        viewer_id=current_identity().user_id,
        notebook_id=notebook_id,
    )
    return "", 204
