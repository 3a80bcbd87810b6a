"""The third party's whole account journey in Chromium at 360 px, with JavaScript on and off.

register → verification email → verified → log in → Manage (details, address) → change password →
log out → forgotten password → reset email → new password → log in. Every page visited is checked
with axe-core and for sideways scrolling; with JavaScript on, no console errors (CSP included).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from playwright.sync_api import Page, expect

from tests.browser.conftest import Auditor, Console


@dataclass(frozen=True)
class Person:
    first_name: str
    last_name: str
    username: str
    email: str
    password: str
    new_password: str
    reset_password: str


def new_person() -> Person:
    """Unique per test: the JS-on and JS-off runs share one server and database."""
    tag = uuid.uuid4().hex[:8]
    return Person(
        first_name="Priya",
        last_name="Okafor",
        username=f"priya_{tag}",
        email=f"priya.{tag}@example.com",
        password=f"amber-lantern-meadow-{tag}",
        new_password=f"violet-harbour-kettle-{tag}",
        reset_password=f"quiet-orchard-compass-{tag}",
    )


def open_email_link(page: Page, audit: Auditor, to: str, subject: str, path_prefix: str) -> None:
    """Open the newest email with this subject to this address on /dev/mailbox and follow its link."""
    page.goto("/dev/mailbox")
    expect(page.get_by_role("heading", level=1)).to_have_text("Development mailbox")
    audit.check(page)
    page.locator("li", has_text=f"to {to},").get_by_role("link", name=subject).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(subject)
    audit.check(page)
    page.locator(f'.mail-body a[href^="{path_prefix}"]').click()


def log_in(page: Page, login: str, password: str) -> None:
    page.get_by_label("User name or email address").fill(login)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Log in").click()


def fill_registration(page: Page, person: Person) -> None:
    page.get_by_label("First name").fill(person.first_name)
    page.get_by_label("Last name").fill(person.last_name)
    page.get_by_label("User name").fill(person.username)
    page.get_by_label("Email address").fill(person.email)
    page.get_by_label("Day").fill("7")
    page.get_by_label("Month").fill("March")  # a word, not a number: the form must accept it
    page.get_by_label("Year").fill("1988")
    page.get_by_label("Phone number").fill("07700 900123")
    page.get_by_label("Company name").fill("Northwind Training")
    page.get_by_label("Job title").fill("Recruiter")
    page.get_by_label("Password", exact=True).fill(person.password)


def test_whole_account_journey(
    page: Page, audit: Auditor, console: Console, javascript_enabled: bool
) -> None:
    person = new_person()

    # Register from the home page.
    page.goto("/")
    audit.check(page)
    page.get_by_role("link", name="Create an account").click()
    expect(page).to_have_url(re.compile(r"/register$"))
    audit.check(page)
    fill_registration(page, person)
    page.get_by_role("button", name="Create account").click()
    expect(page).to_have_url(re.compile(r"/register/check-email$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")
    expect(page.get_by_role("main")).to_contain_text(person.email)
    audit.check(page)

    # Logging in before verifying is refused, with a way to get a new link.
    page.goto("/login")
    log_in(page, person.username, person.password)
    expect(page.locator(".error-summary")).to_contain_text("verify")
    expect(page.get_by_role("link", name="Send me a new verification link")).to_be_visible()
    audit.check(page)

    # The verification email's link verifies the address and leads to the log-in page.
    open_email_link(page, audit, person.email, "Verify your email address", "/verify-email/")
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.get_by_role("status")).to_contain_text("Your email address is verified")
    audit.check(page)

    # Log in with the email address.
    log_in(page, person.email, person.password)
    expect(page).to_have_url(re.compile(r"/dashboard$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Hello, {person.first_name}")
    audit.check(page)

    # Manage: the registration details are there; change the job title and see it saved.
    page.get_by_role("navigation", name="Account").get_by_role("link", name="Profile").click()
    expect(page).to_have_url(re.compile(r"/profile$"))
    audit.check(page)
    details = page.locator("#details")
    expect(details.get_by_label("Job title")).to_have_value("Recruiter")
    expect(details.get_by_label("Month")).to_have_value(re.compile(r"^(3|03|March)$"))
    details.get_by_label("Job title").fill("Head of Talent")
    if javascript_enabled:
        page.evaluate("window.__sameDocument = true")
    details.get_by_role("button", name="Save details").click()
    expect(page.get_by_role("status").filter(has_text="Your details have been saved")).to_be_visible()
    if javascript_enabled:  # htmx swapped the details form alone, the page did not reload
        assert page.evaluate("window.__sameDocument") is True
    expect(details.get_by_label("Job title")).to_have_value("Head of Talent")
    audit.check(page)
    page.reload()
    expect(page.locator("#details").get_by_label("Job title")).to_have_value("Head of Talent")

    # Add an address that is both the billing and the delivery address.
    page.get_by_role("link", name="Add an address").click()
    expect(page).to_have_url(re.compile(r"/profile/addresses/new$"))
    audit.check(page)
    page.get_by_label("Address line 1").fill("12 Harbour Street")
    page.get_by_label("Town or city").fill("Leeds")
    page.get_by_label("Postcode").fill("LS1 4AB")
    page.get_by_label("Country").fill("United Kingdom")
    page.get_by_label("Billing").check()
    page.get_by_label("Delivery of printed copies").check()
    page.get_by_role("button", name="Save address").click()
    expect(page).to_have_url(re.compile(r"/profile#addresses$"))
    expect(page.get_by_role("status").filter(has_text="Address added")).to_be_visible()
    listed = page.locator("#addresses li", has_text="12 Harbour Street")
    expect(listed).to_contain_text("Leeds, LS1 4AB, United Kingdom")
    expect(listed.locator(".tag")).to_have_text(["Billing", "Delivery"])
    audit.check(page)

    # Change the password (the current one is needed).
    page.get_by_role("link", name="Change your password").click()
    expect(page).to_have_url(re.compile(r"/profile/password$"))
    audit.check(page)
    page.get_by_label("Current password").fill(person.password)
    page.get_by_label("New password").fill(person.new_password)
    page.get_by_role("button", name="Change password").click()
    expect(page).to_have_url(re.compile(r"/profile$"))
    expect(page.get_by_role("status").filter(has_text="Your password has been changed")).to_be_visible()

    # Log out.
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/login\?logged_out=true$"))
    expect(page.get_by_role("status")).to_contain_text("You have logged out")
    audit.check(page)

    # Forgotten password: ask for a link by user name, open the email, choose a new password.
    page.get_by_role("link", name="Forgotten your password?").click()
    expect(page).to_have_url(re.compile(r"/forgot-password$"))
    audit.check(page)
    page.get_by_label("User name or email address").fill(person.username)
    page.get_by_role("button", name="Send reset link").click()
    expect(page).to_have_url(re.compile(r"/forgot-password/sent$"))
    audit.check(page)
    open_email_link(page, audit, person.email, "Reset your password", "/reset-password/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Choose a new password")
    expect(page.get_by_role("main")).to_contain_text(person.username)
    audit.check(page)
    page.get_by_label("New password").fill(person.reset_password)
    page.get_by_role("button", name="Save password").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.get_by_role("status")).to_contain_text("Your password has been changed")

    # The password set before the reset no longer works; the new one does.
    log_in(page, person.username, person.new_password)
    expect(page.locator(".error-summary")).to_contain_text("not right")
    audit.check(page)
    log_in(page, person.username, person.reset_password)
    expect(page).to_have_url(re.compile(r"/dashboard$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Hello, {person.first_name}")
    audit.check(page)

    assert console.errors == [], console.errors


def test_registration_errors_keep_typed_values(
    page: Page, audit: Auditor, console: Console, javascript_enabled: bool
) -> None:
    person = new_person()
    page.goto("/register")
    if javascript_enabled:
        page.evaluate("window.__sameDocument = true")  # survives an htmx swap, not a page load

    fill_registration(page, person)
    page.get_by_label("Last name").fill("")
    page.get_by_label("Month").fill("Marchuary")
    with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/register")) as answer:
        page.get_by_role("button", name="Create account").click()
    response = answer.value
    assert response.status == 422

    summary = page.locator(".error-summary")
    expect(summary.get_by_role("heading")).to_have_text("There is a problem")
    expect(summary).to_be_focused()  # as GOV.UK does: the summary takes focus so it is read first
    expect(page).to_have_url(re.compile(r"/register$"))

    if javascript_enabled:
        # htmx swapped the form in place: a fragment came back and the document stayed the same.
        assert "hx-request" in (response.header_value("vary") or "").lower()
        body = response.text()
        assert "<html" not in body.lower() and 'id="register-form"' in body
        assert page.evaluate("window.__sameDocument") is True
    else:
        expect(page).to_have_title(re.compile(r"^Error: "))

    # Each message links to its field, which takes focus; the message is beside the field too.
    page.get_by_role("link", name="Enter your last name").click()
    expect(page.get_by_label("Last name")).to_be_focused()
    expect(page.locator("#last_name-error")).to_contain_text("Enter your last name")
    expect(page.get_by_label("Last name")).to_have_attribute("aria-invalid", "true")
    summary.get_by_role("link").filter(has_text="date of birth").click()
    expect(page.get_by_label("Day")).to_be_focused()

    # Everything typed is kept, except the password.
    expect(page.get_by_label("First name")).to_have_value(person.first_name)
    expect(page.get_by_label("User name")).to_have_value(person.username)
    expect(page.get_by_label("Email address")).to_have_value(person.email)
    expect(page.get_by_label("Month")).to_have_value("Marchuary")
    expect(page.get_by_label("Job title")).to_have_value("Recruiter")
    expect(page.get_by_label("Password", exact=True)).to_have_value("")
    audit.check(page)

    # Put it right and the account is made.
    page.get_by_label("Last name").fill(person.last_name)
    page.get_by_label("Month").fill("march")
    page.get_by_label("Password", exact=True).fill(person.password)
    page.get_by_role("button", name="Create account").click()
    expect(page).to_have_url(re.compile(r"/register/check-email$"))

    assert console.errors == [], console.errors


def test_skip_link_reaches_main_content_by_keyboard(page: Page, console: Console) -> None:
    page.goto("/login")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page.locator("main#main-content")).to_be_focused()
    page.keyboard.press("Tab")  # the next stop is inside the main content, not the header
    assert page.evaluate("document.querySelector('main').contains(document.activeElement)")
    assert console.errors == [], console.errors
