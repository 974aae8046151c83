"""Benchmark: Dawid-Skene and Krippendorff's alpha on 800,000 synthetic annotations.

Prints labelwise beside crowd-kit 1.4.2's DawidSkene and the `krippendorff` package, run in
this same process on the same data:

    python bench/quality.py [--seed 7] [--repeat 3]

The data: 200,000 items with 5 classes (skewed priors), each labelled by 3, 4 or 5 distinct
annotators (a third each, 800,000 labels exactly) drawn from a pool of 500 whose workloads
differ: 55% skilled, 25% mediocre, 12% uniform spammers, 8% who always answer one class.
"""

from __future__ import annotations

import argparse
import resource
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from labelwise.quality import DawidSkeneResult, dawid_skene, krippendorff_alpha, majority_vote

N_ITEMS = 200_000
N_ANNOTATORS = 500
N_CLASSES = 5
T = TypeVar("T")


@dataclass(frozen=True)
class Synthetic:
    items: npt.NDArray[np.intp]
    annotators: npt.NDArray[np.intp]
    labels: npt.NDArray[np.intp]
    truth: npt.NDArray[np.intp]


def generate(seed: int) -> Synthetic:
    rng = np.random.default_rng(seed)
    truth = rng.choice(N_CLASSES, N_ITEMS, p=[0.35, 0.25, 0.2, 0.12, 0.08])
    third = N_ITEMS // 3
    per_item = np.repeat([3, 4, 5], [third + 1, N_ITEMS - 2 * third - 2, third + 1])
    rng.shuffle(per_item)
    assert per_item.sum() == 800_000
    assigned = _distinct_annotators(rng, per_item)
    items = np.repeat(np.arange(N_ITEMS), per_item)
    confusion = _confusion_matrices(rng)
    cumulative = confusion[assigned, truth[items]].cumsum(axis=1)
    draws = rng.random(items.size)[:, None]
    labels = np.minimum((draws > cumulative).sum(axis=1), N_CLASSES - 1)
    return Synthetic(items, assigned.astype(np.intp), labels.astype(np.intp), truth)


def _distinct_annotators(
    rng: np.random.Generator, per_item: npt.NDArray[np.int64]
) -> npt.NDArray[np.int64]:
    """Up to five distinct annotators per item, drawn by workload; keep the first per_item."""
    workload = rng.lognormal(0.0, 0.8, N_ANNOTATORS)
    workload /= workload.sum()
    picks = rng.choice(N_ANNOTATORS, (N_ITEMS, 5), p=workload)
    while True:
        ordered = np.sort(picks, axis=1)
        clash = (ordered[:, 1:] == ordered[:, :-1]).any(axis=1)
        if not clash.any():
            break
        picks[clash] = rng.choice(N_ANNOTATORS, (int(clash.sum()), 5), p=workload)
    keep = np.arange(5)[None, :] < per_item[:, None]
    return picks[keep]


def _confusion_matrices(rng: np.random.Generator) -> npt.NDArray[np.float64]:
    kind = rng.choice(4, N_ANNOTATORS, p=[0.55, 0.25, 0.12, 0.08])
    accuracy = np.where(
        kind == 0, rng.uniform(0.75, 0.95, N_ANNOTATORS), rng.uniform(0.4, 0.7, N_ANNOTATORS)
    )
    errors = rng.dirichlet(np.ones(N_CLASSES - 1), (N_ANNOTATORS, N_CLASSES))
    confusion = np.empty((N_ANNOTATORS, N_CLASSES, N_CLASSES))
    for true in range(N_CLASSES):
        others = [c for c in range(N_CLASSES) if c != true]
        confusion[:, true, true] = accuracy
        confusion[:, true, others] = (1.0 - accuracy)[:, None] * errors[:, true]
    confusion[kind == 2] = 1.0 / N_CLASSES
    constant = np.flatnonzero(kind == 3)
    confusion[constant] = 0.0
    confusion[constant, :, rng.integers(0, N_CLASSES, constant.size)] = 1.0
    return confusion


