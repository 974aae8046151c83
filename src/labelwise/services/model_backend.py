"""The model backend protocol: any HTTP model server can pre-label a project's items.

labelwise sends batches of items to `POST {url}/predict`:

    {"project": "tickets",
     "questions": [{"name": "team", "type": "single_label", "labels": ["billing", "tech"]}],
     "items": [{"id": "t-1", "data": {"text": "..."}}, ...]}

and the server answers, for each item, a prediction in the form `predictions import` takes,
or an error of its own:

    {"model": "tfidf@3",
     "predictions": [{"id": "t-1", "answers": {"team": "tech"}, "scores": {"team": 0.93}},
                     {"id": "t-2", "error": "text too long"}]}

(`model` may also be given per prediction.) The items carry only the fields annotators may
see. Every batch has its own timeout; a batch that fails (no answer, not JSON, an HTTP error)
and every item the answer leaves out or refuses are reported, each naming the item and why,
and do not stop the other batches. A URL whose host is a private, loopback or link-local
address is refused unless `LABELWISE_ALLOW_PRIVATE_URLS` is set (`services.safe_urls`).

On demand, a manager names the URL (CLI, API). On import, the spec's `workflow.model_backend`
names it and the background process (`services.background`) sends each new item once.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy import Select, exists, select

from labelwise.db.engine import Database
from labelwise.db.models import Item, Prediction, Project
from labelwise.db.pages import keyset_pages
from labelwise.errors import InvalidInput
from labelwise.formats import ParsedRow
from labelwise.policies import FieldView, Role, hidden_from
from labelwise.services import predictions, safe_urls
from labelwise.services.projects import spec_of
from labelwise.settings import ModelLimits
from labelwise.states import ItemStatus

DEFAULT_BATCH = 32


@dataclass
class Fetched:
    """What the backend answered: rows for `predictions.import_predictions` (an item's
    error as the row's error, so it is reported by item like a bad line), and the batches that
    failed as a whole."""

    rows: list[ParsedRow] = field(default_factory=list)
    failed_batches: list[str] = field(default_factory=list)
    last_item_id: int | None = None  # the highest item id sent, answered or not


def fetch(
    db: Database,
    project: Project,
    url: str,
    *,
    batch_size: int = DEFAULT_BATCH,
    limits: ModelLimits,
    open_only: bool = True,
    unpredicted_after: int | None = None,
) -> Fetched:
    """Ask the backend at `url` for predictions of the project's items (only those nobody has
    started when `open_only`; of those, only the ones after item id `unpredicted_after` that
    have no prediction yet when it is given), `batch_size` items per request."""
    endpoint = url.rstrip("/") + "/predict"
    allow_private = limits.allow_private
    safe_urls.check(endpoint, allow_private=allow_private)  # refused before any item is read
    spec = spec_of(project)
    view = FieldView(hidden_from(spec, Role.ANNOTATOR), Role.ANNOTATOR)  # a model labels
    questions = [
        q.model_dump(exclude_none=True, exclude_defaults=True, include=_KEYS)
        for q in spec.questions
    ]
    fetched = Fetched()
    with safe_urls.client(timeout=limits.timeout, allow_private=allow_private) as client:
        for batch in _batches(db, project.id, open_only, unpredicted_after, batch_size):
            fetched.last_item_id = batch[-1][0]
            body = {
                "project": project.slug,
                "questions": questions,
                "items": [
                    {"id": external_id, "data": view.data(data)} for _, external_id, data in batch
                ],
            }
            try:
                answer = safe_urls.post_json(client, endpoint, body, allow_private=allow_private)
                answer.raise_for_status()
                reply = answer.json()
            except (httpx.HTTPError, ValueError) as error:
                first, last = batch[0][1], batch[-1][1]
                fetched.failed_batches.append(f"items {first}..{last}: {_why(error)}")
                continue
            fetched.rows.extend(
                _rows(reply, [external_id for _, external_id, _ in batch], len(fetched.rows))
            )
    return fetched


@dataclass(frozen=True)
class Prelabeled:
    """The predictions stored (each item's error among `imported.skipped`) and the batches
    the backend failed as a whole."""

    imported: predictions.PredictionsImported
    failed_batches: list[str]
    last_item_id: int | None


def prelabel(
    db: Database,
    project: Project,
    url: str,
    *,
    batch_size: int = DEFAULT_BATCH,
    limits: ModelLimits,
    open_only: bool = True,
    unpredicted_after: int | None = None,
    actor_id: int | None = None,
) -> Prelabeled:
    """Fetch predictions from the backend and store them as pre-labels: every good one, and
    an error for each item the backend refused, left out or answered wrongly."""
    fetched = fetch(
        db,
        project,
        url,
        batch_size=batch_size,
        limits=limits,
        open_only=open_only,
        unpredicted_after=unpredicted_after,
    )
    if not fetched.rows:  # nothing to store: no write transaction (a sweep's usual case)
        return Prelabeled(
            predictions.PredictionsImported(), fetched.failed_batches, fetched.last_item_id
        )
    imported = predictions.import_predictions(
        db,
        project.id,
        spec_of(project),
        fetched.rows,
        source=f"model backend {url}",
        position_name="prediction",
        skip_invalid=True,
        actor_id=actor_id,
    )
    return Prelabeled(imported, fetched.failed_batches, fetched.last_item_id)


_KEYS = {"name", "type", "labels", "min", "max", "field", "responses", "min_choices", "max_choices"}


def _why(error: Exception) -> str:
    if isinstance(error, httpx.TimeoutException):
        return "no answer within the timeout"
    if isinstance(error, httpx.HTTPStatusError):
        return f"the backend answered HTTP {error.response.status_code}"
    if isinstance(error, httpx.HTTPError):
        return f"could not reach the backend ({error})"
    return "the answer is not JSON"


def _rows(reply: Any, asked: Sequence[str], before: int) -> Iterator[ParsedRow]:
    """One row per item asked for: its prediction, its error, or that none came back."""
    predictions = reply.get("predictions") if isinstance(reply, dict) else None
    if not isinstance(predictions, list):
        for n, external_id in enumerate(asked, before + 1):
            yield ParsedRow(n, None, f"item {external_id}: the answer has no 'predictions' list")
        return
    model = reply.get("model")
    by_id = {str(p.get("id")): p for p in predictions if isinstance(p, dict)}
    for n, external_id in enumerate(asked, before + 1):
        prediction = by_id.get(external_id)
        if prediction is None:
            yield ParsedRow(n, None, f"item {external_id}: the backend returned no prediction")
        elif "error" in prediction:
            yield ParsedRow(n, None, f"item {external_id}: the backend says: {prediction['error']}")
        else:
            yield ParsedRow(n, {"model": model, **prediction, "id": external_id})


def _batches(
    db: Database, project_id: int, open_only: bool, unpredicted_after: int | None, size: int
) -> Iterator[list[tuple[int, str, dict[str, Any]]]]:
    if size < 1:
        raise InvalidInput(f"batch size: must be at least 1; got {size}")
    query = select(Item.id, Item.external_id, Item.data).where(
        Item.project_id == project_id, Item.external_id.is_not(None)
    )
    if open_only:
        query = query.where(Item.status == ItemStatus.NEW)
    if unpredicted_after is not None:
        predicted = exists().where(Prediction.item_id == Item.id)
        query = query.where(Item.id > unpredicted_after, ~predicted)

    def read(page: Select[Any], params: Mapping[str, Any]) -> Sequence[Any]:
        with db.read() as session:
            return session.execute(page, params).all()

    for page in keyset_pages(read, query, Item.id, start=0, size=size, last_key=lambda r: r.id):
        yield [(item_id, external_id, data) for item_id, external_id, data in page]
