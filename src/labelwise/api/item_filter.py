"""The items browser's filters from a query string, shared by the API and the page.

A browser form sends every field, the empty ones as empty strings: empty means "any".
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query

from labelwise.errors import InvalidInput
from labelwise.services.item_browser import ItemFilter

_YES, _NO = {"true", "yes", "on", "1"}, {"false", "no", "off", "0"}


def _flag(name: str, value: str | None) -> bool | None:
    if not value:
        return None
    if value.lower() in _YES | _NO:
        return value.lower() in _YES
    raise InvalidInput(f"{name}: {value!r} is not true or false")


def _given(value: str | None) -> str | None:
    return value.strip() or None if value is not None else None


def item_filter(
    status: str | None = Query(None, description="new, in_progress, review, ... (item status)"),
    question: str | None = Query(None, description="The question `label` answers."),
    label: str | None = Query(None, description="An annotation or the final answer gives it."),
    annotator: str | None = Query(None, description="Annotated by this username."),
    slice_field: str | None = Query(None, description="A field whose value `slice_value` is."),
    slice_value: str | None = Query(None),
    check: str | None = Query(None, description="Has a finding of this automated check."),
    disagreement: str | None = Query(
        None, description="true: annotators' answers differ (on `question`, or on any)."
    ),
    gold: str | None = Query(None, description="true: gold items only; false: no gold items."),
    pii: str | None = Query(
        None, description="true: only items PII detection marked at import; false: the others."
    ),
    q: str | None = Query(None, description="Text in the external id or a shown field."),
) -> ItemFilter:
    return ItemFilter(
        status=_given(status),
        question=_given(question),
        label=_given(label),
        annotator=_given(annotator),
        slice_field=_given(slice_field),
        slice_value=slice_value if _given(slice_field) else _given(slice_value),
        check=_given(check),
        disagreement=bool(_flag("disagreement", disagreement)),
        gold=_flag("gold", gold),
        pii=_flag("pii", pii),
        text=_given(q),
    )


ItemFilterDep = Annotated[ItemFilter, Depends(item_filter)]
