"""The project dashboard: its figures on a small known project, the page's charts and tables,
who may see it, and the quality snapshot's life (stale, recomputed)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, event, select, update

from labelwise.db.engine import Database
from labelwise.db.models import Annotation, DashboardCount, Item, Project
from labelwise.policies import Role
from labelwise.services import guidelines
from labelwise.services.reporting import dashboard, dashboard_quality
from labelwise.services.reporting.dashboard_work import time_on_item
from tests.conftest import make_token
from tests.teams import Team
from tests.test_web import log_in

DAY_ONE, DAY_TWO = datetime(2026, 11, 1, 10, tzinfo=UTC), datetime(2026, 11, 2, 10, tzinfo=UTC)
# (annotator, label, time_ms) in the order they label: each item is labeled by ann, then bob.
WORK = [
    ("ann", "billing", 1000),
    ("bob", "billing", 500),
    ("ann", "billing", 2000),
    ("bob", "tech", 600),
    ("ann", "tech", 3000),
    ("bob", "tech", 700),
    ("ann", "billing", 4000),
]


def _label(team: Team, who: str, label: str, time_ms: int) -> int:
    lease = team.next(who)
    assert lease is not None
    body = {"answers": {"team": label}, "time_ms": time_ms}
    answer = team.post(who, f"/api/v1/assignments/{lease['assignment_id']}/submit", body)
    assert answer.status_code == 200, answer.text
    return int(answer.json()["annotation_id"])


@pytest.fixture
def team(client: TestClient, db: Database) -> Team:
    """4 items, overlap 2, every answer reviewed: ann labels all 4, bob the first 3; items 1-2
    under guideline version 1, items 3-4 under version 2. Ann's work is dated day one, bob's
    day two, and the items done day two."""
    team = Team(client, db, 4, overlap=2, review={"policy": "all"})
    for name, role in [
        ("olga", Role.OWNER),
        ("ann", Role.ANNOTATOR),
        ("bob", Role.ANNOTATOR),
        ("rita", Role.REVIEWER),
        ("vic", Role.VIEWER),
    ]:
        team.member(name, role)
    team.tokens["out"] = make_token(db, "out")
    guidelines.publish(db, team.project.id, "# Rules", "first", None)
    made: dict[str, list[int]] = {"ann": [], "bob": []}
    for step, (who, label, time_ms) in enumerate(WORK):
        if step == 4:
            guidelines.publish(db, team.project.id, "# Rules, again", "second", None)
        made[who].append(_label(team, who, label, time_ms))
    for verdict in ["accept", "accept", "reject"]:
        lease = team.next("rita", "review/")
        assert lease is not None
        path = f"/api/v1/assignments/{lease['assignment_id']}/verdict"
        body = {"verdict": verdict, "feedback": "not billing"}
        assert team.post("rita", path, body).status_code == 200
    with db.write() as session:
        for who, moment in [("ann", DAY_ONE), ("bob", DAY_TWO)]:
            session.execute(
                update(Annotation).where(Annotation.id.in_(made[who])).values(created_at=moment)
            )
        session.execute(
            update(Item).where(Item.status == "done").values(done_at=DAY_TWO.replace(hour=12))
        )
    return team


def _board(team: Team, who: str = "olga") -> Any:
    answer = team.client.get("/api/v1/projects/t/dashboard", headers=team.auth(who))
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_work_figures_match_the_known_project(team: Team) -> None:
    work = _board(team)["work"]
    assert work["items"] == 4 and sum(work["by_status"].values()) == 4
    done = work["by_status"].get("done", 0)
    days = {row["day"]: row for row in work["days"]}
    assert days["2026-11-01"]["annotations"] == 4 and days["2026-11-01"]["items_done"] == 0
    assert days["2026-11-02"]["annotations"] == 3
    assert days["2026-11-02"]["items_done"] == days["2026-11-02"]["done_so_far"] == done
    assert sum(row["reviews"] for row in work["days"]) == 3
    people = {row["annotator"]: row for row in work["annotators"]}
    assert [row["annotator"] for row in work["annotators"]] == ["ann", "bob"]  # busiest first
    assert people["ann"]["by_day"] == {"2026-11-01": 4}
    assert people["bob"]["by_day"] == {"2026-11-02": 3}
    # nearest rank: ann 1000 2000 3000 4000, bob 500 600 700
    assert people["ann"]["time"] == {"timed": 4, "median_ms": 2000, "p90_ms": 4000}
    assert people["bob"]["time"] == {"timed": 3, "median_ms": 600, "p90_ms": 700}
    assert work["time"] == {"timed": 7, "median_ms": 1000, "p90_ms": 4000}
    assert work["verdicts"] == {"accept": 2, "reject": 1}
    assert work["question_types"] == ["rating", "single_label"]
    assert work["checks"] == {}


def test_quality_figures_match_the_quality_report(team: Team) -> None:
    board = _board(team)
    assert board["quality_current"] is True
    quality = board["quality"]
    balance = {row["question"]: row for row in quality["balance"]}["team"]
    assert balance["labels"] == ["billing", "tech"] and balance["answers"] == [4, 3]
    # items t-0, t-2 came by email, t-1, t-3 by chat
    assert balance["slices"]["channel"] == {"email": [2, 2], "chat": [2, 1]}
    report = team.client.get("/api/v1/projects/t/quality", headers=team.auth("olga")).json()
    expected = {q["name"]: q for q in report["questions"]}["team"]
    shown = {q["question"]: q for q in quality["agreement"]}["team"]
    assert [v["version"] for v in shown["versions"]] == [1, 2]
    assert [v["agreement"]["value"] for v in shown["versions"]] == [
        v["agreement"] for v in expected["versions"]
    ]
    assert [v["annotations"] for v in shown["versions"]] == [4, 3]
    assert quality["gold"] == []


def test_the_page_draws_each_chart_with_its_table(client: TestClient, team: Team) -> None:
    log_in(client, "olga")
    page = client.get("/projects/t/dashboard")
    assert page.status_code == 200
    html = page.text
    assert "unsafe-inline" not in page.headers["content-security-policy"]
    assert not re.search(r"<script|\sstyle\s*=|<style", html, re.IGNORECASE)
    drawn = html.count("<svg ")
    assert drawn >= 8 and html.count("<details>") == drawn  # each chart has its table
    assert html.count('<figure class="chart-figure">') == drawn + html.count("Nothing yet.")
    assert '<th scope="row">2026-11-01</th><td>0</td>' in html  # items done per day
    assert re.search(r'<th scope="row">ann</th><td>4</td>', html)  # annotations per annotator
    assert re.search(r'<th scope="row">accept</th><td>2</td>', html)  # review verdicts
    assert re.search(r'<th scope="row">email</th><td>2</td><td>2</td>', html)  # by channel
    assert "Time on item" in html and "nothing has changed since" in html
    project = client.get("/projects/t").text
    assert 'href="/projects/t/dashboard"' in project


def test_who_may_see_the_dashboard(client: TestClient, team: Team) -> None:
    for who, expected in [("olga", 200), ("rita", 200), ("vic", 200), ("ann", 403), ("out", 404)]:
        client.cookies.clear()
        token = log_in(client, who)
        assert client.get("/projects/t/dashboard").status_code == expected, who
        asked = client.post(
            "/projects/t/dashboard/recompute", data={"csrf_token": token}, follow_redirects=False
        )
        assert asked.status_code == (303 if expected == 200 else expected), who
        api = client.get("/api/v1/projects/t/dashboard", headers=team.auth(who))
        assert api.status_code == expected, who
    client.cookies.clear()
    log_in(client, "ann")
    assert 'href="/projects/t/dashboard"' not in client.get("/projects/t").text
    client.cookies.clear()
    answer = client.get("/projects/t/dashboard", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"].startswith("/login")


def test_a_big_project_shows_its_last_figures_and_when(
    client: TestClient, team: Team, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Above the inline limit the page never computes: it shows the snapshot, says the project
    changed since, and recomputes when asked (after answering)."""
    monkeypatch.setattr(dashboard_quality, "INLINE_ANNOTATIONS", 0)
    with db.read() as session:
        project = session.get(Project, team.project.id)
    assert project is not None
    assert dashboard.build(db, project).quality is None
    token = log_in(client, "vic")
    page = client.get("/projects/t/dashboard").text
    assert "computed on request" in page and "Recompute the quality figures" in page
    asked = client.post(
        "/projects/t/dashboard/recompute", data={"csrf_token": token}, follow_redirects=False
    )
    assert asked.status_code == 303
    board = dashboard.build(db, project)
    assert board.quality is not None and board.quality_current
    assert board.quality.annotations == 7
    _label(team, "bob", "billing", 800)  # the project moves on
    stale = dashboard.build(db, project)
    assert stale.quality is not None and not stale.quality_current
    assert stale.quality.annotations == 7 and sum(a.annotations for a in stale.work.annotators) == 8
    assert "the project has changed since" in client.get("/projects/t/dashboard").text
    forged = client.post("/projects/t/dashboard/recompute", data={"csrf_token": "x"})
    assert forged.status_code == 403


