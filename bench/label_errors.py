"""Benchmark: suspected label errors by confident learning, against planted errors.

    python bench/label_errors.py [--items 20000] [--classes 5] [--noise 0.05] [--seed 1]
                                 [--multi-label]

A synthetic text-classification set (each class its own topic words among shared filler
words, some texts ambiguous), a share of labels flipped at random (the planted errors). The
built-in baseline (`labelwise.learning.baseline`) scores every item out of fold; labelwise's
confident learning and cleanlab's `find_label_issues(filter_by="confident_learning")` then
each name suspects from the same probabilities. Prints precision and recall of both against
the planted errors, their agreement, and the time each part took.

`--multi-label`: each text has one or more of the classes as tags (each tag's topic words in
it); the planted errors toggle one tag of an item (given where it is not, or left out). The
baseline learns a tag at a time, as the `model_disagreement` check does, and cleanlab's
`multilabel_classification.filter.find_label_issues` gets the per-tag probabilities;
precision and recall count items.
"""

from __future__ import annotations

import argparse
import random
import time

import numpy as np
from cleanlab.filter import find_label_issues
from cleanlab.multilabel_classification.filter import find_label_issues as find_multilabel_issues

from labelwise.learning.baseline import out_of_fold
from labelwise.learning.label_errors import suspects
from labelwise.services.checks.model_disagreement import HAS, LACKS

FILLER = [f"w{n}" for n in range(400)]


def synthetic(
    items: int, classes: int, noise: float, seed: int
) -> tuple[list[str], list[str], list[bool]]:
    """Texts, their (noisy) labels, and which labels were flipped."""
    rng = random.Random(seed)
    topics = [[f"c{c}t{n}" for n in range(30)] for c in range(classes)]
    texts, labels, flipped = [], [], []
    for _ in range(items):
        truth = rng.randrange(classes)
        other = rng.randrange(classes)  # an ambiguous text borrows another topic's words
        words = rng.choices(topics[truth], k=4) + rng.choices(topics[other], k=rng.randint(0, 2))
        words += rng.choices(FILLER, k=12)
        rng.shuffle(words)
        label = truth
        if rng.random() < noise:
            label = rng.choice([c for c in range(classes) if c != truth])
        texts.append(" ".join(words))
        labels.append(f"class{label}")
        flipped.append(label != truth)
    return texts, labels, flipped


def synthetic_tags(
    items: int, classes: int, noise: float, seed: int
) -> tuple[list[str], list[set[int]], list[bool]]:
    """Texts, their (noisy) tag sets, and which items had a tag toggled."""
    rng = random.Random(seed)
    topics = [[f"c{c}t{n}" for n in range(30)] for c in range(classes)]
    texts, tags, flipped = [], [], []
    for _ in range(items):
        truth = {c for c in range(classes) if rng.random() < 0.3} or {rng.randrange(classes)}
        words = [w for c in sorted(truth) for w in rng.choices(topics[c], k=4)]
        words += rng.choices(FILLER, k=12)
        rng.shuffle(words)
        given = set(truth)
        if rng.random() < noise:
            given ^= {rng.randrange(classes)}
        if not given:  # a tag left out was the only one: give another instead
            given = {rng.choice([c for c in range(classes) if c not in truth])}
        texts.append(" ".join(words))
        tags.append(given)
        flipped.append(given != truth)
    return texts, tags, flipped


def multi_label(options: argparse.Namespace) -> None:
    texts, tags, flipped = synthetic_tags(
        options.items, options.classes, options.noise, options.seed
    )
    planted = {i for i, wrong in enumerate(flipped) if wrong}
    started = time.perf_counter()
    # a tag at a time: out_of_fold orders its two classes "given" < "left out"
    scored = [
        out_of_fold(texts, [HAS if c in t else LACKS for t in tags]) for c in range(options.classes)
    ]
    trained = time.perf_counter() - started
    assert all(s is not None for s in scored)
    started = time.perf_counter()
    ours = {s.index for one in scored if one is not None for s in suspects(one)}
    ours_s = time.perf_counter() - started
    given = np.column_stack([one.probabilities[:, 0] for one in scored if one is not None])
    started = time.perf_counter()
    mask = find_multilabel_issues([sorted(t) for t in tags], given, filter_by="confident_learning")
    theirs = set(np.flatnonzero(mask).tolist())
    theirs_s = time.perf_counter() - started
    print(
        f"{options.items:,} items, {options.classes} tags, {len(planted)} items with a toggled "
        f"tag ({options.noise:.0%}); a model per tag, out of fold, in {trained:.1f} s"
    )
    report(ours, ours_s, theirs, theirs_s, planted)


def report(
    ours: set[int], ours_s: float, theirs: set[int], theirs_s: float, planted: set[int]
) -> None:
    print(f"{'':24}{'suspects':>9}{'precision':>10}{'recall':>8}{'seconds':>9}")
    for name, found, seconds in (("labelwise", ours, ours_s), ("cleanlab 2.9", theirs, theirs_s)):
        precision, recall = precision_recall(found, planted)
        print(f"{name:24}{len(found):>9}{precision:>10.3f}{recall:>8.3f}{seconds:>9.3f}")
    same = len(ours & theirs) / max(len(ours | theirs), 1)
    print(f"the two name the same items: Jaccard {same:.3f}")


def precision_recall(found: set[int], planted: set[int]) -> tuple[float, float]:
    hits = len(found & planted)
    return hits / max(len(found), 1), hits / max(len(planted), 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=20_000)
    parser.add_argument("--classes", type=int, default=5)
    parser.add_argument("--noise", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--multi-label", action="store_true", help="tags instead of one class")
    options = parser.parse_args()
    if options.multi_label:
        multi_label(options)
        return
    texts, labels, flipped = synthetic(options.items, options.classes, options.noise, options.seed)
    planted = {i for i, wrong in enumerate(flipped) if wrong}
    started = time.perf_counter()
    scored = out_of_fold(texts, labels)
    assert scored is not None
    trained = time.perf_counter() - started
    started = time.perf_counter()
    ours = {s.index for s in suspects(scored)}
    ours_s = time.perf_counter() - started
    started = time.perf_counter()
    mask = find_label_issues(scored.labels, scored.probabilities, filter_by="confident_learning")
    theirs = set(np.flatnonzero(mask).tolist())
    theirs_s = time.perf_counter() - started
    accuracy = float((scored.probabilities.argmax(axis=1) == scored.labels).mean())
    print(
        f"{options.items:,} items, {options.classes} classes, {len(planted)} planted errors "
        f"({options.noise:.0%}); baseline out of fold in {trained:.1f} s, "
        f"out-of-fold accuracy against the noisy labels {accuracy:.3f}"
    )
    report(ours, ours_s, theirs, theirs_s, planted)


if __name__ == "__main__":
    main()
