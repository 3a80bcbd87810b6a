"""Two-step sign-in in the browser at 360 px, JavaScript on and off, every page checked with axe:
a third party turns the authenticator on from the dashboard's suggestion and signs in with it; a
member of staff is made to set it up at the first sign-in before any staff page."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

from playwright.sync_api import Page, expect

from tests.browser.conftest import Auditor
from tests.browser.seed import SeedAccount
from tests.browser.two_step import enrol, fresh_code, wrong_code


def person(role: str, name: str) -> SeedAccount:
    tag = uuid.uuid4().hex[:8]
    return SeedAccount(
        role,
        f"{name}_{tag}",
        f"{name}.{tag}@example.com",
        f"amber-quartz-lantern-{tag}",
        name.capitalize(),
        f"Tester {tag}",
    )


def password_step(page: Page, account: SeedAccount) -> None:
    page.goto("/login")
    page.get_by_label("User name or email address").fill(account.username)
    page.get_by_label("Password", exact=True).fill(account.password)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/login/second-step$"))


def test_a_third_party_turns_on_the_authenticator_and_signs_in_with_it(
    page: Page, audit: Auditor, create_accounts: Callable[..., None]
) -> None:
    tara = person("third_party", "tara")
    create_accounts(tara)
    page.goto("/login")
    page.get_by_label("User name or email address").fill(tara.username)
    page.get_by_label("Password", exact=True).fill(tara.password)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/dashboard$"))
    audit.check(page)

    page.get_by_role("link", name="Set it up").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Set up two-step sign-in")
    audit.check(page)
    codes = enrol(page, tara.username)
    assert len(codes) == 10
    audit.check(page)
    page.get_by_role("link", name="I have saved my codes, continue").click()
    expect(page.get_by_text("Two-step sign-in is on.", exact=False).first).to_be_visible()
    audit.check(page)

    page.get_by_role("button", name="Log out").click()
    password_step(page, tara)
    audit.check(page)
    code = page.get_by_label("Code from your authenticator app")
    assert code.get_attribute("autocomplete") == "one-time-code"
    assert code.get_attribute("inputmode") == "numeric"
    # A wrong code first: the error beside the field, then the right one.
    code.fill(wrong_code(tara.username))
    page.get_by_role("button", name="Continue").click()
    expect(page.locator(".error-message")).to_contain_text("That code is not right")
    audit.check(page)
    page.get_by_label("Code from your authenticator app").fill(fresh_code(tara.username))
    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_url(re.compile(r"/dashboard$"))

    # Can't use the authenticator? A recovery code signs in once instead.
    page.get_by_role("button", name="Log out").click()
    password_step(page, tara)
    page.get_by_role("link", name=re.compile("use your authenticator")).click()
    audit.check(page)
    page.get_by_label("Recovery code").fill(codes[0])
    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_url(re.compile(r"/dashboard$"))
    expect(page.get_by_text("You have 9 recovery codes left", exact=False)).to_be_visible()


def test_staff_are_made_to_set_up_two_step_at_their_first_sign_in(
    page: Page, audit: Auditor, create_accounts: Callable[..., None]
) -> None:
    sam = person("staff", "sam")
    create_accounts(sam)
    password_step(page, sam)
    expect(page.get_by_role("heading", level=1)).to_have_text("Set up two-step sign-in")
    expect(page.locator("svg.qr")).to_be_visible()
    audit.check(page)
    # Nothing else opens meanwhile: a staff page sends the browser to log in.
    page.goto("/staff/learners")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.goto("/login/second-step")
    enrol(page, sam.username)
    audit.check(page)
    page.get_by_role("link", name="I have saved my codes, continue").click()
    expect(page).to_have_url(re.compile(r"/dashboard$"))
    page.goto("/staff/learners")
    expect(page.get_by_role("heading", level=1)).to_have_text("Learners")
    audit.check(page)
