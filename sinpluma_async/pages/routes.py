from __future__ import annotations

from quart import Blueprint, Response, request
from quart_schema import document_response, validate_querystring, validate_request, validate_response

from sinpluma_async.conditional import conditional_json
from sinpluma_async.errors import invalid
from sinpluma_async.idempotency.http import idempotent
from sinpluma_async.openapi import empty_response, problems
from sinpluma_async.pages import reading, saves, service
from sinpluma_async.pages.schemas import (
    PageCreate,
    PageEditor,
    PageListQuery,
    PageModeQuery,
    PageSaved,
    PageSummary,
    PageUpdate,
    PageView,
)
from sinpluma_async.pagination import Paginated, paginate
from sinpluma_async.ratelimits.http import generations_read, rate_limit
from sinpluma_async.runtime import current_runtime
from sinpluma_async.security.access import auth_optional, auth_required, current_identity, viewer_id

blueprint = Blueprint("pages", __name__, url_prefix="/pages")


def etag(version: int) -> dict[str, str]:
    return {"ETag": f'"{version}"'}


def if_match_version() -> int | None:
    """The version named by `If-Match: "<version>"`, None without the header or with `*`."""
    header = request.headers.get("If-Match")
    if header is None or header.strip() == "*":
        return None
    tag = header.strip().removeprefix("W/").strip('"')
    if not tag.isdigit():
        raise invalid(["If-Match"], 'must be "<version>"', location="header")
    return int(tag)


@blueprint.get("/")
@problems(404)
@rate_limit("read")
@auth_optional
@validate_querystring(PageListQuery)
@validate_response(Paginated[PageSummary])
async def list_pages(query_args: PageListQuery) -> Paginated[PageSummary]:
    """A notebook's pages by position, as visible as the notebook itself."""
    found = await service.list_pages(
        db=current_runtime().database,
        viewer_id=viewer_id(),
        notebook_id=query_args.notebook_id,
        page=query_args,
    )
    return paginate(found, query_args, "/pages/", {"notebook_id": query_args.notebook_id})


@blueprint.post("/")
@problems(403, 404)
@rate_limit("write")
@auth_required
@validate_request(PageCreate)
@idempotent
@validate_response(PageEditor, 201)
async def create_page(data: PageCreate) -> tuple[PageEditor, int, dict[str, str]]:
    """Append a page to the caller's notebook."""
    page = await service.create_page(
        db=current_runtime().database,
        viewer_id=current_identity().user_id,
        notebook_id=data.notebook_id,
        title=data.title,
        content=data.content,
    )
    return page, 201, {"Location": f"/pages/{page.page_id}", **etag(page.version)}


def reader_generation_keys() -> list[str]:
    """A reader-mode read asks the call's round trip for the generation of its copy's notebook."""
    if request.args.get("mode", "reader") != "reader" or request.view_args is None:
        return []
    return current_runtime().reader_copies.keys_to_read(request.view_args["page_id"])


@blueprint.get("/<id:page_id>")
@problems(403, 404)
@empty_response(304)
@rate_limit("read", generations=reader_generation_keys)
@auth_optional
@validate_querystring(PageModeQuery)
@document_response(PageView)
async def get_page(page_id: int, query_args: PageModeQuery) -> Response:
    """A page: the published copy (`mode=reader`), or the author's draft (`mode=editor`).

    Reader mode of a published notebook's page is conditional: an `ETag`, and 304 when
    `If-None-Match` matches it.
    """
    viewer, runtime = viewer_id(), current_runtime()
    if query_args.mode == "editor":
        draft = await reading.read_draft(db=runtime.database, viewer_id=viewer, page_id=page_id)
        return Response(draft.json, status=200, headers=etag(draft.version), content_type="application/json")
    page = await reading.read_published_page(
        db=runtime.database,
        copies=runtime.reader_copies,
        read=generations_read(),
        viewer_id=viewer,
        page_id=page_id,
    )
    if not page.shared:  # the author's preview of a page whose notebook is still a draft
        return Response(page.json, status=200, content_type="application/json")
    return conditional_json(page.json, page.etag, shared=viewer is None)


@blueprint.put("/<id:page_id>")
@problems(403, 404, 412)
@rate_limit("write")
@auth_required
@validate_request(PageUpdate)
@validate_response(PageSaved)
async def save_page(page_id: int, data: PageUpdate) -> tuple[PageSaved, int, dict[str, str]]:
    """Save title, content or position; `base_version` or `If-Match` make the save conditional."""
    runtime = current_runtime()
    saved = await saves.save_page(
        db=runtime.database,
        announcer=runtime.announcer,
        copies=runtime.reader_copies,
        viewer_id=current_identity().user_id,
        page_id=page_id,
        title=data.title,
        content=data.content,
        position=data.position,
        base_version=data.base_version if data.base_version is not None else if_match_version(),
    )
    return saved, 200, etag(saved.version)


@blueprint.post("/<id:page_id>/publish")
@problems(403, 404)
@rate_limit("write")
@auth_required
@idempotent
@validate_response(PageEditor)
async def publish_page(page_id: int) -> tuple[PageEditor, int, dict[str, str]]:
    """Publish the current draft title and content for readers."""
    runtime = current_runtime()
    page = await service.set_published(
        db=runtime.database,
        copies=runtime.reader_copies,
        viewer_id=current_identity().user_id,
        page_id=page_id,
        published=True,
    )
    return page, 200, etag(page.version)


@blueprint.delete("/<id:page_id>/publish")
@problems(403, 404)
@empty_response(204)
@rate_limit("write")
@auth_required
async def unpublish_page(page_id: int) -> tuple[str, int]:
    """Withdraw the page from readers."""
    runtime = current_runtime()
    await service.set_published(
        db=runtime.database,
        copies=runtime.reader_copies,
        viewer_id=current_identity().user_id,
        page_id=page_id,
        published=False,
    )
    return "", 204


@blueprint.delete("/<id:page_id>")
@problems(403, 404)
@empty_response(204)
@rate_limit("write")
@auth_required
async def delete_page(page_id: int) -> tuple[str, int]:
    """Delete the page; later pages move up one position."""
    runtime = current_runtime()
    await service.delete_page(
        db=runtime.database,
        copies=runtime.reader_copies,
        viewer_id=current_identity().user_id,
        page_id=page_id,
    )
    return "", 204
