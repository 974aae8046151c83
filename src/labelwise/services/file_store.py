"""Item files kept under the data directory, and the content-addressed store imports fill.

A project's files live in DATA_DIR/files/SLUG/; an image field's value is a path relative to
that folder. Imported images go to its `sha256/` part, named by the SHA-256 of their bytes
(`sha256/3f/3fa9...c1.png`): the same image is kept once however often it is imported, a
re-import writes nothing new, and a file never changes under an item that points at it. A
file is written under a temporary name beside its place and renamed there once complete and
flushed to disk, so a reader never sees half of one.

Item data is untrusted, so a path read from it may not climb out of the project's folder (no
`..`, no absolute paths, no symbolic link leading outside).
"""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path, PurePosixPath

from labelwise.errors import InvalidInput, NotFound

FILES_DIR = "files"
STORE_DIR = "sha256"


def project_folder(data_dir: Path, slug: str) -> Path:
    return data_dir / FILES_DIR / slug


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


class ContentStore:
    """The `sha256/` store of one project's folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def put(self, data: bytes, suffix: str) -> str:
        """Store `data` and return its path relative to the project's folder; InvalidInput
        if the store cannot be written."""
        digest = hashlib.sha256(data).hexdigest()
        relative = f"{STORE_DIR}/{digest[:2]}/{digest}{suffix}"
        target = self.folder / relative
        if target.is_file():
            return relative
        partial = target.with_name(f".{os.getpid()}-{threading.get_ident()}.partial")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            with partial.open("wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(partial, target)
        except OSError as error:  # no space, no permission...
            partial.unlink(missing_ok=True)
            raise InvalidInput(f"{target.parent}: cannot write: {error.strerror}") from None
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        return relative
