"""Connections between a learner and a third party, two people in two browsers at 360 px.

Learner-started: share → accept → documents → more time asked → approved with another date → the new
date → cancelled → the learner sees it. Third-party-started: Add Connection → the learner answers,
choosing a document and a date → active. Each with JavaScript on and off; every page visited is checked
with axe-core and for sideways scrolling, and every step's email is found in the development mailbox.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import Locator, Page, expect
from selectolax.lexbor import LexborHTMLParser

from tests.browser.conftest import Auditor, Console
from tests.browser.seed import SeedAccount
from tests.browser.two_step import pass_second_step

TIME_ZONE = ZoneInfo("Europe/London")  # the portal's default; "today" for access dates is counted there


@dataclass(frozen=True)
class People:
    learner: SeedAccount
    third_party: SeedAccount
    document: str  # the title of the learner's document that gets shared

    @property
    def learner_name(self) -> str:
        return f"{self.learner.first_name} {self.learner.last_name}"

    @property
    def third_party_name(self) -> str:
        return f"{self.third_party.first_name} {self.third_party.last_name}"


@pytest.fixture
def two_people(create_accounts: Callable[..., None]) -> People:
    """A learner with two documents and a third party, new for each test (the runs share one server)."""
    tag = uuid.uuid4().hex[:8]
    document = f"Level 3 Diploma in Carpentry {tag}"
    learner = SeedAccount(
        role="learner",
        username=f"lena_{tag}",
        email=f"lena.{tag}@example.com",
        password=f"copper-willow-harbour-{tag}",
        first_name="Lena",
        last_name=f"Marsh {tag}",
        documents=(document, f"First Aid at Work {tag}"),
    )
    third_party = SeedAccount(
        role="third_party",
        username=f"tara_{tag}",
        email=f"tara.{tag}@example.com",
        password=f"silver-meadow-lantern-{tag}",
        first_name="Tara",
        last_name=f"Quinn {tag}",
    )
    create_accounts(learner, third_party)
    return People(learner, third_party, document)


def today() -> date:
    return datetime.now(TIME_ZONE).date()


def long_date(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def log_in(page: Page, audit: Auditor, account: SeedAccount) -> None:
    page.goto("/login")
    page.get_by_label("User name or email address").fill(account.email)
    page.get_by_label("Password", exact=True).fill(account.password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/(dashboard|login/second-step)$"))
    if page.url.endswith("/login/second-step"):  # staff: two-step sign-in (set up at the first log-in)
        audit.check(page)
        pass_second_step(page, account.username)
    expect(page).to_have_url(re.compile(r"/dashboard$"))
    audit.check(page)


def open_connections(page: Page, audit: Auditor) -> None:
    page.get_by_role("navigation", name="Account").get_by_role("link", name="Connections").click()
    expect(page).to_have_url(re.compile(r"/connections$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Connections")
    audit.check(page)


def type_date(group: Locator, day: date) -> None:
    """The three typed fields (GOV.UK style); the month as a number."""
    group.get_by_label("Day").fill(str(day.day))
    group.get_by_label("Month").fill(str(day.month))
    group.get_by_label("Year").fill(str(day.year))


def row_for(page: Page, name: str) -> Locator:
    return page.locator("li.connection", has_text=name)


def status_says(page: Page, text: str) -> None:
    expect(page.get_by_role("status").filter(has_text=text)).to_be_visible()


def summary_value(page: Page, term: str) -> Locator:
    """The <dd> after the <dt> with this term, in the connection's summary."""
    return page.locator(f'dl.summary dt:text-is("{term}") + dd')


def assert_mail(base_url: str, to: str, subject: str) -> None:
    """The development mailbox lists an email to this address whose subject contains these words."""
    tree = LexborHTMLParser(httpx.get(f"{base_url}/dev/mailbox", timeout=10).text)
    received = []
    for item in tree.css("main li"):
        link, detail = item.css_first("a"), item.css_first("span")
        if link is not None and detail is not None and detail.text().startswith(f"to {to},"):
            received.append(link.text(strip=True))
    assert any(subject in s for s in received), f"no email to {to} about {subject!r}; they got {received}"


