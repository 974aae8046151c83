"""One annotator's scorecard: gold accuracy, agreement with the others' consensus and with
each co-annotator, speed, review verdicts, feedback and a weekly trend.

The project is read by the quality report's own streaming pass (`quality_data.load`), so
gold accuracy is the report's figure and every answer is compared in its coded form. The
annotator's own annotations are then streamed once, a keyset page at a time, for their
times and dates; verdicts and comments are counted by aggregate queries. Memory holds the
report's integer columns plus a few numbers per annotation of this one person.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import Connection, exists, func, select

from labelwise.db.engine import Database
from labelwise.db.models import Annotation, Comment, Membership, Project, Review, User
from labelwise.db.pages import keyset_pages, read_on
from labelwise.policies import Actor, Role, authorize_scorecard
from labelwise.quality import UNRESOLVED, KappaWeights, cohen_kappa, majority_vote, wilson_interval
from labelwise.services import item_views
from labelwise.services.gold import is_correct
from labelwise.services.projects import spec_of
from labelwise.services.reporting.quality_data import (
    PAGE,
    ItemColumns,
    LabelColumns,
    ProjectColumns,
    codes,
    load,
)
from labelwise.services.reporting.quality_model import Figure
from labelwise.services.reporting.scorecard_model import (
    CommentNote,
    Feedback,
    PeerAgreement,
    QuestionScore,
    ReviewNote,
    Scorecard,
    Speed,
    TrendRow,
    Verdicts,
)
from labelwise.spec import ProjectSpec, QuestionSpec
from labelwise.states import ReviewStatus

# Co-annotators listed per question: those who shared the most items with the annotator.
PEERS = 8
RECENT = 10
_annotations = Annotation.__table__


def for_reader(
    db: Database, project: Project, actor: Actor, role: Role | None, username: str
) -> Scorecard:
    """`username`'s scorecard, if `actor` (holding `role` in the project) may read it."""
    user_id, their_role = subject(db, project.id, username)
    authorize_scorecard(actor, role, user_id, username)
    assert user_id is not None  # authorize_scorecard refuses an unknown subject
    return build(db, project, spec_of(project), user_id, username, their_role)


def subject(db: Database, project_id: int, username: str) -> tuple[int | None, str | None]:
    """(user id, role) of `username` in the project; id None unless they are a member or
    have annotated there, so no other account is ever described."""
    with db.read() as session:
        user_id = session.scalar(select(User.id).where(User.username == username))
        if user_id is None:
            return None, None
        role = session.scalar(
            select(Membership.role).where(
                Membership.project_id == project_id, Membership.user_id == user_id
            )
        )
        worked = session.scalar(
            select(
                exists().where(Annotation.project_id == project_id, Annotation.user_id == user_id)
            )
        )
    return (user_id if role is not None or worked else None), role


def build(
    db: Database, project: Project, spec: ProjectSpec, user_id: int, username: str, role: str | None
) -> Scorecard:
    """The scorecard of `username` (`user_id`), unchecked: callers authorize first."""
    # Only questions answered by label are compared; gold is scored on every answer anyway.
    compared = [q for q in spec.questions if q.kind.coding == "labels"]
    columns = load(db, project.id, spec, compared)
    me = _code_of(columns, username)
    corrected = _corrected_items(db, project.id, user_id, columns.items)
    scores, matches = _questions(spec.questions, columns, me, corrected)
    gold_answers = columns.gold_answered[me] if me is not None else 0
    gold_right = columns.gold_correct[me] if me is not None else 0
    with db.snapshot() as session:
        connection = session.connection()
        own = _own_pass(connection, project.id, user_id, spec, columns.items, matches)
        verdicts = _verdicts(connection, project.id, user_id)
        comments = _comments(connection, project.id, user_id)
    return Scorecard(
        project=project.slug,
        annotator=username,
        role=role,
        annotations=own.annotations,
        gold_answers=gold_answers,
        gold_accuracy=_wilson(gold_right, gold_answers),
        questions=scores,
        speed=own.speed(),
        verdicts=verdicts,
        feedback=Feedback(
            comments=comments[0],
            recent_comments=comments[1],
            recent_reviews=_review_notes(db, project.id, user_id),
        ),
        trend=own.trend(),
    )


def _code_of(columns: ProjectColumns, username: str) -> int | None:
    names = columns.annotator_names
    return names.index(username) if username in names else None


def _wilson(successes: int, trials: int) -> Figure | None:
    if not trials:
        return None
    interval = wilson_interval(successes, trials)
    return Figure.of(interval.estimate, interval.low, interval.high)


