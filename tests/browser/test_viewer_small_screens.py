"""At 320 px, JavaScript on and off: a third party's report form offers only a third party's
problems and the learner's its own; once the document is revoked, neither the third party's viewer
nor the learner's page says it is valid. Nothing scrolls sideways; axe finds nothing on any page."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Page, expect

from tests.browser.conftest import Auditor, Console, Seeder
from tests.browser.test_connections_journey import log_in
from tests.browser.test_documents_journey import _seed

WIDTH = 320
VALID_HERE = "This document is valid here, on the portal."


def at_320(page: Page, audit: Auditor) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= WIDTH, f"{page.url} scrolls sideways at {WIDTH}px: scrollWidth {width}"
    audit.check(page)


def phone(new_person_page: Callable[[], Page]) -> Page:
    page = new_person_page()
    page.set_viewport_size({"width": WIDTH, "height": 700})
    return page


def test_a_third_party_sees_its_own_report_choices_and_a_revoked_document_is_not_valid(
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
    expect(viewer.locator("#validity")).to_contain_text(VALID_HERE)
    at_320(viewer, audit)
    document_page = viewer.url

    # The report form: a third party's choices only, never the learner's first-person ones.
    viewer.get_by_role("link", name="Report a problem").click()
    if not javascript_enabled:
        expect(viewer).to_have_url(re.compile(r"/report$"))
    choices = viewer.get_by_role("group", name="What is wrong?").get_by_role("radio")
    expect(choices).to_have_count(2)
    expect(viewer.get_by_label("A grade, unit or date is wrong")).to_be_visible()
    expect(viewer.get_by_label("Something else")).to_be_visible()
    expect(viewer.get_by_label("My name is wrong")).to_have_count(0)
    expect(viewer.get_by_label("I should not see this document")).to_have_count(0)
    at_320(viewer, audit)

    # Staff revoke it: the viewer says so, and nowhere that it is valid.
    document_id = re.search(r"/documents/(\d+)", viewer.url)
    assert document_id is not None
    seeder.call("revoke_document", int(document_id.group(1)))
    viewer.goto(document_page)  # the page again (without JavaScript the form was a page of its own)
    expect(viewer.locator(".doc-status dd.status-revoked")).to_have_text(
        re.compile(r"^Revoked on .+\. Issued in error$")
    )
    expect(viewer.locator("#validity")).to_contain_text("This document has been revoked")
    expect(viewer.get_by_role("main")).not_to_contain_text(VALID_HERE)
    at_320(viewer, audit)

    # The learner's own page says the same.
    own = phone(new_person_page)
    log_in(own, audit, learner)
    own.goto(f"/documents/{document_id.group(1)}")
    expect(own.locator("#validity")).to_contain_text("This document has been revoked")
    expect(own.get_by_role("main")).not_to_contain_text(VALID_HERE)
    at_320(own, audit)
    # Their report form offers the learner's own choices.
    own.get_by_role("link", name="Report a problem").click()
    expect(own.get_by_role("group", name="What is wrong?").get_by_role("radio")).to_have_count(4)
    expect(own.get_by_label("My name is wrong")).to_be_visible()
    at_320(own, audit)
    assert console.errors == [], console.errors
