"""Automated checks: a registry of small modules, each switched on in the project spec.

A run reads every annotation once, page by page, lets each enabled check observe it, stores
the findings (replacing the previous run's), and can send items with a flagged answer back
to review.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, delete, select, update
from sqlalchemy.orm import Session

from labelwise.db.engine import Database
from labelwise.db.models import Annotation, CheckFinding, Item, Project, User
from labelwise.db.pages import keyset_pages
from labelwise.services import accounts, audit, gold
from labelwise.services.checks import (
    answers,
    gold_accuracy,
    model_disagreement,
    straight_lining,
    timing,
)
from labelwise.services.checks.base import CheckFactory, Finding, Row
from labelwise.services.projects import spec_of
from labelwise.spec import ProjectSpec
from labelwise.states import ItemStatus, ReviewStatus

REGISTRY: dict[str, CheckFactory] = {
    "invalid_answers": answers.make,
    "too_fast": timing.make,
    "straight_lining": straight_lining.make,
    "low_gold_accuracy": gold_accuracy.make,
    "model_disagreement": model_disagreement.make,
}
PAGE = 5000


@dataclass(frozen=True)
class CheckRun:
    checks: list[str]
    counts: dict[str, int]
    sent_to_review: int


def enabled(spec: ProjectSpec) -> bool:
    """Whether the spec switches any check on; nothing is read from the database to decide."""
    return any(make(spec, {}) for make in REGISTRY.values())


def run(db: Database, project: Project, actor_id: int | None = None) -> CheckRun:
    spec = spec_of(project)
    context: dict[str, Any] = {
        "gold_scores": lambda: gold.accuracy_by_annotator(db, project.id),
        "user_ids": lambda: _user_ids(db),
    }
    checks = [check for make in REGISTRY.values() if (check := make(spec, context))]
    found: list[Finding] = []
    for page in _pages(db, project.id):
        for check in checks:
            found.extend(check.observe(page))
    for check in checks:
        found.extend(check.conclude())
    with db.write() as session:
        # Runs of one project take turns here: on PostgreSQL two overlapping runs would each
        # delete only the findings they can see, then both insert theirs.
        session.execute(select(Project.id).where(Project.id == project.id).with_for_update())
        session.execute(delete(CheckFinding).where(CheckFinding.project_id == project.id))
        session.add_all(
            CheckFinding(project_id=project.id, **finding.__dict__) for finding in found
        )
        sent = _send_to_review(session, found) if spec.quality.checks.send_to_review else 0
        result = CheckRun([c.name for c in checks], dict(Counter(f.check for f in found)), sent)
        audit.record(
            session,
            project_id=project.id,
            actor_id=actor_id,
            action="checks.run",
            target_type="project",
            target_id=project.id,
            after={"counts": result.counts, "sent_to_review": sent},
        )
    return result


def _pages(db: Database, project_id: int) -> Iterator[list[Row]]:
    """The project's annotations with their item's data and author name, a read per page."""
    query = (
        select(Annotation, Item.data, User.username)
        .join(Item, Item.id == Annotation.item_id)
        .join(User, User.id == Annotation.user_id)
        .where(Annotation.project_id == project_id)
    )

    def read(page_query: Select[Any], params: Mapping[str, Any]) -> Sequence[Any]:
        with db.read() as session:
            return session.execute(page_query, params).all()

    for page in keyset_pages(
        read, query, Annotation.id, start=0, size=PAGE, last_key=lambda row: row[0].id
    ):
        yield [
            Row(a.id, a.item_id, a.user_id, name, a.answers, a.time_ms, data)
            for a, data, name in page
        ]


def _user_ids(db: Database) -> dict[str, int]:
    with db.read() as session:
        return {name: user_id for user_id, name in accounts.usernames(session.connection()).items()}


def _send_to_review(session: Session, found: list[Finding]) -> int:
    """Finished items with a flagged answer no reviewer has judged yet go back to review.

    An answer a reviewer already accepted, rejected or corrected stays judged, so a later run
    with the same finding does not send its item round again.
    """
    flagged = {f.annotation_id for f in found if f.annotation_id and f.item_id}
    if not flagged:
        return 0
    unjudged = (
        select(Annotation.item_id)
        .where(Annotation.id.in_(flagged), Annotation.review_status == ReviewStatus.SUBMITTED)
        .scalar_subquery()
    )
    sent = session.scalars(
        update(Item)
        .where(Item.id.in_(unjudged), Item.status == ItemStatus.DONE)
        .values(status=ItemStatus.IN_REVIEW, done_at=None)
        .returning(Item.id)
    ).all()
    return len(sent)


@dataclass(frozen=True)
class FindingView:
    check: str
    message: str
    item_id: int | None
    external_id: str | None
    annotation_id: int | None
    username: str | None
    created_at: datetime


def findings(db: Database, project_id: int, limit: int = 1000) -> list[FindingView]:
    with db.read() as session:
        rows = session.execute(
            select(CheckFinding, Item.external_id, User.username)
            .outerjoin(Item, Item.id == CheckFinding.item_id)
            .outerjoin(User, User.id == CheckFinding.user_id)
            .where(CheckFinding.project_id == project_id)
            .order_by(CheckFinding.check, CheckFinding.id)
            .limit(limit)
        ).all()
    return [
        FindingView(f.check, f.message, f.item_id, ext, f.annotation_id, who, f.created_at)
        for f, ext, who in rows
    ]