# Agreement per question -------------------------------------------------------------------

# Per item code: (answers compared with the others' consensus, answers equal to it).
Matches = dict[int, tuple[int, int]]


def _corrected_items(
    db: Database, project_id: int, user_id: int, items: ItemColumns
) -> np.ndarray[Any, Any]:
    """Codes of the items where a reviewer corrected the annotator: the report's columns hold
    the correction there, which is not the annotator's answer, so it is not scored."""
    with db.read() as session:
        found = session.scalars(
            select(Annotation.item_id).where(
                Annotation.project_id == project_id,
                Annotation.user_id == user_id,
                Annotation.review_status == ReviewStatus.CORRECTED,
            )
        ).all()
    return np.asarray([c for i in found if (c := _item_code(items, i)) is not None], np.intp)


def _item_code(items: ItemColumns, item_id: int) -> int | None:
    """The item's code in the report's columns; None for an item added since they were read."""
    code = bisect_left(items.ids, item_id)
    return code if code < len(items.ids) and items.ids[code] == item_id else None


def _questions(
    questions: Sequence[QuestionSpec],
    columns: ProjectColumns,
    me: int | None,
    corrected: np.ndarray[Any, Any],
) -> tuple[list[QuestionScore], Matches]:
    scores: list[QuestionScore] = []
    matches: Counter[int] = Counter()
    matched: Counter[int] = Counter()
    for question in questions:
        answers = columns.answers.get(question.name)
        if not isinstance(answers, LabelColumns):
            continue
        score, compared, equal = _question(
            question, answers, columns.annotator_names, me, corrected
        )
        scores.append(score)
        matches.update(compared)
        matched.update(equal)
    return scores, {item: (matches[item], matched[item]) for item in matches}


def _question(
    question: QuestionSpec,
    columns: LabelColumns,
    names: Sequence[str],
    me: int | None,
    corrected: np.ndarray[Any, Any],
) -> tuple[QuestionScore, list[int], list[int]]:
    """The annotator's answers (but those a reviewer corrected) against the majority vote of
    everyone else on the same items (the report's `majority_vote`, ties left unresolved and
    so not counted), and against each co-annotator."""
    items, who, labels = codes(columns.items), codes(columns.annotators), codes(columns.labels)
    theirs = who == me
    mine = theirs & ~np.isin(items, corrected)
    my_items, my_labels = items[mine], labels[mine]  # item codes ascend as the pass runs
    others = ~theirs & np.isin(items, my_items)
    rows = np.searchsorted(my_items, items[others])
    k = len(columns.choices)
    vote = majority_vote(rows, labels[others], n_items=my_items.size, n_labels=k)
    resolved = vote.labels != UNRESOLVED
    equal = resolved & (vote.labels == my_labels)
    compared = int(resolved.sum())
    score = QuestionScore(
        name=question.name,
        type=question.type,
        answers=int(theirs.sum()),
        compared=compared,
        consensus=_wilson(int(equal.sum()), compared),
        peers=_peers(question, rows, who[others], labels[others], my_labels, names, k),
    )
    return score, my_items[resolved].tolist(), my_items[equal].tolist()


def _peers(
    question: QuestionSpec,
    rows: np.ndarray[Any, Any],
    peers: np.ndarray[Any, Any],
    labels: np.ndarray[Any, Any],
    my_labels: np.ndarray[Any, Any],
    names: Sequence[str],
    k: int,
) -> list[PeerAgreement]:
    """Raw agreement and Cohen's kappa with each of the most frequent co-annotators."""
    weights: KappaWeights | None = "linear" if question.kind.level == "ordinal" else None
    found, shared = np.unique(peers, return_counts=True)
    top = np.argsort(-shared, kind="stable")[:PEERS]
    result = []
    for peer in found[top]:
        theirs = peers == peer
        a, b = my_labels[rows[theirs]], labels[theirs]
        kappa = cohen_kappa(a, b, n_labels=k, weights=weights)
        result.append(
            PeerAgreement(
                annotator=names[int(peer)],
                shared_items=int(a.size),
                agreement=float(np.mean(a == b)),
                kappa=None if np.isnan(kappa) else float(kappa),
            )
        )
    return result


# The annotator's own annotations, streamed once ---------------------------------------------


@dataclass
class _Week:
    annotations: int = 0
    gold_answers: int = 0
    gold_right: int = 0
    compared: int = 0
    matched: int = 0


