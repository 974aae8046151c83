"""The dashboard's figures as charts: which chart shows what, in page order.

Each function takes the service's dataclasses and returns `charts.Chart`s; the page draws them
and puts each one's table under it.
"""

from __future__ import annotations

from labelwise.services.reporting.dashboard_model import (
    ClassBalance,
    QualityFigures,
    QuestionAgreement,
    Work,
)
from labelwise.web.charts import (
    SERIES_CLASSES,
    Chart,
    Point,
    bar_chart,
    line_chart,
    stacked_bar_chart,
)

VERDICTS = ("accept", "correct", "reject")


def progress(work: Work) -> list[Chart]:
    days = [row.day for row in work.days]
    return [
        bar_chart(
            "Items done per day", "day", "items done", [(r.day, r.items_done) for r in work.days]
        ),
        line_chart(
            "Items done so far",
            "day",
            days,
            {"done so far": [Point(r.done_so_far) for r in work.days]},
        ),
    ]


def throughput(work: Work) -> list[Chart]:
    """Per day, stacked by annotator: the busiest have a colour each, the rest share one."""
    days = [row.day for row in work.days]
    named = work.annotators[: SERIES_CLASSES - 1]
    series = {person.annotator: [person.by_day.get(d, 0) for d in days] for person in named}
    rest = work.annotators[SERIES_CLASSES - 1 :]
    if rest:
        series[f"{len(rest)} others"] = [sum(p.by_day.get(d, 0) for p in rest) for d in days]
    per_day = stacked_bar_chart("Annotations per day, by annotator", "day", days, series)
    per_person = bar_chart(
        "Annotations per annotator",
        "annotator",
        "annotations",
        [(p.annotator, p.annotations) for p in work.annotators],
    )
    return [per_day, per_person]


def time_on_item(work: Work) -> list[Chart]:
    people = [p for p in work.annotators if p.time.timed]
    seconds = {
        "median s": [Point(_seconds(p.time.median_ms)) for p in people],
        "p90 s": [Point(_seconds(p.time.p90_ms)) for p in people],
    }
    return [
        line_chart(
            "Time on item per annotator (median and 90th percentile, seconds)",
            "annotator",
            [p.annotator for p in people],
            seconds,
        )
    ]


def reviews(work: Work) -> list[Chart]:
    days = sorted(work.verdicts_by_day)
    verdicts = [v for v in VERDICTS if v in work.verdicts]
    return [
        bar_chart(
            "Review verdicts", "verdict", "reviews", [(v, work.verdicts[v]) for v in verdicts]
        ),
        stacked_bar_chart(
            "Review verdicts per day",
            "day",
            days,
            {v: [work.verdicts_by_day[d].get(v, 0) for d in days] for v in verdicts},
        ),
    ]


def checks(work: Work) -> list[Chart]:
    return [
        bar_chart("Check findings (latest run)", "check", "findings", list(work.checks.items()))
    ]


def agreement(figures: QualityFigures) -> list[Chart]:
    return [_agreement(question, figures.target) for question in figures.agreement]


def _agreement(question: QuestionAgreement, target: float | None) -> Chart:
    versions = [f"v{row.version}" if row.version else "before v1" for row in question.versions]
    points = [
        Point(row.agreement.value, row.agreement.low, row.agreement.high)
        for row in question.versions
    ]
    metric = (question.metric or "").replace("_", " ")
    return line_chart(
        f"{question.question}: {metric} per guideline version",
        "guideline version",
        versions,
        {metric: points},
        target=target,
        floor=None,
    )


def balance(figures: QualityFigures) -> list[Chart]:
    return [chart for question in figures.balance for chart in _balance(question)]


def _balance(question: ClassBalance) -> list[Chart]:
    overall = bar_chart(
        f"{question.question}: answers per label",
        "label",
        "answers",
        list(zip(question.labels, question.answers, strict=True)),
    )
    per_slice = [
        stacked_bar_chart(
            f"{question.question}: answers per label, by {field}",
            field,
            list(values),
            {
                label: [counts[j] for counts in values.values()]
                for j, label in enumerate(question.labels)
            },
        )
        for field, values in question.slices.items()
    ]
    return [overall, *per_slice]


def gold(figures: QualityFigures) -> list[Chart]:
    if not figures.gold:
        return []
    points = [
        Point(row.accuracy.value, row.accuracy.low, row.accuracy.high) for row in figures.gold
    ]
    return [
        line_chart(
            "Gold accuracy per annotator (95% Wilson interval)",
            "annotator",
            [row.annotator for row in figures.gold],
            {"accuracy": points},
        )
    ]


def _seconds(milliseconds: int | None) -> float | None:
    return None if milliseconds is None else milliseconds / 1000
