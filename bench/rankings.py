"""Benchmark: the ranking question's figures on 300,000 synthetic rankings.

    python bench/rankings.py [--items 100000] [--annotators 3] [--responses 4] [--seed 7]

Each item's rankings are a shared "true" order with random swaps of neighbours, so the
annotators agree somewhat. Prints the time to code the answers as the quality report streams
them (`RankingColumns.add_item`), to score every annotator pair (`ranking_pairs`), to count
Borda (`borda_count`), and the whole question report; and the mean tau beside scipy's
`kendalltau` over the first 2,000 pairs.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np
from scipy.stats import kendalltau

from labelwise.quality import borda_count, ranking_pairs
from labelwise.services.reporting.quality_data import RankingColumns, collector_for
from labelwise.services.reporting.question_quality import Context, question_report
from labelwise.spec import parse_spec

T = TypeVar("T")


def timed(run: Callable[[], T]) -> tuple[T, float]:
    start = time.perf_counter()
    result = run()
    return result, time.perf_counter() - start


def rankings(args: argparse.Namespace) -> list[list[list[str]]]:
    rng = np.random.default_rng(args.seed)
    names = [f"reply_{j}" for j in range(args.responses)]
    items = []
    for _ in range(args.items):
        truth = rng.permutation(args.responses)
        given = []
        for _ in range(args.annotators):
            order = truth.copy()
            for swap in rng.integers(0, args.responses - 1, 2):
                order[[swap, swap + 1]] = order[[swap + 1, swap]]
            given.append([names[j] for j in order])
        items.append(given)
    return items


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--annotators", type=int, default=3)
    parser.add_argument("--responses", type=int, default=4)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    names = [f"reply_{j}" for j in range(args.responses)]
    spec = parse_spec(
        {
            "name": "Bench",
            "slug": "bench",
            "fields": [{"name": name, "type": "text"} for name in names],
            "questions": [{"name": "order", "type": "ranking", "responses": names}],
        }
    )
    question = spec.question("order")
    data = rankings(args)
    columns = collector_for(question)
    assert isinstance(columns, RankingColumns)

    def collect() -> None:
        for item, given in enumerate(data):
            columns.add_item(item, [(a, order, 1) for a, order in enumerate(given)])

    _, collect_s = timed(collect)
    units = np.asarray(columns.items, np.intp)
    places = np.asarray(columns.places, np.intp).reshape(-1, args.responses)
    pairs, pairs_s = timed(lambda: ranking_pairs(units, places))
    _, borda_s = timed(lambda: borda_count(units, places, args.items))
    context = Context({}, [f"a{i}" for i in range(args.annotators)], {})
    report, report_s = timed(lambda: question_report(question, columns, context))
    sample = range(min(2000, pairs.tau.size))
    reference = [
        kendalltau(places[pairs.first[i]], places[pairs.second[i]]).statistic for i in sample
    ]
    difference = float(np.max(np.abs(pairs.tau[: len(reference)] - reference)))
    tau: Any = report.agreement["kendall_tau"].value
    print(f"{units.size:,} rankings of {args.responses} responses, {pairs.tau.size:,} pairs")
    print(f"code the answers (add_item): {collect_s:.2f} s")
    print(f"score every pair (ranking_pairs): {pairs_s:.3f} s")
    print(f"Borda count (borda_count): {borda_s:.3f} s")
    print(f"whole question report: {report_s:.2f} s; mean tau {tau:.4f}")
    print(
        f"largest difference from scipy kendalltau over {len(reference):,} pairs: {difference:.1e}"
    )


if __name__ == "__main__":
    main()