@dataclass
class _Own:
    """What one pass over a person's annotations gathers: times (seconds) by question type,
    and counts by week."""

    annotations: int = 0
    seconds: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    weeks: dict[date, _Week] = field(default_factory=lambda: defaultdict(_Week))

    def speed(self) -> list[Speed]:
        ordered = sorted(self.seconds.items(), key=lambda kv: (kv[0] != "all", kv[0]))
        return [_speed(kind, times) for kind, times in ordered]

    def trend(self) -> list[TrendRow]:
        return [
            TrendRow(
                week=week,
                annotations=row.annotations,
                gold_answers=row.gold_answers,
                gold_accuracy=row.gold_right / row.gold_answers if row.gold_answers else None,
                compared=row.compared,
                consensus=row.matched / row.compared if row.compared else None,
            )
            for week, row in sorted(self.weeks.items())
        ]


def _speed(kind: str, times: list[float]) -> Speed:
    median, p90 = np.percentile(np.asarray(times), [50, 90])
    return Speed(kind, len(times), float(median), float(p90))


def _own_pass(
    connection: Connection,
    project_id: int,
    user_id: int,
    spec: ProjectSpec,
    items: ItemColumns,
    matches: Matches,
) -> _Own:
    types = {question.name: question.type for question in spec.questions}
    own = _Own()
    for item_id, created_at, time_ms, answers in _own_rows(connection, project_id, user_id):
        own.annotations += 1
        week = own.weeks[_monday(created_at)]
        week.annotations += 1
        code = _item_code(items, item_id)
        if code is not None:
            gold = items.gold.get(code)
            if gold is not None:
                week.gold_answers += 1
                week.gold_right += is_correct(gold, answers)
            compared, matched = matches.get(code, (0, 0))
            week.compared += compared
            week.matched += matched
        if time_ms is not None:
            own.seconds["all"].append(time_ms / 1000)
            for kind in _types_answered(answers, types):
                own.seconds[kind].append(time_ms / 1000)
    return own


def _types_answered(answers: dict[str, Any], types: Mapping[str, str]) -> set[str]:
    return {types[name] for name, value in answers.items() if value is not None and name in types}


def _own_rows(connection: Connection, project_id: int, user_id: int) -> Iterator[Any]:
    query = select(
        _annotations.c.id,
        _annotations.c.item_id,
        _annotations.c.created_at,
        _annotations.c.time_ms,
        _annotations.c.answers,
    ).where(_annotations.c.project_id == project_id, _annotations.c.user_id == user_id)
    for page in keyset_pages(read_on(connection), query, _annotations.c.id, start=0, size=PAGE):
        for row in page:
            yield row[1:]


def _monday(moment: datetime) -> date:
    day = moment.date()
    return day - timedelta(days=day.weekday())


# Verdicts and feedback, by aggregate queries ------------------------------------------------


def _verdicts(connection: Connection, project_id: int, user_id: int) -> Verdicts:
    rows = connection.execute(
        select(Review.verdict, func.count())
        .join(Annotation, Annotation.id == Review.annotation_id)
        .where(Review.project_id == project_id, Annotation.user_id == user_id)
        .group_by(Review.verdict)
    )
    counts = {verdict: int(count) for verdict, count in rows}
    accept, reject, correct = (counts.get(v, 0) for v in ("accept", "reject", "correct"))
    return Verdicts(accept, reject, correct, _wilson(accept, accept + reject + correct))


def _comments(
    connection: Connection, project_id: int, user_id: int
) -> tuple[int, list[CommentNote]]:
    """Others' comments on the items the annotator labeled: how many, and the latest."""
    labeled = select(Annotation.item_id).where(
        Annotation.project_id == project_id, Annotation.user_id == user_id
    )
    where = (
        Comment.project_id == project_id,
        Comment.user_id != user_id,
        Comment.item_id.in_(labeled),
    )
    total = connection.scalar(select(func.count()).select_from(Comment).where(*where)) or 0
    rows = connection.execute(
        select(Comment.item_id, User.username, Comment.body, Comment.created_at)
        .join(User, User.id == Comment.user_id)
        .where(*where)
        .order_by(Comment.id.desc())
        .limit(RECENT)
    )
    return int(total), [CommentNote(*row) for row in rows]


def _review_notes(db: Database, project_id: int, user_id: int) -> list[ReviewNote]:
    """The latest verdicts that say something, as the annotator's feedback page lists them."""
    found = item_views.feedback_for(db, project_id, user_id, limit=RECENT)
    return [
        ReviewNote(r.annotation_id, r.reviewer, r.verdict, r.feedback, r.created_at)
        for r in reversed(found)
    ]
