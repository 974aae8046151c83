"""The one query the hot path needs from the guidelines: the version in force.

Kept apart from `services.guidelines` so that submitting imports no more than this.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from labelwise.db.guideline_models import GuidelineVersion


def version_in_force(project_id: Any) -> Any:
    """The project's latest version number (NULL before the first), as a scalar subquery
    (`project_id` a number or a bind parameter):
    set as a column value, it is evaluated inside the INSERT/UPDATE itself, so recording
    the version costs no extra round trip, and it reads in the writer's own transaction."""
    return (
        select(func.max(GuidelineVersion.number))
        .where(GuidelineVersion.project_id == project_id)
        .scalar_subquery()
    )
