"""Smart Verify in a browser at 360 px, JavaScript on and off, every page checked by axe-core: a phone
scans the QR code on the learner's document page (decoded from the page by a real decoder), someone
types the printed code with a typo and then right, and the learner's "show on verify page" switch
changes what the next scan shows. The verify page itself sets no cookie and loads no script."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

from playwright.sync_api import Page, expect
from selectolax.lexbor import LexborHTMLParser

from tests.browser.conftest import Auditor, Console, SeedAccount
from tests.browser.test_connections_journey import log_in
from tests.support.qr_reader import decode

# Crockford base32 without I, L, O, U: a character swapped for another of these is a typing error.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def _typo(printed: str) -> str:
    """The printed code with its first character changed to another valid one (the check character
    at the end then no longer matches)."""
    first = printed[0]
    other = ALPHABET[(ALPHABET.index(first) + 1) % len(ALPHABET)]
    return other + printed[1:]


def _scan(page: Page) -> str:
    """What a phone camera would read off the QR code on this page (once the page that shows it has
    loaded: without JavaScript, the click that led here may still be navigating)."""
    page.locator("figure.qr svg").wait_for()
    svg = LexborHTMLParser(page.content()).css_first("figure.qr svg")
    assert svg is not None, "no QR code on the page"
    return str(decode(svg).text)


def test_scan_type_and_choose_what_the_verify_page_shows(
    new_person_page: Callable[[], Page],
    create_accounts: Callable[..., None],
    audit: Auditor,
    console: Console,
    base_url: str,
    javascript_enabled: bool,
) -> None:
    tag = uuid.uuid4().hex[:8]
    title = f"Level 2 Certificate in Brickwork {tag}"
    learner = SeedAccount(
        "learner",
        f"vera_{tag}",
        f"vera.{tag}@example.com",
        f"granite-harbour-{tag}",
        "Vera",
        f"Nguyễn {tag}",
        documents=(title,),
    )
    create_accounts(learner)

    # The learner finds the QR code and the printed code on their document's page.
    owner = new_person_page()
    log_in(owner, audit, learner)
    owner.get_by_role("navigation", name="Account").get_by_role("link", name="My documents").click()
    owner.get_by_role("link", name=title).click()
    expect(owner.get_by_role("heading", level=1)).to_have_text(title)
    audit.check(owner)
    scanned = _scan(owner)
    assert re.fullmatch(rf"{re.escape(base_url)}/v/[0-9A-Z]{{17}}", scanned), scanned
    printed = owner.locator("figure.qr figcaption").inner_text().strip()
    assert re.fullmatch(r"[0-9A-Z]{4}(-[0-9A-Z]{4}){3}-[0-9A-Z]", printed), printed

    # A phone scans it: status and key facts, not the document (off by default), nothing left behind.
    phone = new_person_page()
    scripts: list[str] = []
    phone.on("request", lambda r: scripts.append(r.url) if r.resource_type == "script" else None)
    answer = phone.goto(scanned)
    assert answer is not None
    assert answer.status == 200
    assert "set-cookie" not in answer.headers
    assert answer.headers["cache-control"] == "no-store"
    expect(phone.get_by_role("heading", level=1)).to_contain_text("Valid: issued by")
    expect(phone.get_by_role("main")).to_contain_text(f"Vera Nguyễn {tag}")
    expect(phone.get_by_role("main")).to_contain_text(title)
    expect(phone.locator("article.document")).to_have_count(0)
    audit.check(phone)
    assert phone.context.cookies() == []
    assert scripts == []

    # Someone types the printed code: first with a typo (caught by the check character), then right.
    phone.goto("/")
    phone.get_by_role("link", name=re.compile("Check a document", re.IGNORECASE)).first.click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Check a document")
    audit.check(phone)
    phone.get_by_label("Code as printed").fill(_typo(printed))
    phone.get_by_role("button", name="Check the document").click()
    expect(phone).to_have_title(re.compile("^Error: "))
    expect(phone.locator("#code-error")).to_contain_text("This code has a typing error")
    expect(phone.locator(".error-summary")).to_contain_text("This code has a typing error")
    expect(phone.get_by_label("Code as printed")).to_have_value(_typo(printed))  # kept, to correct
    audit.check(phone)
    phone.get_by_label("Code as printed").fill(printed.lower().replace("-", " "))
    phone.get_by_role("button", name="Check the document").click()
    expect(phone).to_have_url(scanned)
    expect(phone.get_by_role("heading", level=1)).to_contain_text("Valid: issued by")

    # The learner chooses to show the document itself; the next scan shows it.
    owner.get_by_role("button", name=re.compile("^Show the document on its verify page")).click()
    expect(owner.locator(".verify-shown")).to_contain_text("sees this document itself")
    stop = owner.get_by_role("button", name=re.compile("^Stop showing the document on its verify page"))
    expect(stop).to_be_visible()
    if javascript_enabled:
        expect(stop).to_be_focused()  # htmx swapped the block; focus stays on the switch
    audit.check(owner)
    phone.goto(scanned)
    expect(phone.locator("article.document")).to_be_visible()
    expect(phone.locator("article.document")).to_contain_text(title)
    audit.check(phone)

    # And hides it again: the very next scan no longer shows it.
    stop.click()
    expect(owner.locator(".verify-shown")).to_contain_text("status and key facts only")
    phone.goto(scanned)
    expect(phone.locator("article.document")).to_have_count(0)
    # The typo's answer is a 400 by design (the table), which Chromium logs; nothing else.
    unexpected = [e for e in console.errors if not ("status of 400" in e and "/verify?code=" in e)]
    assert unexpected == [], console.errors
