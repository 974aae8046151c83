"""Agreement and consensus on rankings: Kendall's tau between annotators, the Borda count.

A ranking of k responses is coded as its places: `places[j]` is where response j stands,
0 for the best. A ranking has no ties, so every one of the k(k-1)/2 pairs of responses is
ordered, and two rankings agree on a pair or reverse it.

Agreement is Kendall's tau (tau-a, equal to tau-b without ties) between two annotators of
the same item: (pairs ordered alike - pairs reversed) / pairs. 1 is the same order, -1 the
reverse, and 0 what two unrelated random orders give on average. Over many items and
annotators it is the mean over every pair of annotators who ranked the same item, each pair
counting once, as Light's kappa averages Cohen's. Why tau and not Krippendorff's alpha on the
places: the places of one ranking are not separate judgements (moving one response moves
another), and alpha would count them as k; nor Kendall's W, which needs the same annotators
on every item, while here they vary.

Consensus is the Borda count: a response gets k-1 points for first place down to 0 for last,
and the consensus orders responses by their mean points. Equal points are a tie, left
unresolved as with votes on labels, never settled by the responses' order in the spec.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from labelwise.quality._arrays import BoolArray, FloatArray, IntArray, code_count, divide


def pair_signs(places: npt.ArrayLike) -> npt.NDArray[np.int8]:
    """Per ranking (row) and pair of responses i < j: +1 if i is placed after j, else -1."""
    rows = np.atleast_2d(np.asarray(places, dtype=np.intp))
    first, second = np.triu_indices(rows.shape[1], k=1)
    after = rows[:, first] > rows[:, second]  # no ties in a ranking: otherwise it is before
    signs: npt.NDArray[np.int8] = after.astype(np.int8) * 2 - 1
    return signs


# Pairs of rankings scored per block, so that their signs never take more than ~100 MB.
_PAIR_BLOCK = 1 << 20


def tau_matrix(places: npt.ArrayLike) -> FloatArray:
    """Kendall's tau between every two of the rankings (rows) of one item."""
    signs = pair_signs(places).astype(np.float64)
    pairs = signs.shape[1]
    if pairs == 0:
        return np.full((signs.shape[0],) * 2, np.nan)
    return np.asarray(signs @ signs.T / pairs, np.float64)


def kendall_tau(first: npt.ArrayLike, second: npt.ArrayLike) -> float:
    """Kendall's tau between two rankings of the same responses, as places."""
    return float(tau_matrix(np.vstack([first, second]))[0, 1])


@dataclass(frozen=True, slots=True)
class RankingPairs:
    """Every two rankings of the same item: their rows (`first` before `second`) and the
    Kendall's tau between them."""

    first: IntArray
    second: IntArray
    tau: FloatArray


def ranking_pairs(items: npt.ArrayLike, places: npt.ArrayLike) -> RankingPairs:
    """Every pair of rankings that share an item, with its tau, vectorised over items.

    `items`: each ranking's item code; `places`: one row of places per ranking.
    """
    units = np.asarray(items, dtype=np.intp)
    rows = np.atleast_2d(np.asarray(places, dtype=np.intp))
    order = np.argsort(units, kind="stable")
    starts = np.flatnonzero(np.r_[True, np.diff(units[order]) != 0]) if units.size else units
    sizes = np.diff(np.append(starts, units.size))
    firsts, seconds = [np.empty(0, np.intp)], [np.empty(0, np.intp)]
    for size in np.unique(sizes[sizes >= 2]).tolist():
        group_starts = starts[sizes == size][:, None]
        first, second = np.triu_indices(size, k=1)
        firsts.append(order[(group_starts + first).ravel()])
        seconds.append(order[(group_starts + second).ravel()])
    first, second = np.concatenate(firsts), np.concatenate(seconds)
    return RankingPairs(first, second, _pair_taus(pair_signs(rows), first, second))


def _pair_taus(signs: npt.NDArray[np.int8], first: IntArray, second: IntArray) -> FloatArray:
    pairs = max(signs.shape[1], 1)
    tau = np.empty(first.size, np.float64)
    for start in range(0, first.size, _PAIR_BLOCK):
        block = slice(start, start + _PAIR_BLOCK)
        agree = signs[first[block]].astype(np.int32) * signs[second[block]]
        tau[block] = agree.sum(axis=1) / pairs
    return tau


def mean_pairwise_tau(items: npt.ArrayLike, places: npt.ArrayLike) -> float:
    """Kendall's tau averaged over every pair of rankings of the same item; NaN with no pair."""
    tau = ranking_pairs(items, places).tau
    return float(tau.mean()) if tau.size else float("nan")


@dataclass(frozen=True, slots=True)
class BordaConsensus:
    """The Borda count per item.

    `points`: each response's mean points (k-1 for first place, 0 for last); `order`: the
    responses best first; `tied`: two responses had equal points (the order is then no
    consensus); `first`: each response's share of first places, a soft label for "best";
    `agreement`: the share of the annotators' ordered pairs that the consensus order keeps,
    (1 + mean tau with it) / 2; NaN for tied items and items without rankings.
    """

    points: FloatArray
    order: IntArray
    tied: BoolArray
    first: FloatArray
    agreement: FloatArray


def borda_count(
    items: npt.ArrayLike, places: npt.ArrayLike, n_items: int | None = None
) -> BordaConsensus:
    """The Borda consensus of every item from its rankings: `places` has one row per
    ranking (its item in `items`) and one column per response."""
    units = np.asarray(items, dtype=np.intp)
    rows = np.atleast_2d(np.asarray(places, dtype=np.intp))
    n, k = code_count(units, n_items), rows.shape[1]
    cells = (units[:, None] * k + np.arange(k)).ravel()  # (item, response), row-major
    # Whole points summed in floats stay exact integers, so equal points are exactly equal.
    sums = np.bincount(cells, weights=((k - 1) - rows).ravel(), minlength=n * k).reshape(n, k)
    firsts = np.bincount(cells, weights=(rows == 0).ravel(), minlength=n * k).reshape(n, k)
    counts = np.bincount(units, minlength=n)
    order = np.argsort(-sums, axis=1, kind="stable").astype(np.intp)
    ranked = np.take_along_axis(sums, order, axis=1)
    tied = (np.diff(ranked, axis=1) == 0).any(axis=1) & (counts > 0)
    consensus_places = np.argsort(order, axis=1)
    taus = (pair_signs(rows).astype(np.float64) * pair_signs(consensus_places[units])).mean(axis=1)
    mean_tau = divide(np.bincount(units, weights=taus, minlength=n), counts, np.nan)
    agreement = np.where(tied, np.nan, (1.0 + mean_tau) / 2.0)
    return BordaConsensus(
        points=divide(sums, counts[:, None], np.nan),
        order=order,
        tied=tied,
        first=divide(firsts, counts[:, None], np.nan),
        agreement=np.asarray(agreement, np.float64),
    )
