"""Labeling in Chromium: keyboard only, spans by mouse, and no answer lost to the network."""

from __future__ import annotations

from typing import Any

import orjson

from labelwise.policies import Role
from tests.browser.site import Site, next_item

TEAMS = ["billing", "technical", "account"]


def _spec(slug: str, **extra: Any) -> dict[str, Any]:
    return {
        "name": f"Browser {slug}",
        "slug": slug,
        "fields": [{"name": "text", "type": "text"}, {"name": "channel", "type": "metadata"}],
        "questions": [
            {"name": "team", "type": "single_label", "labels": TEAMS},
            {"name": "urgency", "type": "rating", "min": 1, "max": 5, "required": False},
            *extra.pop("questions", []),
        ],
        **extra,
    }


def _annotations(site: Site, owner: str, slug: str) -> dict[str, list[dict[str, Any]]]:
    """External id -> annotations, from the export, as a script would read them."""
    with site.api(owner) as api:
        export = api.get(f"/projects/{slug}/export", params={"format": "jsonl"})
    assert export.status_code == 200, export.text
    rows = [orjson.loads(line) for line in export.content.splitlines()]
    return {row["external_id"]: row["annotations"] for row in rows}


def test_an_annotator_labels_20_items_by_keyboard_alone(site: Site) -> None:
    rows = [
        {"id": f"k-{i:02}", "text": f"ticket number {i}", "channel": "email"} for i in range(24)
    ]
    slug = site.project(_spec("keys"), rows)
    site.member(slug, "keys-owner", Role.OWNER)
    site.member(slug, "kim", Role.ANNOTATOR)
    page = site.page("kim", f"/projects/{slug}/annotate")
    expected: dict[str, str] = {}
    assignment = None
    for n in range(20):
        assignment = next_item(page, assignment)
        label = page.inner_text("#item-label").removeprefix("Item ")
        page.keyboard.press(str(n % 3 + 1))
        page.keyboard.press("Enter")
        expected[label] = TEAMS[n % 3]
    page.wait_for_selector("#save-state.saved >> text=20 this session")
    found = _annotations(site, "keys-owner", slug)
    labeled = {ext: notes for ext, notes in found.items() if notes}
    assert {ext: notes[0]["answers"]["team"] for ext, notes in labeled.items()} == expected
    assert all(len(notes) == 1 and notes[0]["annotator"] == "kim" for notes in labeled.values())
    assert all(notes[0]["time_ms"] > 0 for notes in labeled.values())


# The guidelines check after each submit answers 400 ms late, as on a slow network.
SLOW_GUIDELINES_CHECK = """
const fetchNow = window.fetch.bind(window);
window.fetch = (resource, init) => fetchNow(resource, init).then((answer) =>
  String(resource).includes("/guidelines/pending")
    ? new Promise((ready) => setTimeout(() => ready(answer), 400)) : answer);
"""


def test_keys_pressed_as_soon_as_an_item_shows_are_not_lost(site: Site) -> None:
    """The next item may arrive before the guidelines check; it is shown after both."""
    slug = site.project(_spec("quick"), [{"id": f"q-{i}", "text": f"t {i}"} for i in range(4)])
    site.member(slug, "quick-owner", Role.OWNER)
    site.member(slug, "quinn", Role.ANNOTATOR)
    page = site.page("quinn", f"/projects/{slug}/annotate")
    page.add_init_script(SLOW_GUIDELINES_CHECK)
    page.reload()
    assignment = None
    for n in range(3):
        assignment = next_item(page, assignment)
        page.keyboard.press(str(n + 1))  # at once: no waiting for the page to settle
        page.keyboard.press("Enter")
    next_item(page, assignment)
    found = _annotations(site, "quick-owner", slug)
    teams = [notes[0]["answers"]["team"] for notes in found.values() if notes]
    assert sorted(teams) == sorted(TEAMS)


def _select(page: Any, text: str) -> None:
    """Drag the mouse over the first occurrence of `text` in the span text."""
    box = page.evaluate(
        """wanted => {
          const root = document.querySelector('.span-text');
          const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
          const nodes = []; let all = '';
          while (walker.nextNode()) { nodes.push([walker.currentNode, all.length]);
            all += walker.currentNode.data; }
          const at = all.indexOf(wanted);
          const point = (offset) => {
            const [node, start] = nodes.filter(([, s]) => s <= offset).pop();
            const range = document.createRange();
            range.setStart(node, offset - start); range.setEnd(node, offset - start + 1);
            return range.getBoundingClientRect();
          };
          const first = point(at), last = point(at + wanted.length - 1);
          return {x0: first.left + 1, y0: first.top + first.height / 2,
                  x1: last.right - 1, y1: last.top + last.height / 2};
        }""",
        text,
    )
    page.mouse.move(box["x0"], box["y0"])
    page.mouse.down()
    page.mouse.move(box["x1"], box["y1"], steps=4)
    page.mouse.up()


