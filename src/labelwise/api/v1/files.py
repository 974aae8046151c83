"""An item's image, for the pages' <img> (session cookie) and for scripts (token)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import FileResponse

from labelwise.api.deps import ActorDep, DbDep, SettingsDep
from labelwise.api.v1.discussion import visible_item
from labelwise.policies import Action
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
    (annotators: items handed to them)."""
    project, _ = visible_item(db, actor, slug, item_id, Action.VIEW_PROJECT)
    path, media_type = item_images.item_image(
        db, settings.data_dir, project, projects.spec_of(project), item_id, field
    )
    # The item's members only: no shared cache may keep it.
    return FileResponse(path, media_type=media_type, headers={"cache-control": "private"})