def timed(run: Callable[[], T], repeat: int) -> tuple[T, float]:
    """The result of the last run and the best wall time of `repeat` runs."""
    best = float("inf")
    result: T | None = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - start)
    assert result is not None
    return result, best


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def bench_dawid_skene(data: Synthetic, repeat: int) -> None:
    import pandas as pd
    from crowdkit.aggregation import DawidSkene

    warnings.filterwarnings("ignore", module="crowdkit")  # its pandas 3 deprecation notices

    def ours(max_iter: int = 100, tol: float = 1e-5) -> DawidSkeneResult:
        shape = (N_ITEMS, N_ANNOTATORS, N_CLASSES)
        return dawid_skene(
            data.items, data.annotators, data.labels, *shape, max_iter=max_iter, tol=tol
        )

    frame = pd.DataFrame({"task": data.items, "worker": data.annotators, "label": data.labels})
    model, ck_time = timed(lambda: DawidSkene().fit(frame), 1)
    ck_labels = model.labels_.sort_index().to_numpy()
    ck_iterations = len(model.loss_history_)
    fitted, lw_time = timed(ours, repeat)
    # tol = -inf: exactly crowd-kit's number of iterations, to compare like with like.
    same_count, same_time = timed(lambda: ours(ck_iterations, -np.inf), repeat)
    majority = majority_vote(data.items, data.labels, N_ITEMS, N_CLASSES, ties="random")

    print("\nDawid-Skene. Both stop when the per-annotation gain of their objective is < tol=1e-5,")
    print("or after n_iter=100 (crowd-kit's defaults); crowd-kit's objective is its ELBO,")
    print("labelwise's the log-likelihood, which flattens sooner. The last row runs labelwise")
    print("for exactly as many iterations as crowd-kit took.")
    rows = [
        ("crowd-kit 1.4.2 DawidSkene", ck_time, ck_iterations, np.mean(ck_labels == data.truth)),
        ("labelwise to convergence", lw_time, fitted.n_iterations, accuracy(fitted, data)),
        (
            f"labelwise, {ck_iterations} iterations",
            same_time,
            ck_iterations,
            accuracy(same_count, data),
        ),
    ]
    print(f"  {'':<32}{'time':>9}{'iterations':>12}{'accuracy':>10}")
    for name, seconds, iterations, acc in rows:
        print(f"  {name:<32}{seconds:>8.3f}s{iterations:>12}{acc:>10.4f}")
    agreement = np.mean(same_count.consensus.labels == ck_labels)
    print(f"  labels equal to crowd-kit's at {ck_iterations} iterations: {agreement:.4%}")
    print(f"  (majority vote, random tie break: {np.mean(majority.labels == data.truth):.4f})")


def accuracy(result: DawidSkeneResult, data: Synthetic) -> float:
    return float(np.mean(result.consensus.labels == data.truth))


def bench_alpha(data: Synthetic, repeat: int) -> None:
    import krippendorff

    ours, ours_time = timed(lambda: krippendorff_alpha(data.items, data.labels, "nominal"), repeat)
    counts = np.bincount(
        data.items * N_CLASSES + data.labels, minlength=N_ITEMS * N_CLASSES
    ).reshape(N_ITEMS, N_CLASSES)
    from_counts, counts_time = timed(
        lambda: float(krippendorff.alpha(value_counts=counts, level_of_measurement="nominal")),
        repeat,
    )
    matrix = np.full((N_ANNOTATORS, N_ITEMS), np.nan)
    matrix[data.annotators, data.items] = data.labels
    before = peak_rss_mb()
    from_matrix, matrix_time = timed(
        lambda: float(krippendorff.alpha(reliability_data=matrix, level_of_measurement="nominal")),
        1,
    )
    print("\nKrippendorff's alpha, nominal")
    print(f"  labelwise, from (unit, value) rows    {ours_time:.4f}s  alpha {ours:.12f}")
    print(f"  krippendorff, from value counts       {counts_time:.4f}s  alpha {from_counts:.12f}")
    print(f"  krippendorff, from a rater matrix     {matrix_time:.4f}s  alpha {from_matrix:.12f}")
    print(
        f"  (rater matrix {matrix.nbytes / 1e6:,.0f} MB; peak RSS {before:,.0f} MB before the "
        f"call, {peak_rss_mb():,.0f} MB after)"
    )
    difference = max(abs(ours - from_counts), abs(ours - from_matrix))
    print(f"  largest |difference| to the package: {difference:.1e}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=3, help="labelwise runs; the best is shown")
    args = parser.parse_args()
    data = generate(args.seed)
    print(
        f"{data.items.size:,} annotations: {N_ITEMS:,} items, {N_ANNOTATORS} annotators, "
        f"{N_CLASSES} classes (seed {args.seed}); best of {args.repeat} runs for labelwise"
    )
    bench_dawid_skene(data, args.repeat)
    bench_alpha(data, args.repeat)


if __name__ == "__main__":
    main()