def test_percentiles_by_nearest_rank() -> None:
    assert time_on_item({}).median_ms is None
    assert time_on_item({100: 1}) == time_on_item({100: 1})
    figures = time_on_item({100: 5, 200: 4, 900: 1})
    assert (figures.timed, figures.median_ms, figures.p90_ms) == (10, 100, 200)


def _counted(db: Database, project_id: int) -> dict[str, dict[tuple[int, str], int]]:
    with db.read() as session:
        rows = session.execute(
            select(
                DashboardCount.kind, DashboardCount.user_id, DashboardCount.bucket, DashboardCount.n
            ).where(DashboardCount.project_id == project_id, DashboardCount.n > 0)
        ).all()
    found: dict[str, dict[tuple[int, str], int]] = {"day": {}, "time": {}, "done": {}}
    for kind, person, bucket, n in rows:
        found[kind][(person, bucket)] = n
    return found


def _recounted(db: Database, project_id: int) -> dict[str, dict[tuple[int, str], int]]:
    """The same counts from the rows themselves, in Python."""
    found: dict[str, dict[tuple[int, str], int]] = {"day": {}, "time": {}, "done": {}}
    with db.read() as session:
        annotations = session.execute(
            select(Annotation.user_id, Annotation.created_at, Annotation.time_ms).where(
                Annotation.project_id == project_id
            )
        ).all()
        done = session.scalars(
            select(Item.done_at).where(Item.project_id == project_id, Item.done_at.is_not(None))
        ).all()
    for person, created, time_ms in annotations:
        day = (person, created.strftime("%Y-%m-%d"))
        found["day"][day] = found["day"].get(day, 0) + 1
        if time_ms is not None:
            digits = len(str(time_ms))
            step = 10 ** max(0, digits - 2)
            bucket = (person, str(time_ms // step * step))
            found["time"][bucket] = found["time"].get(bucket, 0) + 1
    for moment in done:
        day = (0, moment.strftime("%Y-%m-%d"))
        found["done"][day] = found["done"].get(day, 0) + 1
    return found


def test_the_kept_counts_follow_every_change(team: Team, db: Database) -> None:
    """Inserts, the fixture's updates (created_at, done_at), a new time and a cascade delete
    all move the counts the triggers keep, exactly as recounting the rows does."""
    project_id = team.project.id
    assert _counted(db, project_id) == _recounted(db, project_id)
    assert sum(_counted(db, project_id)["day"].values()) == 7
    with db.write() as session:
        session.execute(update(Annotation).where(Annotation.time_ms == 4000).values(time_ms=12345))
        session.execute(delete(Item).where(Item.external_id == "t-0"))
    counted = _counted(db, project_id)
    assert counted == _recounted(db, project_id)
    assert sum(counted["day"].values()) == 5  # t-0's two annotations went with it
    assert any(bucket == "12000" for _, bucket in counted["time"])


def test_review_outcomes_read_their_covering_index(db: Database, team: Team) -> None:
    """Verdicts per day are grouped from the index made for it (migration 0013)."""
    statements: list[tuple[str, Any]] = []

    def keep(conn: Any, cursor: Any, statement: str, params: Any, *args: Any) -> None:
        if "utc_day_1, reviews.verdict" in statement:
            statements.append((statement, params))

    with db.read() as session:
        project = session.get(Project, team.project.id)
    assert project is not None
    event.listen(db.engine, "before_cursor_execute", keep)
    try:
        dashboard.build(db, project)
    finally:
        event.remove(db.engine, "before_cursor_execute", keep)
    assert len(statements) == 1
    statement, params = statements[0]
    with db.engine.connect() as connection:
        if db.is_sqlite:
            plan = str(connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", params).all())
            assert "COVERING INDEX ix_reviews_outcomes" in plan, plan
        else:  # a tiny table is cheaper to scan: ask what the planner would use otherwise
            connection.exec_driver_sql("SET enable_seqscan = off")
            plan = str(connection.exec_driver_sql(f"EXPLAIN {statement}", params).all())
            assert "ix_reviews_outcomes" in plan, plan
