"""The HTML pages: security headers, templates without inline code, roles, upload, files."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from labelwise.db.engine import Database
from labelwise.errors import NotFound
from labelwise.formats import ParsedRow
from labelwise.policies import Role
from labelwise.services import imports, projects
from labelwise.services.file_store import resolve_inside
from labelwise.settings import Settings
from labelwise.spec import parse_spec
from tests.conftest import TEST_PASSWORD, make_token
from tests.teams import Team
from tests.teams import spec as team_spec

WEB = Path(__file__).resolve().parents[1] / "src" / "labelwise" / "web"
CSRF_FIELD = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')


def log_in(client: TestClient, username: str) -> str:
    """Log in through the form; return the page's CSRF token for later posts."""
    match = CSRF_FIELD.search(client.get("/login").text)
    assert match
    form = {"username": username, "password": TEST_PASSWORD, "csrf_token": match.group(1)}
    answer = client.post("/login", data=form, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    found = CSRF_FIELD.search(client.get("/projects").text)
    assert found
    return found.group(1)


@pytest.fixture
def team(client: TestClient, db: Database) -> Team:
    team = Team(client, db, 3, review={"policy": "all"})
    team.member("olga", Role.OWNER)
    team.member("ann", Role.ANNOTATOR)
    team.member("vic", Role.VIEWER)
    team.tokens["out"] = make_token(db, "out")
    return team


def _pages(team: Team) -> list[str]:
    item = team.item("t-0").id
    return [
        "/projects/t",
        "/projects/t/annotate",
        "/projects/t/review",
        "/projects/t/adjudicate",
        "/projects/t/escalations",
        "/projects/t/gaps",
        "/projects/t/dashboard",
        "/projects/t/items",
        f"/projects/t/items/{item}",
        "/projects/t/annotators/ann",
    ]


def test_every_page_sends_the_security_headers(client: TestClient, team: Team) -> None:
    log_in(client, "olga")
    paths = ["/login", "/projects", *_pages(team), "/projects/nope"]
    for path in paths:
        answer = client.get(path)
        assert answer.status_code in (200, 404), (path, answer.status_code)
        csp = answer.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp, path
        assert "frame-ancestors 'none'" in csp, path
        assert answer.headers["x-content-type-options"] == "nosniff", path
        assert answer.headers["referrer-policy"] == "same-origin", path


def test_templates_have_no_inline_script_or_style() -> None:
    templates = sorted((WEB / "templates").glob("*.html"))
    assert len(templates) >= 8
    for template in templates:
        html = template.read_text()
        for tag in re.findall(r"<script\b[^>]*>", html, flags=re.IGNORECASE):
            assert re.search(r'\bsrc="/static/', tag), f"{template.name}: inline script {tag}"
        for body in re.findall(r"<script\b[^>]*>(.*?)</script>", html, flags=re.DOTALL):
            assert not body.strip(), f"{template.name}: inline script code"
        assert not re.search(r"\sstyle\s*=", html, re.IGNORECASE), f"{template.name}: style="
        assert "<style" not in html.lower(), f"{template.name}: <style>"
        assert not re.search(r"\son[a-z]+\s*=", html, re.IGNORECASE), f"{template.name}: on*="


def test_scripts_never_turn_strings_into_html_or_code() -> None:
    """Item data reaches the DOM only as text: no HTML parsing or eval anywhere."""
    scripts = sorted((WEB / "static" / "js").glob("*.js"))
    assert len(scripts) >= 10
    forbidden = re.compile(
        r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function|"
        r"createContextualFragment|setAttribute\(\s*[\"']style"
    )
    for script in scripts:
        assert not forbidden.search(script.read_text()), script.name


def test_anonymous_visitors_are_sent_to_the_login(client: TestClient, team: Team) -> None:
    for path in ["/projects", *_pages(team)]:
        answer = client.get(path, follow_redirects=False)
        assert answer.status_code == 303, path
        assert answer.headers["location"] == f"/login?next={path}"


def test_outsiders_get_404_on_every_project_page(client: TestClient, team: Team) -> None:
    log_in(client, "out")
    for path in _pages(team):
        answer = client.get(path)
        assert answer.status_code == 404, path
        assert "Not found" in answer.text and "text/html" in answer.headers["content-type"]


def test_pages_show_what_the_role_allows(client: TestClient, team: Team) -> None:
    log_in(client, "ann")
    page = client.get("/projects/t").text
    assert "/projects/t/annotate" in page and "Members" not in page
    assert "/export?" not in page and 'action="/projects/t/import"' not in page
    assert "/projects/t/review" not in page and "/escalations" not in page
    assert "/projects/t/gaps" not in page
    for screen in ("review", "adjudicate", "escalations", "gaps", "dashboard", "items"):
        assert client.get(f"/projects/t/{screen}").status_code == 403
    # annotators see only items handed to them
    assert client.get(f"/projects/t/items/{team.item('t-0').id}").status_code == 404
    team.label("ann")
    assert client.get(f"/projects/t/items/{team.item('t-0').id}").status_code == 200


def test_owners_and_viewers_see_their_sections(client: TestClient, team: Team) -> None:
    log_in(client, "olga")
    page = client.get("/projects/t").text
    for part in ("Members", "/export?format=jsonl", 'action="/projects/t/import"', "Review"):
        assert part in page
    assert "Annotators per item" in page and "t-2" in page
    client.cookies.clear()
    log_in(client, "vic")
    page = client.get("/projects/t").text
    assert "Members" in page and "/export?format=csv" in page
    assert 'action="/projects/t/import"' not in page and "/projects/t/annotate" not in page
    assert client.get("/projects/t/annotate").status_code == 403


def test_import_by_upload(client: TestClient, team: Team) -> None:
    token = log_in(client, "olga")
    rows = b'{"id": "u-1", "text": "one"}\n{"id": "u-2", "text": "two"}\n'
    upload = {"file": ("more.jsonl", rows, "application/x-ndjson")}
    answer = client.post("/projects/t/import", data={"csrf_token": token}, files=upload)
    assert answer.status_code == 200 and "2 new, 0 already present" in answer.text
    again = client.post("/projects/t/import", data={"csrf_token": token}, files=upload)
    assert "0 new, 2 already present" in again.text
    bad = {"file": ("bad.jsonl", b'{"text": "ok"}\n{"id": 1\n', "application/x-ndjson")}
    refused = client.post("/projects/t/import", data={"csrf_token": token}, files=bad)
    assert refused.status_code == 422 and "bad.jsonl, line 2" in refused.text
    forged = client.post("/projects/t/import", data={"csrf_token": "x"}, files=upload)
    assert forged.status_code == 403


def test_import_needs_the_import_role(client: TestClient, team: Team) -> None:
    token = log_in(client, "vic")
    upload = {"file": ("x.jsonl", b'{"text": "x"}\n', "application/x-ndjson")}
    answer = client.post("/projects/t/import", data={"csrf_token": token}, files=upload)
    assert answer.status_code == 403


def test_item_images_are_served_only_from_the_project_folder(
    client: TestClient, team: Team, settings: Settings, db: Database
) -> None:
    """Item data names the file, so nothing it says may reach past the project's folder."""
    folder = settings.data_dir / "files" / "t" / "cats"
    folder.mkdir(parents=True)
    (folder / "a.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (folder / "page.html").write_text("<script>alert(1)</script>")
    (settings.data_dir / "outside.png").write_bytes(b"\x89PNG")
    (folder / "link.png").symlink_to(settings.data_dir / "outside.png")
    paths = ["cats/a.png", "cats/page.html", "cats/link.png", "cats/../../outside.png", "nope.png"]
    picture = {"name": "picture", "type": "image", "required": False}
    base = team_spec(review={"policy": "all"})
    spec = parse_spec({**base, "fields": [*base["fields"], picture]})
    projects.apply_spec(db, spec)
    rows = [
        ParsedRow(n, {"id": f"p-{n}", "text": "x", "picture": path}) for n, path in enumerate(paths)
    ]
    imports.import_items(db, team.project.id, spec, rows, source="test")
    log_in(client, "olga")
    answers = [
        client.get(f"/api/v1/projects/t/items/{team.item(f'p-{n}').id}/files/picture")
        for n in range(len(paths))
    ]
    assert answers[0].status_code == 200 and answers[0].headers["content-type"] == "image/png"
    assert [a.status_code for a in answers[1:]] == [404] * (len(paths) - 1), paths


@pytest.mark.parametrize(
    "path", ["../x.png", "a/../../x.png", "/etc/passwd", "a\\..\\x.png", "", "a/\0.png"]
)
def test_paths_that_leave_the_folder_are_refused(tmp_path: Path, path: str) -> None:
    (tmp_path / "x.png").write_bytes(b"")
    with pytest.raises(NotFound):
        resolve_inside(tmp_path / "inner", path)
