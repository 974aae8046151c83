"""`workflow.order: uncertainty`: the queue serves first the items the baseline is least sure of.

The background sweep (`services/background.py`) calls `reorder` after every
`workflow.retrain_every` new annotations; nothing here runs on the request path. The model
(`labelwise.learning`) learns the first single- or multi-label question from its consensus on
the text fields (a multi-label one a label at a time), scores every item without a consensus
yet, and routing serves the highest priority first. Only the front of the queue is
rewritten: the `FRONT` items it is least sure of get `generation + least confidence`, the
generation one above every open item's priority, so they go before all others, and the rest
keep theirs. Writing every open item's priority held SQLite's writer lock for 200
transactions a training on 100k items and took labeling's p99 from 32 ms to 400 ms
(bench/RESULTS.md); the front is written in a few short ones.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import Select, func, select, update

from labelwise.db.engine import Database
from labelwise.db.models import Annotation, Item, Project
from labelwise.db.pages import keyset_pages
from labelwise.learning import DESCRIPTION
from labelwise.services import audit
from labelwise.services.projects import spec_of
from labelwise.services.reporting.consensus import consensus
from labelwise.spec import ProjectSpec
from labelwise.states import ItemStatus

PAGE = 5000
FRONT = 2000  # items reprioritized a training: more than are handed out between two trainings
# A batch per transaction, a few ms each on SQLite: a submit waiting behind one waits no longer.
WRITE_BATCH = 250


@dataclass(frozen=True)
class Reordered:
    trained_on: int  # items with a consensus label
    scored: int  # open items the model scored
    ranked: int  # the least sure of them, given a new priority


LEARNABLE = ("single_label", "multi_label")  # the first such question is the one learned


def wanted(spec: ProjectSpec) -> bool:
    return spec.workflow.order == "uncertainty"


def annotation_count(db: Database, project_id: int) -> int:
    """How many annotations the project holds: what `retrain_every` counts."""
    with db.read() as session:
        query = select(func.count()).where(Annotation.project_id == project_id)
        return int(session.scalar(query) or 0)


def reorder(db: Database, project: Project) -> Reordered | None:
    """Train on the consensus so far and rank the rest; None while there is too little to
    learn from (fewer than two labels among the items with a consensus; for a multi-label
    question, no label both on some and off others)."""
    # scikit-learn: only when used
    from labelwise.learning.uncertainty import least_confidence, least_confidence_multilabel

    spec = spec_of(project)
    question = next(q for q in spec.questions if q.type in LEARNABLE)
    fields = [f.name for f in spec.fields if f.type == "text"]
    agreed = consensus(db, project.id, question.name, "majority")
    texts, labels, open_ids, open_texts = [], [], [], []
    for item_id, status, data in _items(db, project.id):
        text = "\n".join(str(data.get(name, "")) for name in fields)
        settled = agreed.get(item_id)
        if settled is not None and settled.answer is not None:
            texts.append(text)
            labels.append(settled.answer)
        elif status in (ItemStatus.NEW, ItemStatus.IN_PROGRESS):
            open_ids.append(item_id)
            open_texts.append(text)
    if question.type == "multi_label":
        doubt = least_confidence_multilabel(texts, labels, open_texts)
    else:
        doubt = least_confidence(texts, [str(label) for label in labels], open_texts)
    if doubt is None:
        return None
    front = [int(n) for n in np.argsort(-doubt, kind="stable")[:FRONT]]
    generation = _top_priority(db, project.id) // 1 + 1
    for start in range(0, len(front), WRITE_BATCH):
        rows = [
            {"id": open_ids[n], "priority": generation + round(float(doubt[n]), 6)}
            for n in front[start : start + WRITE_BATCH]
        ]
        with db.write() as session:
            session.execute(update(Item), rows)
    with db.write() as session:
        audit.record(
            session,
            project_id=project.id,
            actor_id=None,
            action="items.prioritized",
            target_type="project",
            target_id=project.id,
            after={
                "updated": len(front),
                "scored": len(open_ids),
                "by": f"uncertainty: {DESCRIPTION}",
            },
        )
    return Reordered(len(texts), len(open_ids), len(front))


def _top_priority(db: Database, project_id: int) -> float:
    """The highest priority of an open item: an index lookup per open status."""
    with db.read() as session:
        query = select(func.max(Item.priority)).where(
            Item.project_id == project_id,
            Item.status.in_([ItemStatus.NEW, ItemStatus.IN_PROGRESS]),
        )
        return float(session.scalar(query) or 0.0)


def _items(db: Database, project_id: int) -> Iterator[tuple[int, str, dict[str, Any]]]:
    query = select(Item.id, Item.status, Item.data).where(Item.project_id == project_id)

    def read(page: Select[Any], params: Mapping[str, Any]) -> Sequence[Any]:
        with db.read() as session:
            return session.execute(page, params).all()

    for page in keyset_pages(read, query, Item.id, start=0, size=PAGE, last_key=lambda r: r.id):
        for item_id, status, data in page:
            yield item_id, status, data if isinstance(data, dict) else {}
