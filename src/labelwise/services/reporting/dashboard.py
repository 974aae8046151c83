"""A project's dashboard: work counted by the database on every load, quality figures from
the last snapshot (recomputed on the spot for a small project whose snapshot is stale)."""

from __future__ import annotations

from labelwise.db.engine import Database
from labelwise.db.models import Project
from labelwise.services.projects import spec_of
from labelwise.services.reporting import dashboard_quality
from labelwise.services.reporting.dashboard_model import Dashboard
from labelwise.services.reporting.dashboard_work import work


def build(db: Database, project: Project) -> Dashboard:
    with db.snapshot() as session:
        connection = session.connection()
        counted = work(connection, project.id, spec_of(project))
        seq = dashboard_quality.audit_seq(connection, project.id)
        kept = dashboard_quality.stored(connection, project.id)
    current = kept is not None and kept[1] == seq
    annotations = sum(person.annotations for person in counted.annotators)
    if not current and annotations <= dashboard_quality.INLINE_ANNOTATIONS:
        return Dashboard(project.slug, counted, dashboard_quality.recompute(db, project), True)
    return Dashboard(project.slug, counted, kept[0] if kept else None, current)
