"""A folder of images imported, then shown on the labeling and item pages in Chromium."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from labelwise.policies import Role
from labelwise.services import image_import, projects
from labelwise.services.file_store import ContentStore, project_folder
from tests.browser.site import Site, next_item
from tests.images import png

SPEC: dict[str, Any] = {
    "name": "Browser images",
    "slug": "pictures",
    "fields": [{"name": "photo", "type": "image", "title": "Photo"}],
    "questions": [{"name": "animal", "type": "single_label", "labels": ["cat", "dog"]}],
    "workflow": {"overlap": 1},
}
# Shown as loaded: complete, and decoded to the PNG's own size.
LOADED = "img => img.complete && img.naturalWidth > 0 ? img.naturalWidth : 0"


def _shown_width(page: Any, where: str) -> int:
    image = page.locator(f"{where} img.item-image")
    image.wait_for()
    page.wait_for_function(f"() => ({LOADED})(document.querySelector('{where} img.item-image'))")
    return int(image.evaluate(LOADED))


def test_the_labeling_page_shows_imported_images(site: Site, tmp_path: Path) -> None:
    slug = site.project(SPEC, [{"id": "0-missing", "photo": "gone.png"}])
    folder = tmp_path / "pets"
    (folder / "cats").mkdir(parents=True)
    (folder / "cats" / "tom.png").write_bytes(png(40, 30, (200, 0, 0)))
    (folder / "rex.png").write_bytes(png(24, 48, (0, 0, 200)))
    project = projects.get(site.db, slug)
    result = image_import.import_folder(
        site.db,
        project.id,
        projects.spec_of(project),
        folder,
        store=ContentStore(project_folder(site.data_dir, slug)),
        field_name="photo",
        max_bytes=1 << 20,
    )
    assert result.summary.created == 2
    site.member(slug, "pic-owner", Role.OWNER)
    site.member(slug, "pia", Role.ANNOTATOR)
    page = site.page("pia", f"/projects/{slug}/annotate")

    # The first item's file is not there: said so, no broken image.
    assignment = next_item(page)
    page.wait_for_selector(".item-card >> text=the image could not be loaded: gone.png")
    page.keyboard.press("1")
    page.keyboard.press("Enter")

    widths = []
    for _ in range(2):
        assignment = next_item(page, assignment)
        label = page.inner_text("#item-label")
        widths.append((label, _shown_width(page, ".item-card")))
        src = page.get_attribute(".item-card img.item-image", "src") or ""
        assert src.startswith(f"/api/v1/projects/{slug}/items/") and src.endswith("/files/photo")
        page.keyboard.press("2")
        page.keyboard.press("Enter")
    assert widths == [("Item cats/tom.png", 40), ("Item rex.png", 24)]

    with site.api("pic-owner") as api:
        items = api.get(f"/projects/{slug}/items").json()["items"]
    rex = next(i for i in items if i["external_id"] == "rex.png")
    owner = site.page("pic-owner", f"/projects/{slug}/items/{rex['id']}")
    assert _shown_width(owner, "#item-fields") == 24
