"""A third party views a shared document and reports a problem; staff answer it; the third party reads
the answer. At 360 px, with JavaScript on and off, every page checked by axe-core; the print preview
of the viewer shows no document content, only the "not valid on paper" notice."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable

from playwright.sync_api import Page, expect

from tests.browser.conftest import Auditor, Console, SeedAccount, Seeder
from tests.browser.test_connections_journey import assert_mail, log_in


def _seed(
    create_accounts: Callable[..., None], seeder: Seeder
) -> tuple[SeedAccount, SeedAccount, SeedAccount, str]:
    tag = uuid.uuid4().hex[:8]
    title = f"Level 3 Diploma in Joinery {tag}"
    learner = SeedAccount(
        "learner",
        f"lena_{tag}",
        f"lena.{tag}@example.com",
        f"copper-willow-{tag}",
        "Lena",
        f"Marsh {tag}",
        documents=(title,),
    )
    third_party = SeedAccount(
        "third_party",
        f"tara_{tag}",
        f"tara.{tag}@example.com",
        f"silver-meadow-{tag}",
        "Tara",
        f"Quinn {tag}",
        company_name="Northwind Training",
    )
    staff = SeedAccount(
        "staff", f"sam_{tag}", f"sam.{tag}@example.com", f"amber-quartz-{tag}", "Sam", "Staff"
    )
    create_accounts(learner, third_party, staff)
    seeder.call("share_first_document", learner.email, third_party.email)
    return learner, third_party, staff, title


def test_third_party_reports_a_problem_and_reads_the_answer(
    new_person_page: Callable[[], Page],
    create_accounts: Callable[..., None],
    seeder: Seeder,
    audit: Auditor,
    console: Console,
    base_url: str,
    javascript_enabled: bool,
) -> None:
    learner, third_party, staff, title = _seed(create_accounts, seeder)
    viewer = new_person_page()

    # The third party opens the document from the connection page.
    log_in(viewer, audit, third_party)
    viewer.get_by_role("navigation", name="Account").get_by_role("link", name="Connections").click()
    viewer.locator("li.connection").first.get_by_role("link").first.click()
    expect(viewer).to_have_url(re.compile(r"/connections/\d+$"))
    viewer.get_by_role("link", name=title).click()
    expect(viewer).to_have_url(re.compile(r"/connections/\d+/documents/\d+$"))
    expect(viewer.get_by_role("heading", level=1)).to_have_text(title)
    expect(viewer.locator(".doc-status")).to_contain_text("Your access ends on")
    expect(viewer.get_by_role("main")).to_contain_text("Copies, prints and screenshots of it are not valid")
    expect(viewer.get_by_role("main")).to_contain_text(
        f"Viewed by Tara Quinn {third_party.last_name.split()[-1]}"
    )
    audit.check(viewer)

    # Printing shows no document, only where to check it.
    viewer.emulate_media(media="print")
    expect(viewer.locator("article.document")).to_be_hidden()
    expect(viewer.get_by_role("heading", level=1)).to_be_hidden()
    expect(viewer.locator(".print-notice")).to_be_visible()
    expect(viewer.locator(".print-notice")).to_contain_text("This document is not valid on paper")
    viewer.emulate_media(media="screen")
    expect(viewer.locator("article.document")).to_be_visible()

    # Report a problem: the yellow button.
    viewer.get_by_role("link", name="Report a problem").click()
    if not javascript_enabled:
        expect(viewer).to_have_url(re.compile(r"/report$"))
    viewer.get_by_label("A grade, unit or date is wrong").check()
    viewer.get_by_label("Describe the problem").fill("The grade should be <b>Merit</b>, not Pass.")
    audit.check(viewer)
    viewer.get_by_role("button", name="Send report").click()
    if javascript_enabled:
        confirmation = viewer.locator("#report-slot")
        expect(confirmation).to_contain_text("Report sent")
        expect(confirmation).to_be_focused()
    else:
        expect(viewer).to_have_url(re.compile(r"/connections/\d+/documents/\d+$"))
        expect(viewer.get_by_role("status").filter(has_text="Your report was sent")).to_be_visible()
    audit.check(viewer)
    assert_mail(base_url, third_party.email, "We received your report")
    assert_mail(base_url, learner.email, "A problem was reported on your document")

    # Staff answer it from the inbox.
    desk = new_person_page()
    log_in(desk, audit, staff)
    desk.get_by_role("navigation", name="Account").get_by_role("link", name="Reports").click()
    expect(desk.get_by_role("heading", level=1)).to_have_text("Reports inbox")
    audit.check(desk)
    desk.get_by_role("link", name=re.compile(re.escape(title))).first.click()
    expect(desk.get_by_role("main")).to_contain_text("The grade should be <b>Merit</b>, not Pass.")
    audit.check(desk)
    desk.get_by_label("Your answer to the reporter").fill(
        "We checked: the grade is Merit. A corrected document follows."
    )
    desk.get_by_role("button", name="Send answer").click()
    expect(desk.get_by_role("status").filter(has_text="Your answer was sent")).to_be_visible()
    audit.check(desk)
    assert_mail(base_url, third_party.email, "We answered your report")

    # The third party reads the answer on Your reports.
    viewer.get_by_role("navigation", name="Account").get_by_role("link", name="Reports").click()
    expect(viewer.get_by_role("heading", level=1)).to_have_text("Your reports")
    expect(viewer.get_by_role("main")).to_contain_text("We checked: the grade is Merit.")
    expect(viewer.get_by_role("main")).to_contain_text("Answered")
    audit.check(viewer)
    assert console.errors == [], console.errors
    assert json.dumps(audit.audited)  # every page above was audited
