"""Hard delete (GDPR erasure): of an item, by a project's owner; of a person, by an admin."""

from __future__ import annotations

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from labelwise.api.deps import ActorDep, DbDep
from labelwise.errors import InvalidInput
from labelwise.policies import Action, authorize, authorize_admin
from labelwise.services import erasure, projects

router = APIRouter(tags=["erasure"])

HardQuery = Query(
    False, description="Must be true: the data is deleted for good (there is no soft delete)."
)


class ErasureOut(BaseModel):
    erased: str = Field(description='What was erased: "item t-1", "person erased-3".')
    counts: dict[str, int] = Field(description="Rows deleted, by kind.")
    redacted_events: int = Field(description="Audit events whose content was erased.")
    releases: int = Field(description="Releases whose stored rows changed.")


@router.delete("/projects/{slug}/items/{item_id}", response_model=ErasureOut)
def erase_item(
    slug: str, item_id: int, db: DbDep, actor: ActorDep, hard: bool = HardQuery
) -> ErasureOut:
    """Erase the item (database id, as the other item paths) and everything holding its
    content; its audit events keep only digests, and one event records the erasure."""
    _, role = projects.access(db, slug, actor)
    authorize(actor, Action.ERASE_ITEMS, role)
    _refuse_soft(hard)
    return _out(erasure.erase_item_by_id(db, slug, item_id, actor.user_id))


@router.delete("/users/{username}", response_model=ErasureOut)
def erase_person(username: str, db: DbDep, actor: ActorDep, hard: bool = HardQuery) -> ErasureOut:
    """Erase a person's data: annotations, comments, tokens, sessions; the account becomes
    a pseudonym that cannot log in."""
    authorize_admin(actor, "erase a person's data")
    _refuse_soft(hard)
    if username == actor.username:
        raise InvalidInput("username: you cannot erase yourself; ask another admin")
    return _out(erasure.erase_person(db, username, actor.user_id))


def _refuse_soft(hard: bool) -> None:
    if not hard:
        raise InvalidInput("hard: add ?hard=true; a delete here erases the data for good")


def _out(done: erasure.Erasure) -> ErasureOut:
    return ErasureOut(
        erased=done.erased,
        counts=done.counts,
        redacted_events=done.redacted_events,
        releases=done.releases,
    )
