"""An item's image, for the pages' <img> (session cookie) and for scripts (token)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import FileResponse

from labelwise.api.deps import ActorDep, DbDep, SettingsDep
from labelwise.api.v1.discussion import visible_item
from labelwise.errors import NotFound
from labelwise.policies import Action, field_view
from labelwise.services import item_images, projects

router = APIRouter(tags=["items"])


@router.get(
    "/projects/{slug}/items/{item_id}/files/{field}",
    response_class=FileResponse,
    responses={200: {"description": "the image", "content": {"image/*": {}}}},
)
def item_file(
    slug: str, item_id: int, field: str, db: DbDep, actor: ActorDep, settings: SettingsDep
) -> FileResponse:
    """The image file in the item's image field `field`, seen by whoever may see the item
    (annotators: items handed to them) and the field (`visible_to`)."""
    project, role = visible_item(db, actor, slug, item_id, Action.VIEW_PROJECT)
    spec = projects.spec_of(project)
    if not field_view(actor, role, spec).shows(field):
        raise NotFound(f"the project has no image field {field!r}")  # as if it had none
    path, media_type = item_images.item_image(db, settings.data_dir, project, spec, item_id, field)
    # The item's members only: no shared cache may keep it.
    return FileResponse(path, media_type=media_type, headers={"cache-control": "private"})
