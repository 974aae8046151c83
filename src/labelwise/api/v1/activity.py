"""A project's activity log and one target's history, read from the audit trail."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from labelwise.api.deps import ActorDep, DbDep
from labelwise.api.v1.paging import CursorQuery, after_key
from labelwise.policies import Action, FieldView, authorize, field_view
from labelwise.services import audit, projects

router = APIRouter(tags=["activity"])


# audit.Event as the API shows it: usernames, not the internal user and project ids.
class EventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    seq: int = Field(description="Position in the project's hash chain, from 1.")
    actor: str | None = Field(description="Username; null for the CLI or the system.")
    action: str = Field(description='What happened, e.g. "annotation.revised".')
    target_type: str
    target_id: str | None
    before: Any
    after: Any
    created_at: datetime
    hash: str = Field(description="This event's link in the chain (`labelwise audit verify`).")


class ActivityPage(BaseModel):
    events: list[EventOut] = Field(description="Newest first.")
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next (older) page; null at the end."
    )


@router.get("/projects/{slug}/activity", response_model=ActivityPage)
def activity(
    slug: str,
    db: DbDep,
    actor: ActorDep,
    cursor: CursorQuery = None,
    limit: int = Query(50, ge=1, le=500),
) -> ActivityPage:
    """The project's events, newest first, a keyset page at a time."""
    project, role = projects.access(db, slug, actor)
    authorize(actor, Action.VIEW_ACTIVITY, role)
    view = field_view(actor, role, projects.spec_of(project))
    events = audit.events(db, project.id, after=after_key(cursor), limit=limit)
    last = events[-1].seq if len(events) == limit else None
    # seq 1 is the oldest event: a page ending there has nothing after it.
    next_cursor = str(last) if last is not None and last > 1 else None
    return ActivityPage(
        events=[EventOut.model_validate(_shown(e, view)) for e in events],
        next_cursor=next_cursor,
    )


@router.get("/projects/{slug}/history/{target_type}/{target_id}", response_model=list[EventOut])
def history(
    slug: str, target_type: str, target_id: str, db: DbDep, actor: ActorDep
) -> list[audit.Event]:
    """Every event about one target (an annotation's whole history, say), oldest first."""
    project, role = projects.access(db, slug, actor)
    authorize(actor, Action.VIEW_ACTIVITY, role)
    view = field_view(actor, role, projects.spec_of(project))
    return [_shown(e, view) for e in audit.history(db, project.id, target_type, target_id)]


_SPEC_EVENTS = {"project.created", "project.spec_changed"}


def _shown(event: audit.Event, view: FieldView) -> audit.Event:
    """A spec change as the reader gets specs: without the fields hidden from them. The
    event's hash is of what was recorded; `labelwise audit verify` checks it on the server."""
    if event.action not in _SPEC_EVENTS or not (view.hidden or view.role):
        return event
    before, after = (
        view.spec(spec) if isinstance(spec, dict) and "fields" in spec else spec
        for spec in (event.before, event.after)
    )
    return dataclasses.replace(event, before=before, after=after)
