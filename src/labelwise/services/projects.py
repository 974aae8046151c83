"""Projects, their specs and their members."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import (
    bindparam,
    func,
    select,
)
from sqlalchemy.orm import Session

from labelwise.clock import now
from labelwise.db.counts import GOLD, status_counts
from labelwise.db.engine import Database
from labelwise.db.models import Item, Membership, Project, User
from labelwise.errors import NotFound
from labelwise.policies import Actor, Role
from labelwise.services import audit, guidelines
from labelwise.spec import ProjectSpec, parse_spec
from labelwise.states import ItemStatus


@dataclass(frozen=True)
class ApplyResult:
    project: Project
    created: bool
    changed: bool


@dataclass(frozen=True)
class ProjectSummary:
    project: Project
    role: Role | None
    items: int
    by_status: dict[str, int]


def spec_of(project: Project) -> ProjectSpec:
    return stored_spec(orjson.dumps(project.spec, option=orjson.OPT_SORT_KEYS))


@functools.lru_cache(maxsize=128)
def stored_spec(spec_json: str | bytes) -> ProjectSpec:
    """Specs are needed on every submit: parse each distinct one once."""
    return parse_spec(orjson.loads(spec_json))


def get(db: Database, slug: str) -> Project:
    with db.read() as session:
        return _get(session, slug)


def _get(session: Session, slug: str) -> Project:
    project = session.scalar(select(Project).where(Project.slug == slug))
    if project is None:
        raise NotFound(f"project {slug!r} not found")
    return project


# Built once: every project route starts here.
_ACCESS = (
    select(Project, Membership.role)
    .outerjoin(
        Membership,
        (Membership.project_id == Project.id) & (Membership.user_id == bindparam("user")),
    )
    .where(Project.slug == bindparam("slug"))
)


def access(db: Database, slug: str, actor: Actor) -> tuple[Project, Role | None]:
    """The project and the caller's role in it; a missing project is NotFound for everyone."""
    with db.read() as session:
        row = session.execute(_ACCESS, {"slug": slug, "user": actor.user_id}).first()
    if row is None:
        raise NotFound("project not found")
    return row[0], Role(row[1]) if row[1] else None


def role_in(db: Database, project_id: int, user_id: int) -> Role | None:
    with db.read() as session:
        role = session.scalar(
            select(Membership.role).where(
                Membership.project_id == project_id, Membership.user_id == user_id
            )
        )
    return Role(role) if role else None


def apply_spec(
    db: Database,
    spec: ProjectSpec,
    *,
    actor_id: int | None = None,
    guidelines_text: str | None = None,
) -> ApplyResult:
    """Create the project or bring it in line with the spec; the same spec twice is a no-op.

    The spec's guidelines (its `guidelines` markdown, or `guidelines_text`: the content of
    the file its `guidelines_file` names, read by the caller, who knows where the spec file
    is) are published as the next version when they differ from the current one, in the same
    transaction.
    """
    canonical = spec.canonical()
    with db.write() as session:
        project = session.scalar(select(Project).where(Project.slug == spec.slug))
        if project is None:
            project = Project(slug=spec.slug, name=spec.name, spec=canonical)
            session.add(project)
            session.flush()  # the event needs the project's id
            _record_spec(session, project, actor_id, None, canonical)
            _publish_guidelines(session, project, spec, guidelines_text, actor_id)
            return ApplyResult(project, created=True, changed=True)
        published = _publish_guidelines(session, project, spec, guidelines_text, actor_id)
        if project.spec == canonical:
            return ApplyResult(project, created=False, changed=published)
        _record_spec(session, project, actor_id, project.spec, canonical)
        project.spec = canonical
        project.name = spec.name
        project.updated_at = now()
        return ApplyResult(project, created=False, changed=True)


def _publish_guidelines(
    session: Session,
    project: Project,
    spec: ProjectSpec,
    text: str | None,
    actor_id: int | None,
) -> bool:
    text = spec.guidelines if text is None else text
    if text is None or guidelines.current_body(session, project.id) == text:
        return False
    source = "the project spec" if spec.guidelines_file is None else spec.guidelines_file
    note = spec.guidelines_note or f"from {source}"
    guidelines.publish_in(
        session, project.id, guidelines.check_body(text), guidelines.check_note(note), actor_id
    )
    return True


