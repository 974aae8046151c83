"""Validate the quality core on real crowdsourced labels and on a published worked example.

    python bench/validate_quality.py [CROWD_DIR]

CROWD_DIR (default ../shared/data/crowd from the repository root) holds one folder per
dataset with answer.csv (question,worker,answer) and truth.csv (question,truth), from the
collection of Zheng et al., PVLDB 10(5) 2017 (see its SOURCES.md). Accuracy is measured on
the items that have both a truth and at least one answer.
"""

from __future__ import annotations

import argparse
import csv
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from labelwise.quality import (
    UNRESOLVED,
    CodedAnnotations,
    dawid_skene,
    encode,
    krippendorff_alpha,
    label_values,
    majority_vote,
)

REPOSITORY = Path(__file__).resolve().parents[1]
CATEGORICAL = ["product", "dog", "face", "duck"]
# Crowd-Kit (JOSS 2024) on product; the other datasets have no figure in SOURCES.md.
PUBLISHED = {"product": (0.897, 0.940)}
TIE_SEEDS = range(10)

# Krippendorff (2011), 4 observers x 12 units, None where a value is missing, with the
# published alphas.
WORKED_EXAMPLE = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
    [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
]
WORKED_ALPHAS = {"nominal": 0.743, "ordinal": 0.815, "interval": 0.849, "ratio": 0.797}


def read_answers(path: Path) -> Iterator[tuple[str, str, str]]:
    with path.open(newline="") as stream:
        for row in csv.DictReader(stream):
            yield row["question"], row["worker"], row["answer"]


def read_truth(path: Path, coded: CodedAnnotations) -> np.ndarray:
    """Truth label code per item, -1 where the item has no truth."""
    items = {name: code for code, name in enumerate(coded.item_names)}
    labels = {name: code for code, name in enumerate(coded.label_names)}
    truth = np.full(len(items), UNRESOLVED)
    with path.open(newline="") as stream:
        for row in csv.DictReader(stream):
            if row["question"] in items:
                truth[items[row["question"]]] = labels.get(row["truth"], -2)
    return truth


def validate_dataset(folder: Path) -> None:
    coded = encode(read_answers(folder / "answer.csv"))
    truth = read_truth(folder / "truth.csv", coded)
    known = truth != UNRESOLVED
    shape = (len(coded.item_names), len(coded.annotator_names), len(coded.label_names))

    majority = majority_vote(coded.items, coded.labels, shape[0], shape[2])
    tied = majority.tied & known
    right = (majority.labels == truth) & known
    unresolved_wrong = right.sum() / known.sum()
    excluded = right.sum() / (known & ~majority.tied).sum()
    broken = [
        np.mean(
            majority_vote(
                coded.items, coded.labels, shape[0], shape[2], ties="random", seed=s
            ).labels[known]
            == truth[known]
        )
        for s in TIE_SEEDS
    ]
    ds = dawid_skene(coded.items, coded.annotators, coded.labels, *shape)
    ds_accuracy = np.mean(ds.consensus.labels[known] == truth[known])
    alpha = krippendorff_alpha(coded.items, coded.labels, "nominal")

    mv_paper, ds_paper = PUBLISHED.get(folder.name, (None, None))
    print(
        f"\n{folder.name}: {coded.items.size:,} answers, {shape[0]:,} items "
        f"({known.sum():,} with truth), {shape[1]} workers, {shape[2]} classes; "
        f"nominal alpha {alpha:.3f}"
    )
    print(f"  majority vote, ties unresolved counted wrong: {unresolved_wrong:.3f}")
    print(f"  majority vote, tied items excluded:          {excluded:.3f}  ({tied.sum():,} tied)")
    print(
        f"  majority vote, random tie break:             {np.mean(broken):.3f}  "
        f"(seeds 0-{len(TIE_SEEDS) - 1}: {min(broken):.3f}-{max(broken):.3f})"
        + (f"   published {mv_paper:.3f}" if mv_paper else "")
    )
    print(
        f"  Dawid-Skene:                                 {ds_accuracy:.3f}  "
        f"({ds.n_iterations} iterations, {'converged' if ds.converged else 'not converged'})"
        + (f"   published {ds_paper:.3f}" if ds_paper else "")
    )


def validate_numeric(folder: Path) -> None:
    coded = encode(read_answers(folder / "answer.csv"))
    values = label_values(coded.label_names)
    alpha = krippendorff_alpha(coded.items, coded.labels, "interval", values)
    print(f"\n{folder.name}: interval alpha over {coded.items.size:,} answers: {alpha:.3f}")


def validate_worked_example() -> None:
    cells = [
        (unit, value)
        for row in WORKED_EXAMPLE
        for unit, value in enumerate(row)
        if value is not None
    ]
    units, values = [c[0] for c in cells], [c[1] for c in cells]
    print("\nKrippendorff (2011) worked example, 4 coders x 12 units with missing values:")
    for level, published in WORKED_ALPHAS.items():
        alpha = krippendorff_alpha(units, values, level)  # type: ignore[arg-type]
        print(f"  {level:<8} {alpha:.4f}   published {published:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "crowd_dir",
        nargs="?",
        type=Path,
        default=REPOSITORY / ".." / "shared" / "data" / "crowd",
        help="folder with product/, dog/, face/, duck/ (and emotion/)",
    )
    args = parser.parse_args()
    for name in CATEGORICAL:
        validate_dataset(args.crowd_dir / name)
    if (args.crowd_dir / "emotion").is_dir():
        validate_numeric(args.crowd_dir / "emotion")
    validate_worked_example()


if __name__ == "__main__":
    main()