def assert_mail_soon(base_url: str, to: str, subject: str, seconds: float = 15) -> None:
    """The mail worker sends within a moment of the commit: look again until the email is listed."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            assert_mail(base_url, to, subject)
            return
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_learner_shares_and_the_connection_runs_its_course(
    new_person_page: Callable[[], Page],
    two_people: People,
    audit: Auditor,
    console: Console,
    base_url: str,
    javascript_enabled: bool,
) -> None:
    learner, third_party = new_person_page(), new_person_page()
    ends_on = today() + timedelta(days=20)
    wanted = today() + timedelta(days=60)
    approved = today() + timedelta(days=45)  # the learner changes the date asked for

    # The learner shares one document until a typed date.
    log_in(learner, audit, two_people.learner)
    open_connections(learner, audit)
    learner.get_by_role("link", name="Share documents").click()
    expect(learner).to_have_url(re.compile(r"/share$"))
    audit.check(learner)
    learner.get_by_label("Their email address").fill(two_people.third_party.email)
    learner.get_by_label(two_people.document).check()
    type_date(learner.get_by_role("group", name="Access ends on"), ends_on)
    learner.get_by_role("button", name="Share", exact=True).click()
    expect(learner).to_have_url(re.compile(r"/connections/\d+$"))
    status_says(learner, f"Shared with {two_people.third_party.email}")
    expect(summary_value(learner, "Status")).to_have_text("Waiting for them to accept")
    audit.check(learner)
    assert_mail(
        base_url, two_people.third_party.email, f"{two_people.learner_name} wants to share documents with you"
    )

    # The third party finds it waiting on Connections and accepts it from the list.
    log_in(third_party, audit, two_people.third_party)
    open_connections(third_party, audit)
    row = row_for(third_party, two_people.learner_name)
    expect(row).to_contain_text("Waiting for you to accept")
    # Not granted yet: an offer, never worded as access that is running.
    expect(row).to_contain_text(f"If you accept, your access ends on {long_date(ends_on)}")
    row.get_by_role("button", name=f"Accept {two_people.learner_name}").click()
    status_says(third_party, "Connection accepted.")
    expect(third_party).to_have_url(re.compile(r"/connections$"))
    row = row_for(third_party, two_people.learner_name)
    expect(row.locator(".state")).to_have_text("Active")
    audit.check(third_party)
    assert_mail(base_url, two_people.learner.email, f"{two_people.third_party_name} accepted your connection")

    # The shared documents: the one ticked, not the other; access worded apart from validity.
    row.get_by_role("link", name=f"View documents shared by {two_people.learner_name}").click()
    expect(third_party).to_have_url(re.compile(r"/connections/\d+$"))
    shared = third_party.locator("main ul.rows > li")
    expect(shared).to_have_count(1)
    expect(shared).to_contain_text(two_people.document)
    expect(third_party.get_by_role("main")).to_contain_text(f"Your access ends on {long_date(ends_on)}")
    audit.check(third_party)
    detail_url = third_party.url

    # The third party asks for more time, with a message.
    third_party.get_by_role("link", name="Extend").first.click()
    expect(third_party).to_have_url(re.compile(r"/connections/\d+/extension$"))
    audit.check(third_party)
    type_date(third_party.get_by_role("group", name="Keep access until"), wanted)
    third_party.get_by_label("Message to the learner").fill("Our audit runs until the spring.")
    third_party.get_by_role("button", name="Ask to extend").click()
    expect(third_party).to_have_url(detail_url)
    status_says(third_party, "Request for more time sent.")
    audit.check(third_party)
    assert_mail(base_url, two_people.learner.email, f"{two_people.third_party_name} asks for more time")

    # The learner opens the connection and approves, with an earlier date than asked for.
    open_connections(learner, audit)
    row = row_for(learner, two_people.third_party_name)
    expect(row).to_contain_text("more time asked")
    row.get_by_role("link", name=two_people.third_party_name, exact=True).click()
    expect(learner).to_have_url(detail_url)
    asked = learner.get_by_role("region", name="They ask for more time")
    expect(asked).to_contain_text(f"Until {long_date(wanted)}: “Our audit runs until the spring.”")
    audit.check(learner)
    type_date(asked.get_by_role("group", name="New end date"), approved)
    asked.get_by_role("button", name="Approve").click()
    status_says(learner, "Extension approved.")
    expect(summary_value(learner, "Access")).to_have_text(f"Access ends on {long_date(approved)}")
    audit.check(learner)
    assert_mail(
        base_url, two_people.third_party.email, f"Your access has been extended to {long_date(approved)}"
    )

    # The third party reloads and sees the new date.
    third_party.reload()
    expect(summary_value(third_party, "Access")).to_have_text(f"Your access ends on {long_date(approved)}")
    expect(third_party.get_by_role("main")).to_contain_text(f"Your access ends on {long_date(approved)}")
    audit.check(third_party)

    # The third party cancels: bin, confirmation page, confirm.
    third_party.get_by_role("link", name="Cancel this connection").click()
    expect(third_party).to_have_url(re.compile(r"/connections/\d+/cancel$"))
    expect(third_party.get_by_role("heading", level=1)).to_have_text(
        f"Cancel the connection with {two_people.learner_name}?"
    )
    audit.check(third_party)
    third_party.get_by_role("button", name="Yes, cancel the connection").click()
    expect(third_party).to_have_url(detail_url)
    status_says(third_party, "Connection cancelled.")
    expect(summary_value(third_party, "Status")).to_have_text("Cancelled")
    expect(third_party.locator("main ul.rows")).to_have_count(0)  # no documents any more
    audit.check(third_party)
    assert_mail(
        base_url, two_people.learner.email, f"{two_people.third_party_name} cancelled your connection"
    )

    # The learner sees it cancelled.
    open_connections(learner, audit)
    expect(row_for(learner, two_people.third_party_name).locator(".state")).to_have_text("Cancelled")

    assert console.errors == [], console.errors


def test_third_party_adds_a_connection_and_the_learner_answers(
    new_person_page: Callable[[], Page],
    two_people: People,
    audit: Auditor,
    console: Console,
    base_url: str,
) -> None:
    learner, third_party = new_person_page(), new_person_page()
    ends_on = today() + timedelta(days=90)

    # The third party asks, by the learner's email address.
    log_in(third_party, audit, two_people.third_party)
    open_connections(third_party, audit)
    third_party.get_by_role("link", name="Add Connection").click()
    expect(third_party).to_have_url(re.compile(r"/connections/new$"))
    audit.check(third_party)
    third_party.get_by_label("Learner's email address").fill(two_people.learner.email)
    third_party.get_by_label("Message to the learner").fill("For your application to join our team.")
    third_party.get_by_role("button", name="Send request").click()
    expect(third_party).to_have_url(re.compile(r"/connections/\d+$"))
    status_says(third_party, f"Request sent to {two_people.learner.email}")
    expect(summary_value(third_party, "Status")).to_have_text("Waiting for the learner to answer")
    audit.check(third_party)
    detail_url = third_party.url
    assert_mail(
        base_url,
        two_people.learner.email,
        f"{two_people.third_party_name} asks to see your achievement documents",
    )

    # The learner finds it waiting, opens it, chooses a document and an end date, and accepts.
    log_in(learner, audit, two_people.learner)
    open_connections(learner, audit)
    row = row_for(learner, two_people.third_party_name)
    expect(row.locator(".state")).to_have_text("Waiting for you to answer")
    row.get_by_role("link", name=f"Answer {two_people.third_party_name}").click()
    expect(learner).to_have_url(detail_url)
    expect(summary_value(learner, "Message")).to_have_text("For your application to join our team.")
    audit.check(learner)
    learner.get_by_label(two_people.document).check()
    type_date(learner.get_by_role("group", name="Access ends on"), ends_on)
    learner.get_by_role("button", name="Accept and share").click()
    expect(learner).to_have_url(detail_url)
    status_says(learner, "Connection accepted.")
    expect(summary_value(learner, "Status")).to_have_text("Active")
    expect(summary_value(learner, "Access")).to_have_text(f"Access ends on {long_date(ends_on)}")
    audit.check(learner)
    assert_mail(base_url, two_people.third_party.email, f"{two_people.learner_name} accepted your connection")

    # The third party sees it active, with the one document shared.
    third_party.reload()
    expect(summary_value(third_party, "Status")).to_have_text("Active")
    shared = third_party.locator("main ul.rows > li")
    expect(shared).to_have_count(1)
    expect(shared).to_contain_text(two_people.document)
    expect(third_party.get_by_role("main")).to_contain_text(f"Your access ends on {long_date(ends_on)}")
    audit.check(third_party)

    assert console.errors == [], console.errors


@pytest.mark.parametrize("javascript_enabled", [True], ids=["js"])
def test_accepting_from_the_list_swaps_only_that_row(
    new_person_page: Callable[[], Page],
    two_people: People,
    audit: Auditor,
    console: Console,
) -> None:
    learner, third_party = new_person_page(), new_person_page()
    log_in(learner, audit, two_people.learner)
    learner.goto("/share")
    learner.get_by_label("Their email address").fill(two_people.third_party.email)
    learner.get_by_label(two_people.document).check()
    learner.get_by_role("button", name="Share", exact=True).click()  # the default end date
    expect(learner).to_have_url(re.compile(r"/connections/\d+$"))

    log_in(third_party, audit, two_people.third_party)
    open_connections(third_party, audit)
    counts = third_party.locator("#connection-counts")
    expect(counts.get_by_role("link", name="waiting for you")).to_have_text("1 waiting for you")
    expect(counts.get_by_role("link", name="active")).to_have_text("0 active")
    third_party.evaluate("window.__sameDocument = true")  # survives an htmx swap, not a page load

    row = row_for(third_party, two_people.learner_name)
    with third_party.expect_response(
        lambda r: r.request.method == "POST" and r.url.endswith("/accept")
    ) as answer:
        row.get_by_role("button", name=f"Accept {two_people.learner_name}").click()
    response = answer.value
    assert response.status == 200
    assert "hx-request" in (response.header_value("vary") or "").lower()
    body = response.text()
    assert "<html" not in body.lower() and 'class="connection"' in body

    expect(row.get_by_role("status")).to_have_text("Connection accepted.")
    expect(row.locator(".state")).to_have_text("Active")
    expect(counts.get_by_role("link", name="waiting for you")).to_have_text("0 waiting for you")
    expect(counts.get_by_role("link", name="active")).to_have_text("1 active")
    assert third_party.evaluate("window.__sameDocument") is True
    expect(third_party).to_have_url(re.compile(r"/connections$"))
    audit.check(third_party)

    assert console.errors == [], console.errors
