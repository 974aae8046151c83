"""The oracle helper: skip on a laptop without a reference package, fail in CI."""

from __future__ import annotations

import pytest

from tests.quality.conftest import require_oracle


def test_missing_oracle_skips_locally(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LABELWISE_REQUIRE_ALL", raising=False)
    with pytest.raises(pytest.skip.Exception):
        require_oracle("labelwise_no_such_oracle")


def test_missing_oracle_fails_when_everything_is_required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LABELWISE_REQUIRE_ALL", "1")
    with pytest.raises(pytest.fail.Exception, match="labelwise_no_such_oracle"):
        require_oracle("labelwise_no_such_oracle")
