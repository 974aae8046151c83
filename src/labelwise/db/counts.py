"""Counts the reports share: items per status, with gold items counted apart, and check
findings per check.

Gold items are never handed out as ordinary work and stay `new`, so counted by status they
would leave every project short of done for good. Here they are `gold`, whatever their status:
the status counts come from the queue index, the gold ones from the (few) gold rows.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, func, select
from sqlalchemy.orm import Session

from labelwise.db.models import CheckFinding, GoldAnswer, Item

GOLD = "gold"


def status_counts(
    connection: Connection | Session, project_ids: Iterable[int]
) -> dict[int, dict[str, int]]:
    """{project id: {status or "gold": items}}, statuses without items left out."""
    ids = list(project_ids)
    counts: dict[int, dict[str, int]] = {}
    for project_id, status, count in connection.execute(
        select(Item.project_id, Item.status, func.count())
        .where(Item.project_id.in_(ids))
        .group_by(Item.project_id, Item.status)
    ):
        counts.setdefault(project_id, {})[status] = int(count)
    for project_id, status, count in connection.execute(
        select(Item.project_id, Item.status, func.count())
        .join(GoldAnswer, GoldAnswer.item_id == Item.id)
        .where(Item.project_id.in_(ids))
        .group_by(Item.project_id, Item.status)
    ):
        mine = counts[project_id]
        mine[status] -= int(count)
        if not mine[status]:
            del mine[status]
        mine[GOLD] = mine.get(GOLD, 0) + int(count)
    return counts


def finding_counts(connection: Connection | Session, project_id: int) -> dict[str, int]:
    """Findings of the latest automated-check run, per check."""
    rows = connection.execute(
        select(CheckFinding.check, func.count())
        .where(CheckFinding.project_id == project_id)
        .group_by(CheckFinding.check)
        .order_by(CheckFinding.check)
    )
    return {check: int(count) for check, count in rows}
