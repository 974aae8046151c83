"""Model predictions, imported as pre-labels for the labeling page."""

from __future__ import annotations

import tempfile

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from labelwise.api.deps import ActorDep, DbDep, SettingsDep
from labelwise.api.v1.items import SPOOL_IN_MEMORY, body_format, receive
from labelwise.policies import Action, authorize
from labelwise.services import predictions, projects

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
