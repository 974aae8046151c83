"""The dashboard's work figures, from counts the database keeps: `dashboard_counts` (moved by
triggers as annotations and items change, migration 0013) and GROUP BY queries on small or
indexed tables, so a page over millions of annotations reads some thousands of counts, never
the annotations themselves.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping
from datetime import date, timedelta
from typing import TypeVar

from sqlalchemy import Connection, func, select

from labelwise.db.aggregates import utc_day
from labelwise.db.counts import finding_counts, status_counts
from labelwise.db.models import DashboardCount, Item, Review, User
from labelwise.services.reporting.dashboard_model import AnnotatorWork, DayRow, TimeOnItem, Work
from labelwise.spec import ProjectSpec

_items, _reviews, _counts = Item.__table__, Review.__table__, DashboardCount.__table__
K = TypeVar("K", bound=Hashable)


def work(connection: Connection, project_id: int, spec: ProjectSpec) -> Work:
    by_status = status_counts(connection, [project_id]).get(project_id, {})
    counts = _kept_counts(connection, project_id)
    per_person_day = {(person, day): n for person, day, n in counts["day"]}
    histograms: dict[int, dict[int, int]] = defaultdict(dict)
    for person, value, n in counts["time"]:
        histograms[person][int(value)] = n
    done = {day: n for _, day, n in counts["done"]}
    verdicts_by_day = _verdicts_per_day(connection, project_id)
    names = _names(connection, {person for person, _ in per_person_day} | set(histograms))
    return Work(
        items=sum(by_status.values()),
        by_status=by_status,
        days=_days(done, per_person_day, verdicts_by_day),
        annotators=_annotators(per_person_day, histograms, names),
        time=time_on_item(_merged(histograms.values())),
        question_types=sorted({q.type for q in spec.questions}),
        verdicts=dict(sorted(_merged(verdicts_by_day.values()).items())),
        verdicts_by_day=verdicts_by_day,
        checks=finding_counts(connection, project_id),
    )


def time_on_item(histogram: dict[int, int]) -> TimeOnItem:
    """Nearest-rank median and 90th percentile of a {value: count} histogram."""
    timed = sum(histogram.values())
    if not timed:
        return TimeOnItem(0, None, None)
    # ceil(n p) in integers, for p = 5/10 and 9/10: no float rounding moves a rank
    ranks = {tenths: (tenths * timed + 9) // 10 for tenths in (5, 9)}
    found: dict[int, int] = {}
    seen = 0
    for value in sorted(histogram):
        seen += histogram[value]
        for tenths, rank in ranks.items():
            if tenths not in found and seen >= rank:
                found[tenths] = value
    return TimeOnItem(timed, found[5], found[9])


def _kept_counts(connection: Connection, project_id: int) -> dict[str, list[tuple[int, str, int]]]:
    """The project's running counts by kind: (person, bucket, count), zeros left out."""
    rows = connection.execute(
        select(_counts.c.kind, _counts.c.user_id, _counts.c.bucket, _counts.c.n).where(
            _counts.c.project_id == project_id, _counts.c.n > 0
        )
    )
    found: dict[str, list[tuple[int, str, int]]] = {"day": [], "time": [], "done": []}
    for kind, person, bucket, n in rows:
        found[kind].append((int(person), bucket, int(n)))
    return found


def _verdicts_per_day(connection: Connection, project_id: int) -> dict[str, dict[str, int]]:
    day = utc_day(_reviews.c.created_at)
    rows = connection.execute(
        select(day, _reviews.c.verdict, func.count())
        .where(_reviews.c.project_id == project_id)
        .group_by(day, _reviews.c.verdict)
    )
    found: dict[str, dict[str, int]] = defaultdict(dict)
    for d, verdict, count in rows:
        found[str(d)][verdict] = int(count)
    return dict(sorted(found.items()))


def _names(connection: Connection, people: set[int]) -> dict[int, str]:
    if not people:
        return {}
    rows = connection.execute(select(User.id, User.username).where(User.id.in_(sorted(people))))
    return {person: name for person, name in rows}


def _days(
    done: dict[str, int],
    per_person_day: dict[tuple[int, str], int],
    verdicts_by_day: dict[str, dict[str, int]],
) -> list[DayRow]:
    """Every day from the first to the last with any work, quiet days included, so a chart's
    x axis is real time."""
    annotations: dict[str, int] = defaultdict(int)
    for (_, d), count in per_person_day.items():
        annotations[d] += count
    reviews = {d: sum(counts.values()) for d, counts in verdicts_by_day.items()}
    rows, so_far = [], 0
    for d in _every_day(set(done) | set(annotations) | set(reviews)):
        so_far += done.get(d, 0)
        rows.append(DayRow(d, done.get(d, 0), so_far, annotations.get(d, 0), reviews.get(d, 0)))
    return rows


def _every_day(days: set[str]) -> list[str]:
    if not days:
        return []
    first, last = date.fromisoformat(min(days)), date.fromisoformat(max(days))
    return [(first + timedelta(days=n)).isoformat() for n in range((last - first).days + 1)]


def _annotators(
    per_person_day: dict[tuple[int, str], int],
    histograms: dict[int, dict[int, int]],
    names: dict[int, str],
) -> list[AnnotatorWork]:
    """Busiest first."""
    by_day: dict[int, dict[str, int]] = defaultdict(dict)
    for (person, d), count in sorted(per_person_day.items(), key=lambda row: row[0][1]):
        by_day[person][d] = count
    rows = [
        AnnotatorWork(
            names.get(person, str(person)),
            sum(days.values()),
            days,
            time_on_item(histograms.get(person, {})),
        )
        for person, days in by_day.items()
    ]
    return sorted(rows, key=lambda row: (-row.annotations, row.annotator))


def _merged(counts: Iterable[Mapping[K, int]]) -> dict[K, int]:
    """The counts of several {key: count} maps added up."""
    total: dict[K, int] = defaultdict(int)
    for row in counts:
        for key, count in row.items():
            total[key] += count
    return dict(total)
