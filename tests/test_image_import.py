"""A folder of images as items: the walk, the store, metadata, limits, the CLI, and the image
served to whoever may see its item; on SQLite and PostgreSQL, with real PNG files."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from labelwise.cli.main import app
from labelwise.db.engine import Database
from labelwise.db.models import Item, Project
from labelwise.errors import InvalidInput
from labelwise.formats import ParsedRow
from labelwise.policies import Role
from labelwise.services import image_import, imports, projects
from labelwise.services.file_store import ContentStore, project_folder
from labelwise.services.image_import import FolderSummary
from labelwise.settings import Settings
from labelwise.spec import ProjectSpec, parse_spec
from tests.conftest import TEST_PASSWORD, bearer, make_token
from tests.images import GIF, png
from tests.test_serve import _log_in as log_in
from tests.test_serve import running

SPEC: dict[str, Any] = {
    "name": "Photos",
    "slug": "photos",
    "fields": [
        {"name": "photo", "type": "image"},
        {"name": "camera", "type": "metadata"},
    ],
    "questions": [{"name": "animal", "type": "single_label", "labels": ["cat", "dog"]}],
    "workflow": {"overlap": 1},
}
RED, BLUE, GREEN = png(4, 3, (255, 0, 0)), png(2, 2, (0, 0, 255)), png(1, 2, (0, 255, 0))


@pytest.fixture
def project(db: Database) -> Project:
    return projects.apply_spec(db, parse_spec(SPEC)).project


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """Five images (one a copy of another) in folders, a text file, hidden ones."""
    root = tmp_path / "shots"
    files = {
        "b/2.png": BLUE,
        "a/1.png": RED,
        "a.png": GREEN,
        "a/sub/3.gif": GIF,
        "a/same-as-1.jpeg.png": RED,
        "a/notes.txt": b"not an image",
        ".git/x.png": RED,
        "a/._1.png": b"macOS resource fork",
    }
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    return root


def _import(
    db: Database, settings: Settings, project: Project, folder: Path, **options: Any
) -> FolderSummary:
    spec: ProjectSpec = projects.spec_of(project)
    options.setdefault("field_name", image_import.image_field(spec, None))
    options.setdefault("max_bytes", settings.max_image_bytes)
    store = ContentStore(project_folder(settings.data_dir, project.slug))
    return image_import.import_folder(db, project.id, spec, folder, store=store, **options)


def _items(db: Database, project: Project) -> list[tuple[str | None, dict[str, Any]]]:
    with db.read() as session:
        rows = session.execute(
            select(Item.external_id, Item.data)
            .where(Item.project_id == project.id)
            .order_by(Item.id)
        )
        return [(external_id, data) for external_id, data in rows]


def _stored(settings: Settings) -> list[Path]:
    return sorted(p for p in (settings.data_dir / "files").rglob("*") if p.is_file())


def test_one_item_per_image_in_sorted_order_stored_by_content(
    db: Database, settings: Settings, project: Project, folder: Path
) -> None:
    result = _import(db, settings, project, folder)
    assert (result.images, result.other_files) == (5, 1)
    assert (result.summary.created, result.summary.existing) == (5, 0)
    items = _items(db, project)
    assert [external_id for external_id, _ in items] == [
        "a/1.png",
        "a/same-as-1.jpeg.png",
        "a/sub/3.gif",
        "a.png",  # files and folders sorted together, by the parts of their paths
        "b/2.png",
    ]
    folder_of_project = settings.data_dir / "files" / "photos"
    for (external_id, data), original in zip(items, [RED, RED, GIF, GREEN, BLUE], strict=True):
        digest = hashlib.sha256(original).hexdigest()
        suffix = ".gif" if original == GIF else ".png"
        assert data == {"photo": f"sha256/{digest[:2]}/{digest}{suffix}"}, external_id
        assert (folder_of_project / data["photo"]).read_bytes() == original
    # The same bytes are kept once; no temporary file is left behind.
    assert len(_stored(settings)) == 4


def test_reimporting_the_folder_adds_nothing(
    db: Database, settings: Settings, project: Project, folder: Path
) -> None:
    _import(db, settings, project, folder)
    before = {p: p.stat().st_mtime_ns for p in _stored(settings)}
    (folder / "c.png").write_bytes(png(1, 1, (0, 255, 0)))
    again = _import(db, settings, project, folder)
    assert (again.summary.created, again.summary.existing) == (1, 5)
    assert len(_items(db, project)) == 6
    after = {p: p.stat().st_mtime_ns for p in _stored(settings)}
    assert {p: after[p] for p in before} == before  # files already stored are not rewritten


def test_a_file_over_the_limit_is_named_and_nothing_is_imported(
    db: Database, settings: Settings, project: Project, folder: Path
) -> None:
    limit = max(len(RED), len(BLUE), len(GREEN), len(GIF))
    (folder / "b" / "big.png").write_bytes(png(64, 64, (9, 9, 9)) + b"\0" * limit)
    with pytest.raises(InvalidInput) as refused:
        _import(db, settings, project, folder, max_bytes=limit)
    assert str(refused.value) == (
        f"shots, file b/big.png: larger than the limit of {limit} bytes "
        "(LABELWISE_MAX_IMAGE_BYTES); nothing was imported"
    )
    assert _items(db, project) == []
    skipping = _import(db, settings, project, folder, max_bytes=limit, skip_invalid=True)
    assert skipping.summary.created == 5
    assert [(p.position, p.message[:20]) for p in skipping.summary.skipped] == [
        ("b/big.png", "larger than the limi")
    ]


def test_a_file_named_as_an_image_that_is_none_is_refused(
    db: Database, settings: Settings, project: Project, folder: Path
) -> None:
    (folder / "b" / "fake.webp").write_bytes(b"<html><script>alert(1)</script>")
    with pytest.raises(InvalidInput, match=r"shots, file b/fake\.webp: not a PNG, JPEG, GIF"):
        _import(db, settings, project, folder)
    assert _items(db, project) == []


def test_metadata_is_merged_by_file_name(
    db: Database, settings: Settings, project: Project, folder: Path, tmp_path: Path
) -> None:
    sidecar = folder / "meta.csv"  # inside the folder: not counted as another file
    sidecar.write_text("file,camera,priority\na/1.png,nikon,5\nb/2.png,canon,\n")
    result = _import(db, settings, project, folder, metadata=sidecar)
    assert result.other_files == 1
    data = dict(_items(db, project))
    assert data["a/1.png"]["camera"] == "nikon" and "priority" not in data["a/1.png"]
    assert data["b/2.png"]["camera"] == "canon" and "camera" not in data["a/sub/3.gif"]
    with db.read() as session:
        priority = session.scalar(select(Item.priority).where(Item.external_id == "a/1.png"))
    assert priority == 5


@pytest.mark.parametrize(
    ("lines", "error"),
    [
        ("file,camera\na/1.png,x\nnope.png,y\n", "meta.csv, line 3: no image 'nope.png' in shots"),
        ("file,camera\na/1.png,x\na/1.png,y\n", "meta.csv, line 3: 'a/1.png' is named again"),
        ("file,id\na/1.png,x\n", "meta.csv, line 2: 'id' cannot be set here"),
        ("file,photo\na/1.png,x\n", "meta.csv, line 2: 'photo' cannot be set here"),
        ("name,camera\na/1.png,x\n", "meta.csv, line 2: 'file' must name an image"),
    ],
)
def test_bad_metadata_is_refused_with_its_line(
    db: Database,
    settings: Settings,
    project: Project,
    folder: Path,
    tmp_path: Path,
    lines: str,
    error: str,
) -> None:
    sidecar = tmp_path / "meta.csv"
    sidecar.write_text(lines)
    with pytest.raises(InvalidInput) as refused:
        _import(db, settings, project, folder, metadata=sidecar)
    assert str(refused.value).startswith(error)
    assert _items(db, project) == []


def test_the_image_field_is_the_spec_s_or_the_named_one() -> None:
    def spec(*types: str) -> ProjectSpec:
        fields = [{"name": f"f{n}", "type": kind} for n, kind in enumerate(types)]
        questions = [{"name": "q", "type": "text"}]
        return parse_spec({"name": "x", "slug": "x", "fields": fields, "questions": questions})

    assert image_import.image_field(spec("text", "image"), None) == "f1"
    assert image_import.image_field(spec("image", "image"), "f1") == "f1"
    with pytest.raises(InvalidInput, match="no image field: add one"):
        image_import.image_field(spec("text"), None)
    with pytest.raises(InvalidInput, match=r"several image fields \(f0, f1\): name the one"):
        image_import.image_field(spec("image", "image"), None)
    with pytest.raises(
        InvalidInput, match=r"field 'f0': not an image field .*its image fields: f1"
    ):
        image_import.image_field(spec("text", "image"), "f0")


def test_cli_imports_a_folder(
    db: Database, settings: Settings, project: Project, folder: Path, tmp_path: Path
) -> None:
    env = {"LABELWISE_DATA_DIR": str(settings.data_dir), "LABELWISE_DATABASE_URL": db.url}
    runner = CliRunner()
    sidecar = tmp_path / "cameras.jsonl"
    sidecar.write_text('{"file": "a/sub/3.gif", "camera": "leica"}\n')
    first = runner.invoke(
        app, ["import", "photos", str(folder), "--metadata", str(sidecar)], env=env
    )
    assert first.exit_code == 0, first.output
    assert dict(_items(db, project))["a/sub/3.gif"]["camera"] == "leica"
    assert (
        "shots: 5 new, 0 already present, 0 skipped, 1 other files left out "
        "(not gif/jpeg/jpg/png/webp)" in first.output
    )
    again = runner.invoke(app, ["import", "photos", str(folder)], env=env)
    assert "shots: 0 new, 5 already present" in again.output
    small = {**env, "LABELWISE_MAX_IMAGE_BYTES": str(len(GIF))}
    refused = runner.invoke(app, ["import", "photos", str(folder)], env=small)
    assert refused.exit_code == 2
    assert "shots, file a/1.png: larger than the limit" in refused.output
    wrong = runner.invoke(app, ["import", "photos", str(folder), "--field", "camera"], env=env)
    assert wrong.exit_code == 2 and "field 'camera': not an image field" in wrong.output
    one_file = ["import", "photos", str(folder / "b" / "2.png"), "--field", "photo"]
    misplaced = runner.invoke(app, one_file, env=env)
    assert misplaced.exit_code == 2 and "--field: only for a folder of images" in misplaced.output


# --- serving ----------------------------------------------------------------------------------


@pytest.fixture
def people(db: Database, project: Project) -> dict[str, dict[str, str]]:
    """Auth headers of an owner, an annotator, a viewer and an outsider."""
    headers = {name: bearer(make_token(db, name)) for name in ("owner", "annotator", "viewer")}
    for role in headers:
        projects.set_member(db, project, role, Role(role))
    return {**headers, "outsider": bearer(make_token(db, "outsider"))}


@pytest.fixture
def imported(db: Database, settings: Settings, project: Project, folder: Path) -> dict[str, int]:
    """The folder imported; item ids by external id."""
    _import(db, settings, project, folder)
    with db.read() as session:
        rows = session.execute(
            select(Item.external_id, Item.id).where(Item.project_id == project.id)
        )
        return {str(external_id): item_id for external_id, item_id in rows}


def _url(item_id: int, field: str = "photo") -> str:
    return f"/api/v1/projects/photos/items/{item_id}/files/{field}"


def test_images_are_served_to_those_who_may_see_the_item(
    client: TestClient, people: dict[str, dict[str, str]], imported: dict[str, int]
) -> None:
    path = _url(imported["a/1.png"])
    owner = client.get(path, headers=people["owner"])
    assert owner.status_code == 200 and owner.content == RED
    assert owner.headers["content-type"] == "image/png"
    assert owner.headers["cache-control"] == "private"
    assert owner.headers["x-content-type-options"] == "nosniff"
    assert client.get(path, headers=people["viewer"]).content == RED
    outsider = client.get(path, headers=people["outsider"])
    assert outsider.status_code == 404 and outsider.content != RED
    assert client.get(path).status_code == 401
    # An annotator has only the images of items handed to them.
    annotator = people["annotator"]
    assert client.get(path, headers=annotator).status_code == 404
    lease = client.post("/api/v1/projects/photos/next", headers=annotator).json()
    assert lease["item"]["external_id"] == "a/1.png"  # import order
    assert client.get(path, headers=annotator).content == RED
    for external_id, item_id in imported.items():
        if external_id != "a/1.png":
            assert client.get(_url(item_id), headers=annotator).status_code == 404


def test_an_image_field_hidden_from_a_role_is_not_served_to_it(
    client: TestClient, db: Database, people: dict[str, dict[str, str]], imported: dict[str, int]
) -> None:
    hidden = {**SPEC, "fields": [{**SPEC["fields"][0], "visible_to": ["owner"]}, SPEC["fields"][1]]}
    hidden["questions"] = [{"name": "animal", "type": "single_label", "labels": ["cat", "dog"]}]
    projects.apply_spec(db, parse_spec(hidden))
    path = _url(imported["a/1.png"])
    assert client.get(path, headers=people["owner"]).content == RED
    assert (
        client.post("/api/v1/projects/photos/next", headers=people["annotator"]).status_code == 200
    )
    for role in ("annotator", "viewer"):
        answer = client.get(path, headers=people[role])
        assert answer.status_code == 404 and "no image field 'photo'" in answer.text


def test_only_image_fields_holding_files_of_the_project_are_served(
    client: TestClient,
    db: Database,
    settings: Settings,
    project: Project,
    people: dict[str, dict[str, str]],
    imported: dict[str, int],
) -> None:
    owner = people["owner"]
    assert client.get(_url(imported["b/2.png"], "camera"), headers=owner).status_code == 404
    assert client.get(_url(10**6), headers=owner).status_code == 404
    (settings.data_dir / "secret.png").write_bytes(RED)
    (settings.data_dir / "files" / "photos" / "page.html").write_text("<script>1</script>")
    values = ["../../secret.png", "/etc/passwd", "page.html", "https://example.com/a.png"]
    rows = [ParsedRow(n, {"id": f"bad-{n}", "photo": value}) for n, value in enumerate(values)]
    imports.import_items(db, project.id, projects.spec_of(project), rows, source="test")
    with db.read() as session:
        bad = session.scalars(select(Item.id).where(Item.external_id.like("bad-%"))).all()
    assert len(bad) == len(values)
    for item_id in bad:
        assert client.get(_url(item_id), headers=owner).status_code == 404, item_id


def test_an_image_over_real_http(
    db: Database, settings: Settings, project: Project, folder: Path
) -> None:
    """The running server, as a browser reaches it: log in, then fetch the image."""
    _import(db, settings, project, folder)
    make_token(db, "olga")
    projects.set_member(db, project, "olga", Role.OWNER)
    env = {"LABELWISE_DATA_DIR": str(settings.data_dir), "LABELWISE_DATABASE_URL": db.url}
    with running("serve", env) as (base, _):
        browser = log_in(base, "olga", TEST_PASSWORD)
        items = browser.get("/api/v1/projects/photos/items").json()["items"]
        gif = next(i for i in items if i["external_id"] == "a/sub/3.gif")
        answer = browser.get(_url(gif["id"]))
        assert answer.status_code == 200 and answer.content == GIF
        assert answer.headers["content-type"] == "image/gif"
        assert httpx.get(base + _url(gif["id"])).status_code == 401
