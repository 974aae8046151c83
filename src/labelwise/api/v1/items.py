"""Item import, listing and export."""

from __future__ import annotations

import tempfile
from typing import IO

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from labelwise.api.deps import ActorDep, DbDep, SettingsDep
from labelwise.api.item_filter import ItemFilterDep
from labelwise.api.v1.downloads import download
from labelwise.api.v1.paging import CursorQuery, after_key
from labelwise.api.v1.schemas import ImportOut, ItemOut, ItemPage
from labelwise.errors import TooLarge, UnsupportedMediaType
from labelwise.formats import FORMATS, Format, ParsedRow, get_format
from labelwise.policies import Action, authorize, field_view
from labelwise.services import exports, imports, item_browser, priorities, projects

router = APIRouter(tags=["items"])

SPOOL_IN_MEMORY = 8 * 1024 * 1024
_BODY_FORMATS = {"application/json": "json", "application/x-ndjson": "jsonl"}


@router.post(
    "/projects/{slug}/items",
    response_model=ImportOut,
    responses={413: {"description": "body over the size limit"}, 422: {"description": "bad row"}},
)
async def import_items(
    slug: str,
    request: Request,
    db: DbDep,
    actor: ActorDep,
    settings: SettingsDep,
    skip_invalid: bool = Query(False, description="Import the valid rows; report the others."),
) -> ImportOut:
    """Import a JSON list of items, or NDJSON (`Content-Type: application/x-ndjson`)."""
    project, role = await run_in_threadpool(projects.access, db, slug, actor)
    authorize(actor, Action.IMPORT_ITEMS, role)
    fmt = body_format(request)
    assert fmt.read is not None
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY) as body:
        await receive(request, body, settings.max_upload_bytes)
        body.seek(0)
        summary = await run_in_threadpool(
            imports.import_items,
            db,
            project.id,
            projects.spec_of(project),
            fmt.read(body),
            source="request body",
            skip_invalid=skip_invalid,
            pii_key=settings.load_pii_key,
            actor_id=actor.user_id,
        )
    return ImportOut(**summary.as_dict())


def body_format(request: Request) -> Format:
    """The format of a body of rows: a JSON list, or NDJSON."""
    media_type = request.headers.get("content-type", "application/json").split(";")[0].strip()
    if media_type not in _BODY_FORMATS:
        raise UnsupportedMediaType(
            f"Content-Type {media_type!r} is not supported; send application/json (a list) "
            "or application/x-ndjson"
        )
    return FORMATS[_BODY_FORMATS[media_type]]


async def receive(request: Request, sink: IO[bytes], limit: int) -> None:
    """Stream the body to `sink`, refusing it as soon as it passes `limit` bytes."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise TooLarge(f"request body is {int(declared)} bytes; the limit is {limit} bytes")
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise TooLarge(f"request body is over the limit of {limit} bytes")
        sink.write(chunk)


class PriorityIn(BaseModel):
    id: str | int = Field(description="The item's external id.")
    priority: float = Field(allow_inf_nan=False, description="Higher is served first; 0 at import.")


@router.put(
    "/projects/{slug}/priorities",
    response_model=priorities.PrioritiesSet,
    responses={422: {"description": "a bad element; no priority was changed"}},
)
def set_priorities(
    slug: str, rows: list[PriorityIn], db: DbDep, actor: ActorDep
) -> priorities.PrioritiesSet:
    """Set many items' priorities at once, by external id; all or nothing."""
    project, role = projects.access(db, slug, actor)
    authorize(actor, Action.SET_PRIORITIES, role)
    parsed = (ParsedRow(n, row.model_dump()) for n, row in enumerate(rows, start=1))
    return priorities.set_priorities(
        db,
        project.id,
        parsed,
        source="request body",
        position_name="element",
        actor_id=actor.user_id,
    )


@router.get(
    "/projects/{slug}/items",
    response_model=ItemPage,
    responses={422: {"description": "a filter that names nothing in the project"}},
)
def list_items(
    slug: str,
    db: DbDep,
    actor: ActorDep,
    wanted: ItemFilterDep,
    cursor: CursorQuery = None,
    limit: int = Query(100, ge=1, le=1000),
) -> ItemPage:
    """The project's items in import order, filtered. A filtered page examines a bounded
    window of items, so it may hold fewer than `limit` and still have a `next_cursor`."""
    project, role = projects.access(db, slug, actor)
    authorize(actor, Action.LIST_ITEMS, role)
    spec = projects.spec_of(project)
    view = field_view(actor, role, spec)
    page = item_browser.browse(
        db, project.id, spec, wanted, view=view, after=after_key(cursor), limit=limit
    )
    return ItemPage(
        items=[
            ItemOut(
                id=i.id,
                external_id=i.external_id,
                status=i.status,
                data=i.data,
                created_at=i.created_at,
                pii=i.pii,
            )
            for i in page.items
        ],
        next_cursor=None if page.next_after is None else str(page.next_after),
    )


@router.get(
    "/projects/{slug}/export",
    response_class=StreamingResponse,
    responses={200: {"description": "the items with their annotations, streamed"}},
)
def export(
    slug: str,
    db: DbDep,
    actor: ActorDep,
    format: str = Query("jsonl", description="jsonl, csv or parquet"),
    consensus: str | None = Query(
        None, description="Add each item's consensus answers: majority, dawid-skene or weighted."
    ),
    soft: bool = Query(False, description="With consensus: every label's probability too."),
) -> StreamingResponse:
    project, role = projects.access(db, slug, actor)
    authorize(actor, Action.EXPORT, role)
    fmt = get_format(format, for_export=True)
    spec = projects.spec_of(project)
    view = field_view(actor, role, spec)
    fields = [f.name for f in view.fields(spec.fields)]
    chunks = exports.export(
        db, project, fields, fmt, view=view, consensus_method=consensus, soft=soft
    )
    return download(chunks, fmt, project.slug)
