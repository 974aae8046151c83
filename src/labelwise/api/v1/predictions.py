"""Model predictions, imported as pre-labels for the labeling page."""

from __future__ import annotations

import tempfile

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from labelwise.api.deps import ActorDep, DbDep, SettingsDep
from labelwise.api.v1.items import SPOOL_IN_MEMORY, body_format, receive
from labelwise.policies import Action, authorize
from labelwise.services import model_backend, predictions, projects

router = APIRouter(tags=["predictions"])


@router.post(
    "/projects/{slug}/predictions",
    response_model=predictions.PredictionsImported,
    responses={413: {"description": "body over the size limit"}, 422: {"description": "bad row"}},
)
async def import_predictions(
    slug: str,
    request: Request,
    db: DbDep,
    actor: ActorDep,
    settings: SettingsDep,
    skip_invalid: bool = Query(False, description="Import the valid rows; report the others."),
) -> predictions.PredictionsImported:
    """Import `{"id", "model": "name@version", "answers", "scores"}` rows as NDJSON
    (`Content-Type: application/x-ndjson`) or a JSON list; one prediction per item and model,
    a re-import replaces it. All or nothing unless `skip_invalid`."""
    project, role = await run_in_threadpool(projects.access, db, slug, actor)
    authorize(actor, Action.IMPORT_PREDICTIONS, role)
    fmt = body_format(request)
    assert fmt.read is not None
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY) as body:
        await receive(request, body, settings.max_upload_bytes)
        body.seek(0)
        return await run_in_threadpool(
            predictions.import_predictions,
            db,
            project.id,
            projects.spec_of(project),
            fmt.read(body),
            source="request body",
            position_name=fmt.position,
            skip_invalid=skip_invalid,
            actor_id=actor.user_id,
        )


class FetchIn(BaseModel):
    url: str = Field(description="The model backend; labelwise posts to {url}/predict.")
    batch_size: int = Field(model_backend.DEFAULT_BATCH, ge=1, le=1000)
    all_items: bool = Field(False, description="Also items someone has started or finished.")


@router.post("/projects/{slug}/predictions/fetch", response_model=model_backend.Prelabeled)
def fetch_predictions(
    slug: str, body: FetchIn, db: DbDep, actor: ActorDep, settings: SettingsDep
) -> model_backend.Prelabeled:
    """Ask a model backend (docs: the model backend protocol) to pre-label the project's items
    nobody has started (or all, with `all_items`), in batches; stores every good prediction and
    names each item it could not use and each batch that failed. A private, loopback or
    link-local backend is refused unless LABELWISE_ALLOW_PRIVATE_URLS is set."""
    project, role = projects.access(db, slug, actor)
    authorize(actor, Action.IMPORT_PREDICTIONS, role)
    return model_backend.prelabel(
        db,
        project,
        body.url,
        batch_size=body.batch_size,
        limits=settings.model_limits,
        open_only=not body.all_items,
        actor_id=actor.user_id,
    )
