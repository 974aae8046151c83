"""`Client(url, token)`: the REST API of a labelwise server, as Python calls."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import httpx
import orjson

from labelwise import __version__
from labelwise.client._errors import ConnectionFailed, error_for
from labelwise.client._models import (
    Applied,
    Assignment,
    ImportResult,
    Project,
    QualityReport,
    Release,
    Scorecard,
    Submitted,
)
from labelwise.client._rows import ndjson_batches
from labelwise.client._spec import spec_body
from labelwise.client._tables import read_dataset, read_pandas

if TYPE_CHECKING:
    import datasets
    import pandas

Params = dict[str, str | bool]
PathLike = str | os.PathLike[str]


class Client:
    """A labelwise server, reached with an API token (`labelwise tokens create NAME` prints one).

    Every call raises a `ClientError` subclass when the server refuses it (`NotFound`,
    `Forbidden`, `Invalid`, ...), carrying the server's `detail`, its `errors` and the
    HTTP `status`. Use it as a context manager, or call `close()`, to free its connections.
    """

    def __init__(
        self,
        url: str,
        token: str,
        *,
        timeout: float = 300.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        """`timeout` bounds each wait for the server, in seconds: a large import or release
        is answered only when it is complete."""
        self.url = url.rstrip("/")
        self._http = httpx.Client(
            base_url=f"{self.url}/api/v1",
            headers={
                "authorization": f"Bearer {token.strip()}",
                "user-agent": f"labelwise/{__version__}",
            },
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            transport=transport,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # Projects

    def projects(self) -> list[Project]:
        """The projects the caller can see."""
        return [Project.of(p) for p in self._json("GET", "/projects")]

    def apply(self, spec: Mapping[str, Any] | PathLike) -> Applied:
        """Create the project a spec describes, or bring it in line with the spec: a dict,
        or the path of a YAML or JSON file (its `extends` and `guidelines_file` are read
        beside it). Applying the same spec twice changes nothing."""
        body = self._json("POST", "/projects", json=spec_body(spec))
        return Applied(body["slug"], body["created"], body["changed"])

    def set_member(self, slug: str, username: str, role: str) -> None:
        """Give `username` the `role` (owner, manager, reviewer, annotator, viewer) in the
        project."""
        self._request(
            "PUT", f"/projects/{_part(slug)}/members/{_part(username)}", json={"role": role}
        )

    # Items

    def import_items(
        self, slug: str, rows: Any, *, batch_size: int = 1000, skip_invalid: bool = False
    ) -> ImportResult:
        """Import `rows`: a list or any iterable of dicts, a pandas or polars DataFrame, or a
        `datasets.Dataset` / `IterableDataset`; each row's `id` is its external id, the
        other keys its data.

        The rows stream to the server as one request, `batch_size` rows converted at a time,
        so memory holds one batch, never the whole dataset. All or nothing: on the first bad
        row nothing is imported and `Invalid` names its line (the row's 1-based position) and
        field, unless `skip_invalid`, which imports the others and lists each bad row in
        `skipped`. Re-importing the same rows adds no duplicates.
        """
        body = self._json(
            "POST",
            f"/projects/{_part(slug)}/items",
            params={"skip_invalid": skip_invalid},
            content=ndjson_batches(rows, batch_size),
            headers={"content-type": "application/x-ndjson"},
        )
        return ImportResult.of(body)

    # Export

    def export_rows(self, slug: str, *, consensus: str | None = None) -> Iterator[dict[str, Any]]:
        """Every item with its annotations (and, with `consensus` = majority, dawid-skene or
        weighted, its consensus answers), one dict at a time as the server streams them."""
        params = _params(format="jsonl", consensus=consensus)
        with self._stream(f"/projects/{_part(slug)}/export", params) as response:
            for line in response.iter_lines():
                if line:
                    yield orjson.loads(line)

    def export_to(
        self,
        slug: str,
        path: PathLike,
        *,
        format: str = "jsonl",
        consensus: str | None = None,
        soft: bool = False,
    ) -> Path:
        """Download the project's items (jsonl, csv or parquet) to `path`, replaced only
        once the download is complete."""
        params = _params(format=format, consensus=consensus, soft=soft)
        return self._download(f"/projects/{_part(slug)}/export", params, Path(path))

    def export_dataframe(
        self, slug: str, *, consensus: str | None = None, soft: bool = False
    ) -> pandas.DataFrame:
        """The export as a DataFrame, one row per item: id, external_id, status, one column
        per field, then other_data, annotations, final_answers, discussion and consensus as
        JSON text (as in the Parquet export)."""
        with self._parquet(f"/projects/{_part(slug)}/export", consensus=consensus, soft=soft) as p:
            return read_pandas(p)

    def export_dataset(
        self,
        slug: str,
        *,
        consensus: str | None = None,
        soft: bool = False,
        cache_dir: PathLike | None = None,
    ) -> datasets.Dataset:
        """The export as a Hugging Face Dataset (the columns of `export_dataframe`), kept in
        the `datasets` cache (`cache_dir`, or its default)."""
        with self._parquet(f"/projects/{_part(slug)}/export", consensus=consensus, soft=soft) as p:
            return read_dataset(p, cache_dir)

    # Releases

    def create_release(self, slug: str, name: str, *, method: str = "majority") -> Release:
        """Freeze the finished items' final answers as release `name` (majority,
        dawid-skene or weighted consensus); `Conflict` if the name is taken."""
        body = {"name": name, "method": method}
        return Release.of(self._json("POST", f"/projects/{_part(slug)}/releases", json=body))

    def releases(self, slug: str) -> list[Release]:
        """The project's releases (without their cards)."""
        return [Release.of(r) for r in self._json("GET", f"/projects/{_part(slug)}/releases")]

    def release(self, slug: str, name: str) -> Release:
        """One release, with its dataset card (markdown)."""
        return Release.of(self._json("GET", self._release_path(slug, name)))

    def release_to(
        self,
        slug: str,
        name: str,
        path: PathLike,
        *,
        format: str = "jsonl",
        soft: bool = False,
        annotators: bool = False,
    ) -> Path:
        """Download a release (jsonl, csv, parquet, spacy or conll) to `path`; the same bytes
        every time. `soft` adds label probabilities, `annotators` each annotator's answers."""
        params = _params(format=format, soft=soft, annotators=annotators)
        return self._download(f"{self._release_path(slug, name)}/export", params, Path(path))

    def release_dataframe(
        self, slug: str, name: str, *, soft: bool = False, annotators: bool = False
    ) -> pandas.DataFrame:
        """A release as a DataFrame with typed columns: id, external_id, the fields, then per
        question its answer and `<question>_source` (see docs/sdk.md)."""
        path = f"{self._release_path(slug, name)}/export"
        with self._parquet(path, soft=soft, annotators=annotators) as parquet:
            return read_pandas(parquet)

    def release_dataset(
        self,
        slug: str,
        name: str,
        *,
        soft: bool = False,
        annotators: bool = False,
        cache_dir: PathLike | None = None,
    ) -> datasets.Dataset:
        """A release as a Hugging Face Dataset (the columns of `release_dataframe`)."""
        path = f"{self._release_path(slug, name)}/export"
        with self._parquet(path, soft=soft, annotators=annotators) as parquet:
            return read_dataset(parquet, cache_dir)

    # Labeling

    def next(self, slug: str) -> Assignment | None:
        """The caller's next item to label in the project, leased to them (the same one
        again while the lease lasts); None when there is nothing for them now."""
        response = self._request("POST", f"/projects/{_part(slug)}/next")
        return None if response.status_code == 204 else Assignment.of(response.json())

    def submit(
        self,
        assignment: Assignment | int,
        answers: Mapping[str, Any],
        *,
        time_ms: int | None = None,
    ) -> Submitted:
        """Answer an assignment: `answers` maps question names to values (see the spec's
        question types). A retry with the same answers returns the same annotation."""
        body = {"answers": dict(answers), "time_ms": time_ms}
        return Submitted(**self._json("POST", f"/assignments/{_id(assignment)}/submit", json=body))

    def skip(self, assignment: Assignment | int, reason: str) -> None:
        """Give an assignment back, saying why; the item goes to someone else."""
        self._request("POST", f"/assignments/{_id(assignment)}/skip", json={"reason": reason})

    # Quality

    def quality(self, slug: str) -> QualityReport:
        """The project's quality report: progress, agreement, per question, annotator and
        slice, review estimate, check findings."""
        report: QualityReport = self._json("GET", f"/projects/{_part(slug)}/quality")
        return report

    def scorecard(self, slug: str, username: str) -> Scorecard:
        """One annotator's scorecard: gold accuracy, agreement with the others' consensus and
        with co-annotators, speed, review verdicts, feedback, weekly trend. An annotator may
        read only their own."""
        path = f"/projects/{_part(slug)}/annotators/{_part(username)}"
        card: Scorecard = self._json("GET", path)
        return card

    # HTTP

    def _json(self, method: str, path: str, **options: Any) -> Any:
        return self._request(method, path, **options).json()

    def _request(self, method: str, path: str, **options: Any) -> httpx.Response:
        try:
            response = self._http.request(method, path, **options)
        except httpx.TransportError as error:
            raise ConnectionFailed(f"{method} {self.url}{path}: {_reason(error)}") from None
        if response.is_error:
            raise error_for(response)
        return response

    @contextmanager
    def _stream(self, path: str, params: Params) -> Iterator[httpx.Response]:
        try:
            with self._http.stream("GET", path, params=params) as response:
                if response.is_error:
                    response.read()
                    raise error_for(response)
                yield response
        except httpx.TransportError as error:
            raise ConnectionFailed(f"GET {self.url}{path}: {_reason(error)}") from None

    def _download(self, path: str, params: Params, target: Path) -> Path:
        """Stream to a file beside `target`, moved there once complete."""
        partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
        try:
            with self._stream(path, params) as response, partial.open("wb") as out:
                for chunk in response.iter_bytes():
                    out.write(chunk)
            os.replace(partial, target)
        finally:
            partial.unlink(missing_ok=True)
        return target

    @contextmanager
    def _parquet(self, path: str, **options: str | bool | None) -> Iterator[Path]:
        with tempfile.TemporaryDirectory(prefix="labelwise-") as folder:
            target = Path(folder) / "table.parquet"
            yield self._download(path, _params(format="parquet", **options), target)

    def _release_path(self, slug: str, name: str) -> str:
        return f"/projects/{_part(slug)}/releases/{_part(name)}"


def _part(value: str) -> str:
    """A path segment, escaped."""
    return quote(value, safe="")


def _id(assignment: Assignment | int) -> int:
    return assignment.id if isinstance(assignment, Assignment) else assignment


def _params(**values: str | bool | None) -> Params:
    """Query parameters, leaving out those not given (None) and false flags."""
    return {k: v for k, v in values.items() if v is not None and v is not False}


def _reason(error: httpx.TransportError) -> str:
    return str(error) or type(error).__name__
