"""Benchmark: active learning (`workflow.order: uncertainty`) against random order.

    python bench/active_learning.py [--batch 25] [--rounds 16] [--repeats 5]

Real text that a PyPI package ships: the English ChatterBot corpus (`chatterbot-corpus`, a
test dependency), one document per conversation (the question and its answers), labelled with
its file's category; the categories with at least 40 conversations (seven, 1,754 documents).
A third is held out to measure accuracy. Both strategies start from the same random batch;
each round trains the built-in baseline on the labels so far, measures it, and asks for the
next batch: the least sure items (`labelwise.learning.uncertainty`, what the background process
uses) or random ones. Prints both learning curves, averaged over seeds.
"""

from __future__ import annotations

import argparse
import random
from importlib import resources

import numpy as np
import yaml

from labelwise.learning.baseline import fit
from labelwise.learning.uncertainty import least_confidence

MIN_CONVERSATIONS = 40


def corpus() -> tuple[list[str], list[str]]:
    texts, labels = [], []
    folder = resources.files("chatterbot_corpus") / "data" / "english"
    for path in sorted(folder.iterdir(), key=lambda p: p.name):
        if not path.name.endswith(".yml"):
            continue
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        conversations = data.get("conversations") or []
        if len(conversations) < MIN_CONVERSATIONS:
            continue
        for conversation in conversations:
            lines = conversation if isinstance(conversation, list) else [conversation]
            texts.append(" ".join(str(line) for line in lines))
            labels.append(path.name.removesuffix(".yml"))
    return texts, labels


def accuracy(train_x: list[str], train_y: list[str], test_x: list[str], test_y: list[str]) -> float:
    if len(set(train_y)) < 2:
        return float(np.mean([label == train_y[0] for label in test_y]))
    model = fit(train_x, train_y)
    return float(np.mean(model.predict(np.asarray(test_x, dtype=object)) == np.asarray(test_y)))


def curve(
    texts: list[str],
    labels: list[str],
    pool: list[int],
    test: list[int],
    first: list[int],
    batch: int,
    rounds: int,
    active: bool,
    rng: random.Random,
) -> list[float]:
    chosen, rest = list(first), [i for i in pool if i not in set(first)]
    test_x, test_y = [texts[i] for i in test], [labels[i] for i in test]
    scores = []
    for _ in range(rounds):
        train_x, train_y = [texts[i] for i in chosen], [labels[i] for i in chosen]
        scores.append(accuracy(train_x, train_y, test_x, test_y))
        doubt = least_confidence(train_x, train_y, [texts[i] for i in rest]) if active else None
        if doubt is None:
            picked = rng.sample(range(len(rest)), batch)
        else:
            picked = list(np.argsort(-doubt, kind="stable")[:batch])
        chosen += [rest[j] for j in picked]
        rest = [i for j, i in enumerate(rest) if j not in set(picked)]
    return scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch", type=int, default=25)
    parser.add_argument("--rounds", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=5)
    options = parser.parse_args()
    texts, labels = corpus()
    curves: dict[str, list[list[float]]] = {"uncertainty": [], "random": []}
    for seed in range(options.repeats):
        rng = random.Random(seed)
        order = list(range(len(texts)))
        rng.shuffle(order)
        test, pool = order[: len(order) // 3], order[len(order) // 3 :]
        first = pool[: options.batch]
        for name in curves:
            run = curve(
                texts,
                labels,
                pool,
                test,
                first,
                options.batch,
                options.rounds,
                name == "uncertainty",
                random.Random(seed + 100),
            )
            curves[name].append(run)
    classes = len(set(labels))
    print(
        f"ChatterBot corpus: {len(texts)} documents, {classes} categories; "
        f"held-out accuracy of the baseline, mean of {options.repeats} seeds"
    )
    print(f"{'labels':>7}{'uncertainty':>13}{'random':>9}")
    for n in range(options.rounds):
        active = np.mean([run[n] for run in curves["uncertainty"]])
        passive = np.mean([run[n] for run in curves["random"]])
        print(f"{(n + 1) * options.batch:>7}{active:>13.3f}{passive:>9.3f}")


if __name__ == "__main__":
    main()
