"""A learner orders a printed copy of a document (adding the address on the spot), staff print the
duplicate from the queue and mark it printed then dispatched, and the learner sees "Dispatched".
At 360 px, with JavaScript on and off, every page checked by axe-core."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

from playwright.sync_api import Page, expect

from tests.browser.conftest import Auditor, Console, SeedAccount
from tests.browser.test_connections_journey import assert_mail_soon, log_in


def test_learner_orders_a_print_staff_print_and_dispatch_it(
    new_person_page: Callable[[], Page],
    create_accounts: Callable[..., None],
    audit: Auditor,
    console: Console,
    base_url: str,
    javascript_enabled: bool,
) -> None:
    tag = uuid.uuid4().hex[:8]
    title = f"Level 2 Award in Printing {tag}"
    learner = SeedAccount(
        "learner",
        f"lena_{tag}",
        f"lena.{tag}@example.com",
        f"copper-willow-{tag}",
        "Łucja",
        f"Nguyễn {tag}",
        documents=(title,),
    )
    staff = SeedAccount(
        "staff", f"sam_{tag}", f"sam.{tag}@example.com", f"amber-quartz-{tag}", "Sam", "Staff"
    )
    create_accounts(learner, staff)

    # The learner orders from the document page, adding a new address on the spot.
    person = new_person_page()
    log_in(person, audit, learner)
    person.get_by_role("navigation", name="Account").get_by_role("link", name="My documents").click()
    person.get_by_role("link", name=title).click()
    person.get_by_role("link", name="Order a printed copy").click()
    expect(person.get_by_role("heading", level=1)).to_have_text("Order a printed copy")
    audit.check(person)
    # Nothing typed yet: the error lands beside the field.
    person.get_by_role("button", name="Continue").click()
    expect(person.locator("#new_line1-error")).to_contain_text("Enter the first line of the address")
    audit.check(person)
    person.get_by_label("Address line 1").fill(f"{tag} Print Street")
    person.get_by_label("Town or city").fill("Leeds")
    person.get_by_label("Postcode").fill("ls1 1aa")
    person.get_by_role("button", name="Continue").click()
    summary = person.locator("dl.summary")
    expect(summary).to_contain_text(f"{tag} Print Street")
    expect(summary).to_contain_text("LS1 1AA")
    if javascript_enabled:
        expect(person.locator("#print-order-form .hint").first).to_be_focused()
    audit.check(person)
    person.get_by_role("button", name="Confirm the order").click()
    expect(person).to_have_url(re.compile(r"/prints/\d+$"))
    expect(person.locator(".order-state")).to_contain_text("Requested")
    audit.check(person)
    order_id = person.url.rsplit("/", 1)[1]
    assert_mail_soon(base_url, learner.email, "We have your order")

    # Staff print the duplicate from the queue, then mark it printed and dispatched.
    desk = new_person_page()
    log_in(desk, audit, staff)
    desk.get_by_role("navigation", name="Account").get_by_role("link", name="Print queue").click()
    expect(desk.get_by_role("heading", level=1)).to_have_text("Print queue")
    audit.check(desk)
    row = desk.locator(f"#order-{order_id}")
    with desk.expect_download() as download:
        row.get_by_role("link", name="Print the duplicate (PDF)").click()
    assert download.value.suggested_filename.startswith("duplicate-APC-")
    assert download.value.suggested_filename.endswith(".pdf")
    row.get_by_role("button", name="Mark printed").click()
    expect(desk.get_by_role("status").filter(has_text=f"Order {order_id} is marked printed")).to_be_visible()
    assert_mail_soon(base_url, learner.email, "has been printed")
    desk.get_by_label("Orders that are").select_option("printed")
    desk.get_by_role("button", name="Show").click()
    row = desk.locator(f"#order-{order_id}")
    expect(row).to_contain_text("waiting to be posted")
    audit.check(desk)
    row.get_by_role("button", name="Mark dispatched").click()
    expect(
        desk.get_by_role("status").filter(has_text=f"Order {order_id} is marked dispatched")
    ).to_be_visible()
    audit.check(desk)
    assert_mail_soon(base_url, learner.email, "on its way")

    # The learner sees it dispatched.
    person.goto("/prints")
    expect(person.locator(f"#order-{order_id} .order-state")).to_contain_text("Dispatched on")
    audit.check(person)
    assert console.errors == []
