"""The image an item's image field points at, when it is a file under the data directory.

Only raster image types are served, never HTML or SVG, which a browser would run as a page
of this site; the type is the one the file's extension names (sent with nosniff).
"""

from __future__ import annotations

import mimetypes
from pathlib import Path

from labelwise.db.engine import Database
from labelwise.db.models import Item, Project
from labelwise.errors import NotFound
from labelwise.services.file_store import project_folder, resolve_inside
from labelwise.spec import ProjectSpec

IMAGE_TYPES = frozenset(
    {"image/png", "image/jpeg", "image/gif", "image/webp", "image/avif", "image/bmp"}
)


def item_image(
    db: Database, data_dir: Path, project: Project, spec: ProjectSpec, item_id: int, field: str
) -> tuple[Path, str]:
    """The file and media type of item `item_id`'s image field `field`; NotFound when the
    field is not an image field, the item has no file there (an http(s) URL is not ours to
    serve), or the file is missing or of another type."""
    if not any(f.name == field and f.type == "image" for f in spec.fields):
        raise NotFound(f"the project has no image field {field!r}")
    with db.read() as session:
        item = session.get(Item, item_id)
        if item is None or item.project_id != project.id:
            raise NotFound(f"item {item_id} not found")
        value = item.data.get(field)
    if not isinstance(value, str) or not value.strip():
        raise NotFound(f"item {item_id} has no image in {field!r}")
    target = resolve_inside(project_folder(data_dir, project.slug), value.strip())
    media_type = mimetypes.guess_type(target.name)[0]
    if media_type is None or media_type not in IMAGE_TYPES:
        raise NotFound("file not found (only PNG, JPEG, GIF, WebP, AVIF and BMP images)")
    return target, media_type
