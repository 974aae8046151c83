"""A folder of images as import input: which files are images, in which order, of what kind.

The walk is recursive and sorted at every level, so the same folder always gives the same
items in the same order. Hidden files and folders (names starting with ".", such as .git or
the ._photo.jpg files macOS leaves) and symbolic links to folders are passed over. A file is
taken by its extension; what it holds is then told by its first bytes, never by its name,
since the bytes are what a browser will be handed.
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
    """Every visible file under `folder` (but `exclude`), sorted by name at each level."""
    excluded = exclude.resolve() if exclude is not None else None
    for top, dirs, files in os.walk(folder, onerror=_raise):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        base = Path(top)
        for name in sorted(files):
            path = base / name
            if name.startswith(".") or (excluded is not None and path.resolve() == excluded):
                continue
            relative = path.relative_to(folder).as_posix()
            yield FolderEntry(relative, path, path.suffix.lower() in IMAGE_SUFFIXES)


def _raise(error: OSError) -> None:
    raise error


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