def test_spans_are_marked_by_mouse_and_removed_by_click(site: Site) -> None:
    text = "😀 Aero 14 for Megan Ortiz, order ORD-1"
    entities = {"name": "entities", "type": "spans", "field": "text"}
    entities["labels"] = ["PRODUCT", "ORDER_ID", "PERSON"]  # type: ignore[assignment]
    slug = site.project(_spec("spans", questions=[entities]), [{"id": "s-1", "text": text}])
    site.member(slug, "spans-owner", Role.OWNER)
    site.member(slug, "sam", Role.ANNOTATOR)
    page = site.page("sam", f"/projects/{slug}/annotate")
    next_item(page)
    for words, key in [("Aero 14", "1"), ("Megan Ortiz", "3"), ("14 for Megan", "2")]:
        _select(page, words)
        page.keyboard.press(key)
    assert page.locator(".span-list li").count() == 3
    overlapped = page.locator(".span-mark.layers-2")
    assert overlapped.count() == 2 and overlapped.first.inner_text() == "14"
    page.locator(".span-mark", has_text="for").click()  # covered by ORDER_ID alone
    assert page.locator(".span-list li").count() == 2
    page.keyboard.press("1")
    page.keyboard.press("Enter")
    page.wait_for_selector("#save-state.saved")
    (note,) = _annotations(site, "spans-owner", slug)["s-1"]

    def span(words: str, label: str) -> dict[str, Any]:
        start = text.index(words)  # Python counts code points, as the API does
        return {"start": start, "end": start + len(words), "label": label}

    assert note["answers"]["entities"] == [
        span("Aero 14", "PRODUCT"),
        span("Megan Ortiz", "PERSON"),
    ]


def test_a_failed_submit_is_retried_and_nothing_is_lost(site: Site) -> None:
    rows = [{"id": f"n-{i}", "text": f"flaky network {i}"} for i in range(3)]
    slug = site.project(_spec("flaky"), rows)
    site.member(slug, "flaky-owner", Role.OWNER)
    site.member(slug, "nia", Role.ANNOTATOR)
    page = site.page("nia", f"/projects/{slug}/annotate")
    calls: list[str] = []

    def first_one_fails(route: Any) -> None:
        calls.append(route.request.url)
        if len(calls) == 1:
            route.abort("internetdisconnected")
        else:
            route.continue_()

    page.route("**/api/v1/assignments/*/submit", first_one_fails)
    first = next_item(page)
    page.keyboard.press("2")
    page.keyboard.press("Enter")
    page.wait_for_selector("#save-state.retrying")
    kept = page.evaluate("() => JSON.stringify(Object.assign({}, localStorage))")
    assert f'\\"id\\":{first}' in kept  # held in the browser until acknowledged
    page.wait_for_selector("#save-state.saved", timeout=10_000)
    second = next_item(page, first)
    assert second != first and len(calls) == 2 and calls[0] == calls[1]
    assert page.evaluate("() => localStorage.length") == 0
    labeled = {
        ext: notes for ext, notes in _annotations(site, "flaky-owner", slug).items() if notes
    }
    assert [notes[0]["answers"] for notes in labeled.values()] == [{"team": "technical"}]

    # Offline, then the tab is reloaded: the kept answer is sent first, the same one.
    page.unroute("**/api/v1/assignments/*/submit")
    page.route("**/api/v1/assignments/*/submit", lambda route: route.abort("internetdisconnected"))
    page.keyboard.press("3")
    page.keyboard.press("Enter")
    page.wait_for_selector("#save-state.retrying")
    page.unroute("**/api/v1/assignments/*/submit")
    page.reload()
    next_item(page, second)
    labeled = {
        ext: notes for ext, notes in _annotations(site, "flaky-owner", slug).items() if notes
    }
    assert sorted(notes[0]["answers"]["team"] for notes in labeled.values()) == [
        "account",
        "technical",
    ]


def test_the_labeling_page_never_holds_a_field_hidden_from_annotators(site: Site) -> None:
    fields = [
        {"name": "text", "type": "text"},
        {"name": "staff_note", "type": "text", "visible_to": ["owner", "manager"]},
    ]
    spec = {**_spec("veil"), "fields": fields, "workflow": {"overlap": 2}}
    rows = [{"id": "w-1", "text": "Shown to all", "staff_note": "Quiet-note-42"}]
    slug = site.project(spec, rows)
    site.member(slug, "veil-owner", Role.OWNER)
    site.member(slug, "vera", Role.ANNOTATOR)
    seen = {}
    for who in ("vera", "veil-owner"):
        page = site.page(who, f"/projects/{slug}/annotate")
        next_item(page)
        seen[who] = page.content() + page.inner_text("body")
        page.context.close()
    assert "Shown to all" in seen["vera"]
    assert "staff_note" not in seen["vera"] and "Quiet-note-42" not in seen["vera"]
    # The owner may see it: the same page shows it to them.
    assert "Quiet-note-42" in seen["veil-owner"]