def _record_spec(
    session: Session, project: Project, actor_id: int | None, before: Any, after: Any
) -> None:
    audit.record(
        session,
        project_id=project.id,
        actor_id=actor_id,
        action="project.created" if before is None else "project.spec_changed",
        target_type="project",
        target_id=project.id,
        before=before,
        after=after,
    )


def summaries(db: Database, actor: Actor) -> list[ProjectSummary]:
    """The projects the actor can see (all of them for an admin), with item counts."""
    with db.read() as session:
        query = select(Project, Membership.role).outerjoin(
            Membership,
            (Membership.project_id == Project.id) & (Membership.user_id == actor.user_id),
        )
        if not actor.is_admin:
            query = query.where(Membership.role.is_not(None))
        rows = session.execute(query.order_by(Project.slug)).all()
        counts = status_counts(session, [p.id for p, _ in rows])
    return [_summary(p, Role(role) if role else None, counts) for p, role in rows]


def summary(db: Database, project: Project, role: Role | None) -> ProjectSummary:
    with db.read() as session:
        return _summary(project, role, status_counts(session, [project.id]))


def _summary(
    project: Project, role: Role | None, counts: dict[int, dict[str, int]]
) -> ProjectSummary:
    """Gold items counted apart, except to an annotator: to them they are new items, as they
    are shown to them as ordinary work."""
    by_status = dict(counts.get(project.id, {}))
    if role == Role.ANNOTATOR and GOLD in by_status:
        new = ItemStatus.NEW.value
        by_status[new] = by_status.get(new, 0) + by_status.pop(GOLD)
    return ProjectSummary(project, role, sum(by_status.values()), by_status)


@dataclass(frozen=True)
class Member:
    username: str
    role: Role


def members(db: Database, project: Project) -> list[Member]:
    with db.read() as session:
        rows = session.execute(
            select(User.username, Membership.role)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.project_id == project.id)
            .order_by(User.username)
        ).all()
    return [Member(username, Role(role)) for username, role in rows]


def role_of(db: Database, project: Project, username: str) -> Role | None:
    with db.read() as session:
        role = session.scalar(
            select(Membership.role)
            .join(User, User.id == Membership.user_id)
            .where(Membership.project_id == project.id, User.username == username)
        )
    return Role(role) if role else None


def set_member(
    db: Database,
    project: Project,
    username: str,
    role: Role | None,
    *,
    actor_id: int | None = None,
) -> None:
    """Give `username` a role in the project, or remove them with `role=None`."""
    with db.write() as session:
        user = session.scalar(select(User).where(User.username == username))
        if user is None:
            raise NotFound(f"no user named {username!r}")
        membership = session.get(Membership, (project.id, user.id))
        before = None if membership is None else membership.role
        after = None if role is None else role.value
        if before == after:
            return
        if membership is None:
            session.add(Membership(project_id=project.id, user_id=user.id, role=after))
        elif after is None:
            session.delete(membership)
        else:
            membership.role = after
        audit.record(
            session,
            project_id=project.id,
            actor_id=actor_id,
            action="member.removed" if after is None else "member.role_changed",
            target_type="user",
            target_id=user.id,
            before=_member_state(username, before),
            after=_member_state(username, after),
        )


def _member_state(username: str, role: str | None) -> dict[str, str] | None:
    return None if role is None else {"user": username, "role": role}


def item_count(db: Database, project: Project) -> int:
    with db.read() as session:
        return int(session.scalar(select(func.count()).where(Item.project_id == project.id)) or 0)


def page_items(db: Database, project: Project, *, after: int, limit: int) -> Sequence[Item]:
    """Keyset pagination by item id: stable under concurrent imports, O(limit) per page."""
    query = select(Item).where(Item.project_id == project.id, Item.id > after)
    with db.read() as session:
        return session.scalars(query.order_by(Item.id).limit(limit)).all()
