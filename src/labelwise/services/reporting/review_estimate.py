"""Label accuracy estimated from review verdicts, per stratum and for the whole project.

The sampling unit is the item: review picks finished items (per slice, under the stratified
policy) and judges each of their annotations. An item's value is the share of its reviewed
annotations whose first verdict was "accept" ("reject" and "correct" both say the label was
wrong), so the estimate is the expected share of correct labels, and the variance is right
even when an item's annotations are not independent of one another.

Strata are the values of the review's `slice_by` field under the stratified policy; under
"all" or "random" the project is one stratum. N_h counts the stratum's finished items (in
review, in adjudication or done): the population the sample was drawn from.
"""

from __future__ import annotations

import numpy as np

from labelwise.quality import stratified_proportion, wilson_interval
from labelwise.services.reporting.quality_data import ProjectColumns, codes
from labelwise.services.reporting.quality_model import (
    Figure,
    ReviewEstimate,
    ReviewReport,
    StratumRow,
    defined,
)
from labelwise.spec import ProjectSpec


def review_report(spec: ProjectSpec, columns: ProjectColumns) -> ReviewReport:
    """Verdict counts, and the accuracy estimate once anything has been reviewed."""
    review = spec.workflow.review
    estimate = _estimate(columns) if columns.reviewed_items else None
    return ReviewReport(review.policy, review.slice_by, dict(columns.verdicts), estimate)


def _estimate(columns: ProjectColumns) -> ReviewEstimate:
    """`stratified_proportion` over reviewed items; see it for the formula."""
    strata = codes(columns.items.strata)
    finished = codes(columns.items.finished).astype(bool)
    names = columns.items.stratum_names.names
    population = np.bincount(strata[finished], minlength=len(names))
    reviewed, per_item = np.unique(codes(columns.reviewed_items), return_inverse=True)
    judged = np.bincount(per_item)
    accepted = np.bincount(per_item, weights=codes(columns.accepted))
    item_strata = strata[reviewed]
    result = stratified_proportion(item_strata, accepted / judged, population)
    labels_judged = np.bincount(item_strata, weights=judged, minlength=len(names))
    labels_accepted = np.bincount(item_strata, weights=accepted, minlength=len(names))
    rows = [
        StratumRow(
            name,
            int(population[h]),
            int(result.sampled[h]),
            float(result.weights[h]),
            _stratum_accuracy(
                float(result.means[h]), int(labels_accepted[h]), int(labels_judged[h])
            ),
        )
        for h, name in enumerate(names)
        if population[h] or result.sampled[h]
    ]
    interval = result.interval
    return ReviewEstimate(
        accuracy=Figure.of(interval.estimate, interval.low, interval.high),
        standard_error=defined(result.standard_error),
        finished_items=int(population.sum()),
        reviewed_items=int(reviewed.size),
        covered=result.covered,
        strata=rows,
    )


def _stratum_accuracy(mean: float, accepted: int, judged: int) -> Figure:
    """The stratum mean (what the estimator uses) with a Wilson interval on its label counts,
    which stays sensible for the small samples of a single slice."""
    if judged == 0:
        return Figure.of(mean)
    interval = wilson_interval(accepted, judged)
    return Figure.of(mean, interval.low, interval.high)
