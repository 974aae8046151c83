"""Array aliases and the two helpers every module of the quality core needs."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.intp]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


def code_count(codes: IntArray, given: int | None = None) -> int:
    """Size of a code axis: `given` when the caller knows it (unused labels count), else max + 1."""
    if given is not None:
        return given
    return int(codes.max()) + 1 if codes.size else 0


def divide(numerator: npt.ArrayLike, denominator: npt.ArrayLike, fill: float) -> FloatArray:
    """numerator / denominator, with `fill` where the denominator is zero."""
    top = np.asarray(numerator, np.float64)
    bottom = np.asarray(denominator, np.float64)
    shape = np.broadcast_shapes(top.shape, bottom.shape)
    result: FloatArray = np.full(shape, fill, np.float64)
    np.divide(top, bottom, out=result, where=bottom != 0.0)
    return result
