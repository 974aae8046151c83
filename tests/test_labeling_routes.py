"""Next and submit answered by the fast path (API tokens) as FastAPI answers them (sessions).

The routes' behaviour is tested in test_workflow.py and test_authz.py, whose token calls go
through the fast path; these tests hold the two paths to one contract, and check that a
write which has to queue on SQLite does not stop the server from answering anything else.
"""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from labelwise.app import create_app
from labelwise.db.engine import Database
from labelwise.policies import Role
from labelwise.services import accounts
from labelwise.settings import Settings
from tests.teams import Team
from tests.test_web import log_in


@pytest.fixture
def team(client: TestClient, db: Database) -> Team:
    team = Team(client, db, 4, overlap=2)
    team.member("ana")
    team.member("ben")
    team.member("vic", Role.VIEWER)
    return team


def test_token_and_session_callers_get_the_same_answers(team: Team) -> None:
    by_token = team.post("ana", "/api/v1/projects/t/next")
    assert by_token.headers["x-frame-options"] == "DENY"  # the security headers still apply
    csrf = log_in(team.client, "ben")
    session_headers = {"X-CSRF-Token": csrf}
    by_session = team.client.post("/api/v1/projects/t/next", headers=session_headers)
    assert by_token.status_code == by_session.status_code == 200
    token_lease, session_lease = by_token.json(), by_session.json()
    assert token_lease.keys() == session_lease.keys()
    assert token_lease["item"] == session_lease["item"]  # the started item is finished first
    body = {"answers": {"team": "tech"}, "time_ms": 800}
    path = "/api/v1/assignments/{}/submit"
    submitted = team.post("ana", path.format(token_lease["assignment_id"]), body)
    by_session = team.client.post(
        path.format(session_lease["assignment_id"]), json=body, headers=session_headers
    )
    assert submitted.status_code == by_session.status_code == 200
    assert submitted.json().keys() == by_session.json().keys()
    assert by_session.json()["item_status"] == "done"


def test_errors_name_what_is_wrong(team: Team) -> None:
    lease = team.next("ana")
    path = f"/api/v1/assignments/{lease['assignment_id']}/submit"
    wrong = team.post("ana", path, {"answers": {"team": "sales"}})
    assert wrong.status_code == 422 and wrong.json()["detail"].startswith("answers.team")
    malformed = team.post("ana", path, {"answers": "billing", "time_ms": -5})
    assert malformed.status_code == 422
    assert {e.split(":")[0] for e in malformed.json()["errors"]} == {"answers", "time_ms"}
    not_json = team.client.post(path, content=b"{", headers=team.auth("ana"))
    assert not_json.status_code == 422 and "json" in not_json.json()["detail"].lower()
    someone_elses = team.post("ben", path, {"answers": {"team": "tech"}})
    assert someone_elses.status_code == 404  # not theirs: as if it did not exist
    bad_token = team.client.post("/api/v1/projects/t/next", headers={"Authorization": "Bearer x"})
    assert bad_token.status_code == 401 and bad_token.headers["www-authenticate"] == "Bearer"
    viewer = team.post("vic", "/api/v1/projects/t/next")
    assert viewer.status_code == 403
    assert team.post("ana", "/api/v1/projects/nope/next").status_code == 404
    assert team.submit("ana", lease["assignment_id"]).status_code == 200  # nothing was lost


def test_a_queued_sqlite_write_leaves_the_server_answering(
    sqlite_template: Path, tmp_path: Path
) -> None:
    """While another thread holds SQLite's writer lock, next waits on the thread pool."""
    shutil.copy(sqlite_template, tmp_path / "labelwise.db")
    db = Database(f"sqlite:///{tmp_path / 'labelwise.db'}")
    settings = Settings(data_dir=tmp_path / "data", database_url=db.url)
    with TestClient(create_app(settings, db)) as client:
        team = Team(client, db, 2)
        team.member("ana")
        held, release = threading.Event(), threading.Event()

        def hold_the_writer() -> None:
            with db.write():
                held.set()
                release.wait(30)

        holder = threading.Thread(target=hold_the_writer)
        holder.start()
        held.wait(10)
        answers: list[httpx.Response] = []
        asking = threading.Thread(
            target=lambda: answers.append(team.post("ana", "/api/v1/projects/t/next"))
        )
        asking.start()
        time.sleep(0.3)  # the next reaches the server and queues behind the holder
        pages: list[httpx.Response] = []
        paging = threading.Thread(target=lambda: pages.append(client.get("/login")))
        paging.start()
        paging.join(10)  # an event loop blocked by the queued write would never answer
        answered_meanwhile = bool(pages) and not answers and holder.is_alive()
        release.set()
        holder.join(30)
        asking.join(30)
        paging.join(30)
        assert answered_meanwhile and pages[0].status_code == 200
        assert answers[0].status_code == 200 and answers[0].json()["item"]["external_id"] == "t-0"


def test_a_session_ended_on_the_server_is_refused_at_once(team: Team) -> None:
    """The router checks a session's CSRF token and origin like every browser write, keeps
    its caller for a few seconds, and forgets it at once on logout or a new password."""
    csrf = log_in(team.client, "ben")
    headers = {"X-CSRF-Token": csrf}
    assert team.client.post("/api/v1/projects/t/next").status_code == 403  # no CSRF token
    cross_site = {**headers, "Origin": "https://evil.example"}
    assert team.client.post("/api/v1/projects/t/next", headers=cross_site).status_code == 403
    assert team.client.post("/api/v1/projects/t/next", headers=headers).status_code == 200
    team.client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False)
    refused = team.client.post("/api/v1/projects/t/next", headers=headers)
    assert refused.status_code == 401
    csrf = log_in(team.client, "ben")
    headers = {"X-CSRF-Token": csrf}
    assert team.client.post("/api/v1/projects/t/next", headers=headers).status_code == 200
    accounts.set_password(team.db, "ben", "another-password-1")
    assert team.client.post("/api/v1/projects/t/next", headers=headers).status_code == 401
