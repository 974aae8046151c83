"""Streamed file downloads (exports and releases), answered the same way."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

from fastapi.responses import StreamingResponse

from labelwise.formats import Format


def download(chunks: Iterator[bytes], fmt: Format, stem: str) -> StreamingResponse:
    """`chunks` as the attachment `stem` plus the format's extension.

    The first chunk is made before the 200 goes out, so a problem writing it is still a
    clear 4xx instead of a cut-off file.
    """
    first = next(chunks, b"")
    filename = stem + (fmt.extensions[0] if fmt.extensions else "")
    return StreamingResponse(
        itertools.chain([first], chunks),
        media_type=fmt.media_type,
        headers={"content-disposition": f'attachment; filename="{filename}"'},
    )
