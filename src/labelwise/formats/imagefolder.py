"""A folder of images as import input: which files are images, in which order, of what kind.

The walk is recursive and sorted, so the same folder always gives the same items in the same
order; it holds one folder's listing per level at a time. Hidden files and folders (names
starting with ".", such as .git or the ._photo.jpg files macOS leaves) and symbolic links to
folders are passed over. A file is taken by its extension; what it holds is then told by its
first bytes, never by its name, since the bytes are what a browser will be handed.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".gif", ".webp"})
# How many leading bytes tell the image types apart.
HEAD_BYTES = 12
KINDS = "PNG, JPEG, GIF or WebP"


@dataclass(frozen=True)
class FolderEntry:
    """A file under the folder: its path relative to it, with "/" between the parts."""

    relative: str
    path: Path
    is_image: bool


def walk(folder: Path, *, exclude: Path | None = None) -> Iterator[FolderEntry]:
    """Every visible file under `folder` (but `exclude`), in the order of their paths'
    parts: files and folders of a level sorted together by name (`cats/1.png` before
    `dog.png`)."""
    excluded = exclude.resolve() if exclude is not None else None
    for path in _sorted_files(folder):
        if excluded is None or path.resolve() != excluded:
            relative = path.relative_to(folder).as_posix()
            yield FolderEntry(relative, path, path.suffix.lower() in IMAGE_SUFFIXES)


def _sorted_files(folder: Path) -> Iterator[Path]:
    with os.scandir(folder) as listing:
        entries = sorted((e for e in listing if not e.name.startswith(".")), key=_name)
    for entry in entries:
        if entry.is_dir(follow_symlinks=False):
            yield from _sorted_files(Path(entry.path))
        elif entry.is_file():
            yield Path(entry.path)


def _name(entry: os.DirEntry[str]) -> str:
    return entry.name


def image_suffix(head: bytes) -> str | None:
    """The extension for an image starting with `head`; None if it is none of the four."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return ".png"
    if head.startswith(b"\xff\xd8\xff"):
        return ".jpg"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return ".gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return ".webp"
    return None
