"""Issue 22 at 320 px, JavaScript on and off, axe clean: a third party views Lena's certificate and
is told on the page that she sees the view; Lena sees it under "Seen by" with the verify-page
count, opens the document's own Activity and its views page, switches on the weekly email about
views (by keyboard), and finds "Add to LinkedIn"; the third party's "Expiring soon" page."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Page, expect

from tests.browser.conftest import Auditor, Console, Seeder
from tests.browser.test_connections_journey import log_in
from tests.browser.test_documents_journey import _seed

WIDTH = 320


def at_320(page: Page, audit: Auditor) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= WIDTH, f"{page.url} scrolls sideways at {WIDTH}px: scrollWidth {width}"
    audit.check(page)


def phone(new_person_page: Callable[[], Page]) -> Page:
    page = new_person_page()
    page.set_viewport_size({"width": WIDTH, "height": 700})
    return page


def test_lena_sees_who_viewed_her_certificate(
    new_person_page: Callable[[], Page],
    create_accounts: Callable[..., None],
    seeder: Seeder,
    audit: Auditor,
    console: Console,
    javascript_enabled: bool,
) -> None:
    learner, third_party, _staff, title = _seed(create_accounts, seeder)

    viewer = phone(new_person_page)
    log_in(viewer, audit, third_party)
    viewer.get_by_role("navigation", name="Account").get_by_role("link", name="Connections").click()
    viewer.locator("li.connection").first.get_by_role("link").first.click()
    viewer.get_by_role("link", name=title).click()
    expect(viewer).to_have_url(re.compile(r"/connections/\d+/documents/\d+$"))
    expect(viewer.locator("#views-seen-by-learner")).to_contain_text(
        "The learner can see each of your views of this document"
    )
    at_320(viewer, audit)
    document_id = re.search(r"/documents/(\d+)$", viewer.url).group(1)  # type: ignore[union-attr]
    viewer.goto("/connections/expiring-soon")
    expect(viewer.get_by_role("heading", level=1)).to_have_text("Documents expiring soon")
    at_320(viewer, audit)

    own = phone(new_person_page)
    log_in(own, audit, learner)
    own.goto(f"/documents/{document_id}")
    seen = own.locator("#seen-by li")
    expect(seen).to_have_count(1)
    expect(seen.first).to_contain_text(
        f"{third_party.first_name} {third_party.last_name} (Northwind Training)"
    )
    expect(own.locator("#verify-checks")).to_contain_text("Not checked on the verify page yet.")
    linkedin = own.get_by_role("link", name=re.compile("^Add to LinkedIn"))
    expect(linkedin).to_have_attribute("rel", "noopener noreferrer")
    at_320(own, audit)

    own.get_by_role("link", name="Everything that happened to this document").click()
    expect(own.get_by_role("heading", level=1)).to_have_text(f"Activity on “{title}”")
    expect(own.locator("#activity-list li").first).to_contain_text("viewed document")
    at_320(own, audit)
    own.goto(f"/documents/{document_id}/views")
    expect(own.locator("#seen-by li")).to_have_count(1)
    at_320(own, audit)

    # The weekly email, switched on from the keyboard.
    own.goto("/documents")
    button = own.get_by_role("button", name="Email me each week my documents were viewed")
    button.focus()
    own.keyboard.press("Enter")
    expect(own.locator("#weekly-email [role=status]")).to_contain_text("Weekly email about views: on.")
    if javascript_enabled:  # swapped in place, focus kept on the switch
        expect(own.get_by_role("button", name="Stop the weekly email about views")).to_be_focused()
    at_320(own, audit)
    assert console.errors == [], console.errors
