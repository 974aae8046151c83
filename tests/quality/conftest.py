"""Reference implementations used only as test oracles, never by labelwise itself.

A missing oracle skips its tests on a laptop, but CI sets LABELWISE_REQUIRE_ALL=1 and there
it must fail: a green run must mean the figures were checked against the references.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType

import pytest


def require_oracle(module: str) -> ModuleType:
    """Import a reference package, or skip (fail under LABELWISE_REQUIRE_ALL=1) without it."""
    if os.environ.get("LABELWISE_REQUIRE_ALL") != "1":
        found: ModuleType = pytest.importorskip(module)
        return found
    try:
        return importlib.import_module(module)
    except ImportError as error:
        pytest.fail(f"oracle {module!r} is missing ({error}): LABELWISE_REQUIRE_ALL=1")


@pytest.fixture(scope="session")
def krippendorff() -> ModuleType:
    """The `krippendorff` package (alpha from a reliability matrix or value counts)."""
    return require_oracle("krippendorff")


@pytest.fixture(scope="session")
def sklearn_metrics() -> ModuleType:
    """scikit-learn's metrics (cohen_kappa_score, confusion_matrix, ...)."""
    return require_oracle("sklearn.metrics")


@pytest.fixture(scope="session")
def crowdkit() -> ModuleType:
    """crowd-kit's aggregation models (DawidSkene, MajorityVote)."""
    return require_oracle("crowdkit.aggregation")
