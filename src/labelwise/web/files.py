"""Images of items kept under the data directory, served to the project's members.

An image field holds an http(s) URL or a path relative to DATA_DIR/files/SLUG/. Item data
is untrusted, so the path may not climb out of that folder (no `..`, no absolute paths,
no symlink leading outside), and only raster image types are served: never HTML or SVG,
which a browser would run as a page of this site.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path, PurePosixPath

from fastapi import APIRouter
from fastapi.responses import FileResponse

from labelwise.api.deps import DbDep, SettingsDep
from labelwise.errors import NotFound
from labelwise.policies import Action
from labelwise.web.rendering import PageRoute, SessionUser, project_access

router = APIRouter(include_in_schema=False, route_class=PageRoute)

FILES_DIR = "files"
IMAGE_TYPES = frozenset(
    {"image/png", "image/jpeg", "image/gif", "image/webp", "image/avif", "image/bmp"}
)


def resolve_inside(root: Path, relative: str) -> Path:
    """`relative` under `root`, or NotFound if it names anything outside it."""
    parts = PurePosixPath(relative).parts
    if not parts or "\\" in relative or "\0" in relative or ".." in parts or parts[0] == "/":
        raise NotFound("file not found")
    base = root.resolve()
    target = base.joinpath(*parts).resolve()
    if not target.is_relative_to(base) or not target.is_file():
        raise NotFound("file not found")
    return target


@router.get("/projects/{slug}/files/{path:path}")
def item_file(
    slug: str, path: str, db: DbDep, settings: SettingsDep, user: SessionUser
) -> FileResponse:
    access = project_access(db, user, slug, Action.VIEW_PROJECT)
    target = resolve_inside(settings.data_dir / FILES_DIR / access.project.slug, path)
    media_type = mimetypes.guess_type(target.name)[0]
    if media_type not in IMAGE_TYPES:
        raise NotFound("file not found (only PNG, JPEG, GIF, WebP, AVIF and BMP images)")
    return FileResponse(target, media_type=media_type)
