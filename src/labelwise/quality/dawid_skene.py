"""Dawid-Skene EM: class priors, one confusion matrix per annotator, posteriors as soft labels.

Dawid and Skene (1979). Both EM steps are one sparse product with the (item x (annotator,
given label)) incidence matrix, so an iteration costs O(annotations x classes) in compiled
code and the whole fit stays in float64 log space.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from labelwise.quality._arrays import FloatArray, IntArray, code_count, divide
from labelwise.quality.encoding import vote_counts
from labelwise.quality.voting import Consensus, TiePolicy, decide

# Floor for confusion counts and priors before taking logs, as in crowd-kit, so that a label
# never seen from an annotator is improbable rather than impossible.
_FLOOR = 1e-10


@dataclass(frozen=True, slots=True)
class DawidSkeneResult:
    """The fitted model and its consensus.

    `confusion[w, true, given]` is the probability that annotator w answers `given` when the
    answer is `true` (rows sum to 1); `consensus.probabilities` are the posteriors.
    `log_likelihood` is the log probability of the annotations under the fitted parameters.
    """

    consensus: Consensus
    priors: FloatArray
    confusion: FloatArray
    log_likelihood: float
    n_iterations: int
    converged: bool


def dawid_skene(
    items: npt.ArrayLike,
    annotators: npt.ArrayLike,
    labels: npt.ArrayLike,
    n_items: int | None = None,
    n_annotators: int | None = None,
    n_labels: int | None = None,
    *,
    gold: npt.ArrayLike | None = None,
    tol: float = 1e-5,
    max_iter: int = 100,
    ties: TiePolicy = "unresolved",
    seed: int = 0,
) -> DawidSkeneResult:
    """Fit by EM from majority-vote shares until the log-likelihood per annotation gains < tol.

    `tol=1e-5` and `max_iter=100` are crowd-kit's defaults, so fits are comparable. `gold`
    (one label code per item, -1 where unknown) pins known items' posteriors during the fit.
    """
    if max_iter < 1:
        raise ValueError("max_iter must be at least 1")
    item_codes = np.asarray(items, np.intp)
    annotator_codes = np.asarray(annotators, np.intp)
    label_codes = np.asarray(labels, np.intp)
    if item_codes.size == 0:
        raise ValueError("Dawid-Skene needs at least one annotation")
    n_i = code_count(item_codes, n_items)
    n_w = code_count(annotator_codes, n_annotators)
    k = code_count(label_codes, n_labels)
    cells = annotator_codes * k + label_codes
    ones = np.ones(item_codes.size, np.float64)
    incidence = sp.csr_matrix((ones, (item_codes, cells)), shape=(n_i, n_w * k))
    pinned, pinned_labels = _gold_rows(gold, n_i)

    votes = vote_counts(item_codes, label_codes, n_i, k)
    totals = votes.sum(axis=1, keepdims=True)
    shares = divide(votes, totals, 1.0 / max(k, 1))
    # Posteriors live as a class x item array: reductions over classes then run along
    # contiguous memory, which is several times faster than along rows of five.
    posteriors = np.ascontiguousarray(shares.T)
    _pin(posteriors, pinned, pinned_labels)

    log_likelihood = -np.inf
    iterations = 0
    converged = False
    while not converged and iterations < max_iter:
        iterations += 1
        previous = log_likelihood
        log_priors, log_confusion = _maximise(posteriors, incidence, n_w, k)
        posteriors, log_likelihood = _expect(incidence, log_priors, log_confusion)
        _pin(posteriors, pinned, pinned_labels)
        converged = (log_likelihood - previous) / max(item_codes.size, 1) < tol
    confusion = np.exp(log_confusion).reshape(n_w, k, k).transpose(0, 2, 1)
    return DawidSkeneResult(
        decide(np.ascontiguousarray(posteriors.T), ties=ties, seed=seed),
        np.exp(log_priors),
        np.ascontiguousarray(confusion),
        log_likelihood,
        iterations,
        converged,
    )


def _maximise(
    posteriors: FloatArray, incidence: sp.csr_matrix, n_annotators: int, k: int
) -> tuple[FloatArray, FloatArray]:
    """M-step: log priors, and log P(given | true) with one row per (annotator, given)."""
    priors = np.maximum(posteriors.mean(axis=1), _FLOOR)
    counts = np.maximum(np.asarray(posteriors @ incidence), _FLOOR).reshape(k, n_annotators, k)
    counts /= counts.sum(axis=2, keepdims=True)
    log_confusion = np.log(counts).reshape(k, n_annotators * k).T
    return np.log(priors / priors.sum()), np.ascontiguousarray(log_confusion)


def _expect(
    incidence: sp.csr_matrix, log_priors: FloatArray, log_confusion: FloatArray
) -> tuple[FloatArray, float]:
    """E-step: class x item posteriors, and the log-likelihood they normalise away."""
    joint = np.ascontiguousarray(np.asarray(incidence @ log_confusion).T)
    joint += log_priors[:, None]
    peak = joint.max(axis=0)
    joint -= peak
    np.exp(joint, out=joint)
    evidence = joint.sum(axis=0)
    joint /= evidence
    return joint, float(np.sum(np.log(evidence)) + np.sum(peak))


def _gold_rows(gold: npt.ArrayLike | None, n_items: int) -> tuple[IntArray, IntArray]:
    if gold is None:
        return np.empty(0, np.intp), np.empty(0, np.intp)
    known = np.asarray(gold, np.intp)
    if known.shape != (n_items,):
        raise ValueError("gold must hold one label code (or -1) per item")
    rows = np.flatnonzero(known >= 0)
    return rows, known[rows]


def _pin(posteriors: FloatArray, rows: IntArray, labels: IntArray) -> None:
    if rows.size:
        posteriors[:, rows] = 0.0
        posteriors[labels, rows] = 1.0
