"""The items browser: every filter against the same question asked of the rows directly,
and the cursor, which must hand out every matching item exactly once across short pages."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from labelwise.db.engine import Database
from labelwise.db.models import Annotation, CheckFinding, GoldAnswer, Item, User
from labelwise.policies import Role
from labelwise.services import checks, item_browser
from tests.teams import Team
from tests.test_web import log_in

N_ITEMS = 24


@pytest.fixture
def team(client: TestClient, db: Database) -> Team:
    """24 tickets, two annotators each; ana says tech on every third item she labels and
    answers some too fast; t-3 and t-7 are gold."""
    team = Team(client, db, N_ITEMS, overlap=2, quality={"checks": {"too_fast": {"min_ms": 1000}}})
    team.member("boss", Role.MANAGER)
    team.member("rita", Role.REVIEWER)
    gold = [{"id": f"t-{n}", "answers": {"team": "billing"}} for n in (3, 7)]
    assert team.post("boss", "/api/v1/projects/t/gold", gold).status_code == 200
    for who, count in (("ana", 12), ("ben", 9)):
        team.member(who)
        for n in range(count):
            lease = team.next(who)
            label = "tech" if who == "ana" and n % 3 == 0 else "billing"
            body = {"answers": {"team": label}, "time_ms": 400 if n % 4 == 0 else 4000}
            path = f"/api/v1/assignments/{lease['assignment_id']}/submit"
            assert team.post(who, path, body).status_code == 200
    checks.run(db, team.project)
    return team


def _facts(db: Database) -> dict[str, Any]:
    """Everything the filters ask about, read from the tables row by row."""
    with db.read() as session:
        items = session.execute(select(Item.id, Item.external_id, Item.status, Item.data)).all()
        answers = session.execute(
            select(Annotation.item_id, User.username, Annotation.answers).join(User)
        ).all()
        gold = set(session.scalars(select(GoldAnswer.item_id)))
        found = session.execute(select(CheckFinding.item_id, CheckFinding.check)).all()
    return {"items": items, "answers": answers, "gold": gold, "findings": found}


def _expected(facts: dict[str, Any], keep: Any) -> list[int]:
    return sorted(i.id for i in facts["items"] if keep(i))


def _by_item(facts: dict[str, Any]) -> dict[int, list[tuple[str, dict[str, Any]]]]:
    found: dict[int, list[tuple[str, dict[str, Any]]]] = {}
    for item_id, who, answers in facts["answers"]:
        found.setdefault(item_id, []).append((who, answers))
    return found


def _cases(facts: dict[str, Any]) -> dict[str, list[int]]:
    work = _by_item(facts)
    flagged = {item for item, check in facts["findings"] if check == "too_fast"}

    def labels(i: Any) -> set[str]:
        return {a["team"] for _, a in work.get(i.id, [])}

    return {
        "": _expected(facts, lambda i: True),
        "status=in_progress": _expected(facts, lambda i: i.status == "in_progress"),
        "status=new": _expected(facts, lambda i: i.status == "new"),
        "question=team&label=tech": _expected(facts, lambda i: "tech" in labels(i)),
        "annotator=ben": _expected(facts, lambda i: "ben" in {w for w, _ in work.get(i.id, [])}),
        "slice_field=channel&slice_value=chat": _expected(
            facts, lambda i: i.data["channel"] == "chat"
        ),
        "check=too_fast": _expected(facts, lambda i: i.id in flagged),
        "disagreement=true": _expected(facts, lambda i: len(labels(i)) > 1),
        "disagreement=true&question=team": _expected(facts, lambda i: len(labels(i)) > 1),
        "gold=true": _expected(facts, lambda i: i.id in facts["gold"]),
        "gold=false": _expected(facts, lambda i: i.id not in facts["gold"]),
        "q=KET 1": _expected(facts, lambda i: "ket 1" in i.data["text"]),
        "q=t-2": _expected(facts, lambda i: "t-2" in i.external_id),
        "gold=false&annotator=ana&question=team&label=billing&slice_field=channel"
        "&slice_value=email": _expected(
            facts,
            lambda i: (
                i.id not in facts["gold"]
                and i.data["channel"] == "email"
                and "ana" in {w for w, _ in work.get(i.id, [])}
                and "billing" in labels(i)
            ),
        ),
    }


def _all_pages(team: Team, query: str, limit: int) -> tuple[list[int], int]:
    """Every id the API hands out for `query`, page after page, and how many pages."""
    seen: list[int] = []
    cursor, pages = None, 0
    while True:
        params = f"{query}&limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        answer = team.client.get(f"/api/v1/projects/t/items?{params}", headers=team.auth("rita"))
        assert answer.status_code == 200, (query, answer.text)
        body = answer.json()
        assert len(body["items"]) <= limit
        seen += [i["id"] for i in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            return seen, pages


def test_every_filter_finds_exactly_what_the_rows_say(team: Team, db: Database) -> None:
    cases = _cases(_facts(db))
    for query, expected in cases.items():
        seen, _ = _all_pages(team, query, limit=4)
        assert seen == expected, query
    # The fixture makes each filter tell items apart.
    for query, expected in cases.items():
        if query:
            assert 0 < len(expected) < N_ITEMS, query


def test_short_windows_neither_repeat_nor_miss_an_item(
    team: Team, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(item_browser, "WINDOW", 5)
    monkeypatch.setattr(item_browser, "BATCH", 2)
    for query, expected in _cases(_facts(db)).items():
        for limit in (1, 3, 50):
            seen, pages = _all_pages(team, query, limit)
            assert len(seen) == len(set(seen)), (query, limit)
            assert seen == expected, (query, limit)
            if limit == 50:  # a page examines one window of 5 items at most
                assert pages >= -(-N_ITEMS // 5), query


def test_a_filter_that_names_nothing_is_a_clear_error(team: Team) -> None:
    bad = {
        "status=finished": "status: 'finished' is not one of",
        "question=colour&label=red": "question: the project has no question 'colour'",
        "label=tech": "label: say which question it answers",
        "slice_field=channel": "slice_field, slice_value: give both or neither",
        "slice_field=nope&slice_value=x": "slice_field: the project has no field 'nope'",
        "check=spelling": "check: 'spelling' is not one of",
        "gold=maybe": "gold: 'maybe' is not true or false",
        "cursor=abc": "cursor: not a cursor",
    }
    for query, message in bad.items():
        answer = team.client.get(f"/api/v1/projects/t/items?{query}", headers=team.auth("boss"))
        assert answer.status_code == 422, query
        assert message in answer.text, (query, answer.text)


def test_an_unknown_annotator_matches_nothing(team: Team) -> None:
    answer = team.client.get("/api/v1/projects/t/items?annotator=zed", headers=team.auth("boss"))
    assert answer.json() == {"items": [], "next_cursor": None}


def test_the_page_filters_and_links_each_row_to_its_item(team: Team, db: Database) -> None:
    log_in(team.client, "rita")
    page = team.client.get("/projects/t/items?gold=true&status=&q=")
    assert page.status_code == 200
    for n in (3, 7):
        assert f'href="/projects/t/items/{team.item(f"t-{n}").id}">t-{n}</a>' in page.text
    assert page.text.count('class="item-link"') == 2 and 'id="next-page"' not in page.text
    wrong = team.client.get("/projects/t/items?check=spelling")
    assert wrong.status_code == 422 and "check: &#39;spelling&#39; is not one of" in wrong.text


def test_the_page_carries_the_filters_to_the_next_page(
    team: Team, monkeypatch: pytest.MonkeyPatch
) -> None:
    from labelwise.web import project_pages

    monkeypatch.setattr(project_pages, "ITEMS_PER_PAGE", 2)
    log_in(team.client, "boss")
    first = team.client.get("/projects/t/items?slice_field=channel&slice_value=email&q=")
    assert first.text.count('class="item-link"') == 2
    assert "slice_field=channel&amp;slice_value=email&amp;cursor=" in first.text
    assert "q=&amp;" not in first.text  # empty fields are left out


def test_annotators_may_not_browse(team: Team) -> None:
    answer = team.client.get("/api/v1/projects/t/items?q=ticket", headers=team.auth("ana"))
    assert answer.status_code == 403
    log_in(team.client, "ana")
    assert team.client.get("/projects/t/items").status_code == 403


def test_text_and_slices_with_characters_json_or_like_would_change(
    team: Team, db: Database
) -> None:
    """Quotes, backslashes, `%` and `_` in what is searched, numbers in a slice, a path."""
    from labelwise.services import imports, projects

    rows = [
        (1, {"id": "odd-1", "text": 'Say "hi" to 50%_off \\ now', "channel": 7}, None),
        (2, {"id": "odd-2", "text": "Say hi to 50 off now", "channel": 77}, None),
        (3, {"id": "odd-3", "text": "Ünïcode CAFÉ", "channel": "7"}, None),
    ]
    imports.import_items(db, team.project.id, projects.spec_of(team.project), rows, source="t")
    cases = {
        "q=50%25_off": ["odd-1"],
        "q=%22HI%22": ["odd-1"],
        "q=%5C now": ["odd-1"],
        "q=café": ["odd-3"],
        "q=say hi": ["odd-2"],
        "slice_field=channel&slice_value=7": ["odd-1", "odd-3"],
    }
    for query, expected in cases.items():
        answer = team.client.get(f"/api/v1/projects/t/items?{query}", headers=team.auth("boss"))
        assert [i["external_id"] for i in answer.json()["items"]] == expected, query


def test_a_label_found_in_the_final_answer_alone(client: TestClient, db: Database) -> None:
    """An adjudicator's final answer counts; a rating is found by its number."""
    team = Team(client, db, 3, overlap=2, adjudicate="disagreement")
    team.member("boss", Role.MANAGER)
    for who, answers in (("ana", {"team": "tech", "urgency": 1}), ("ben", {"team": "billing"})):
        team.member(who)
        lease = team.next(who)
        body = {"answers": answers, "time_ms": 2000}
        assert team.post(
            who, f"/api/v1/assignments/{lease['assignment_id']}/submit", body
        ).is_success
    lease = team.post("boss", "/api/v1/projects/t/adjudication/next").json()
    final = {"answers": {"team": "billing", "urgency": 5}, "time_ms": 2000}
    done = team.post("boss", f"/api/v1/assignments/{lease['assignment_id']}/submit", final)
    assert done.status_code == 200, done.text
    for label, expected in (("5", [lease["item"]["id"]]), ("1", [lease["item"]["id"]]), ("3", [])):
        query = f"question=urgency&label={label}"
        answer = client.get(f"/api/v1/projects/t/items?{query}", headers=team.auth("boss"))
        assert [i["id"] for i in answer.json()["items"]] == expected, label
