"""Learners own their record (issue 22), in Chromium at 360 px with JavaScript on and off: a third
party views Lena's certificate and someone checks it on the verify page; Lena sees that view and the
verify count on her document; she downloads her data and opens the ZIP's README; she adds a second
email address, confirms it from the email, logs out and signs in with it. Every page visited is
checked by axe-core and for sideways scrolling; with JavaScript on, no console errors."""

from __future__ import annotations

import re
import time
import zipfile
from collections.abc import Callable

from playwright.sync_api import Page, expect

from tests.browser.conftest import Auditor, Console, Seeder
from tests.browser.test_connections_journey import assert_mail_soon, log_in
from tests.browser.test_documents_journey import _seed


def open_newest_link(
    page: Page, audit: Auditor, base_url: str, to: str, subject: str, path_prefix: str
) -> None:
    """Open the newest email with this subject to this address on /dev/mailbox, follow its link."""
    assert_mail_soon(base_url, to, subject)
    page.goto("/dev/mailbox")
    audit.check(page)
    page.locator("li", has_text=f"to {to},").get_by_role("link", name=subject).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(subject)
    page.locator(f'.mail-body a[href*="{path_prefix}"]').first.click()


def test_lena_owns_her_record(
    new_person_page: Callable[[], Page],
    create_accounts: Callable[..., None],
    seeder: Seeder,
    audit: Auditor,
    console: Console,
    base_url: str,
    javascript_enabled: bool,
) -> None:
    lena, tara, _staff, title = _seed(create_accounts, seeder)  # Lena shares the certificate with Tara
    second = lena.email.replace("lena.", "lena.home.")

    # Tara views Lena's certificate through their connection.
    viewer = new_person_page()
    log_in(viewer, audit, tara)
    viewer.get_by_role("navigation", name="Account").get_by_role("link", name="Connections").click()
    viewer.locator("li.connection").first.get_by_role("link").first.click()
    viewer.get_by_role("link", name=title).click()
    expect(viewer).to_have_url(re.compile(r"/connections/\d+/documents/\d+$"))
    audit.check(viewer)
    document_id = re.search(r"/documents/(\d+)$", viewer.url).group(1)  # type: ignore[union-attr]

    # Lena's document: someone checks it on the verify page; she sees Tara's view and the count.
    page = new_person_page()
    log_in(page, audit, lena)
    page.goto(f"/documents/{document_id}")
    verify_address = page.locator('a[href*="/v/"]').first.get_attribute("href")
    assert verify_address
    checker = new_person_page()
    checker.goto(verify_address)
    expect(checker.get_by_role("heading", level=1)).to_be_visible()
    audit.check(checker)
    seen = page.locator("#seen-by li")
    expect(seen).to_have_count(1)
    expect(seen.first).to_contain_text(f"{tara.first_name} {tara.last_name} (Northwind Training)")
    deadline = time.monotonic() + 15  # checks are counted just after the verify page answers
    while "Checked on the verify page: once" not in (page.locator("#verify-checks").text_content() or ""):
        assert time.monotonic() < deadline, page.locator("#verify-checks").text_content()
        time.sleep(0.2)
        page.reload()
    audit.check(page)

    # Download my data, from the profile: the page says what the copy is; the button saves a ZIP.
    page.get_by_role("navigation", name="Account").get_by_role("link", name="Profile").click()
    expect(page).to_have_url(re.compile(r"/profile$"))
    audit.check(page)
    page.get_by_role("link", name="Download your data").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Download your data")
    expect(page.get_by_role("main")).to_contain_text("not an official document")
    audit.check(page)
    with page.expect_download() as downloading:
        page.get_by_role("button", name="Download my data (ZIP)").click()
    download = downloading.value
    assert download.suggested_filename.startswith(f"{lena.username}-data-")
    with zipfile.ZipFile(download.path()) as archive:
        readme = archive.read("README.txt").decode()
        documents = archive.read("documents.csv").decode("utf-8-sig")
        views = archive.read("views.csv").decode("utf-8-sig")
    assert "NOT an official document" in readme and "verify address" in readme
    assert title in documents
    assert f"{tara.first_name} {tara.last_name} (Northwind Training)" in views
    expect(page.get_by_role("heading", level=1)).to_have_text("Download your data")  # still on the page
    assert_mail_soon(base_url, lena.email, "A copy of your data was downloaded")

    # Add a second address: the password is asked for; a wrong one is refused beside its field.
    page.goto("/profile")
    section = page.locator("#second-email")
    section.get_by_label("Second email address").fill(second)
    section.get_by_label("Current password").fill("not-the-password-at-all")
    section.get_by_role("button", name="Add address").click()
    expect(page.locator("#password_for_second-error")).to_contain_text("Your current password is not right")
    expect(page.locator("#second-email").get_by_label("Second email address")).to_have_value(second)
    audit.check(page)
    page.locator("#second-email").get_by_label("Current password").fill(lena.password)
    page.locator("#second-email").get_by_role("button", name="Add address").click()
    expect(page.get_by_role("status").filter(has_text=f"We have sent a link to {second}")).to_be_visible()
    expect(page.locator("#second-email")).to_contain_text(
        f"Waiting for you to open the link we sent to {second}"
    )
    audit.check(page)

    # The link in the email makes it her second address.
    open_newest_link(
        page, audit, base_url, second, "Confirm your second email address", "/profile/second-email/confirm/"
    )
    expect(page).to_have_url(re.compile(r"/profile#second-email$"))
    expect(
        page.get_by_role("status").filter(has_text="Your second email address is confirmed")
    ).to_be_visible()
    expect(page.locator("#second-email")).to_contain_text(f"Second address: {second}")
    audit.check(page)
    assert_mail_soon(base_url, lena.email, "A second email address was added")

    # Log out, and sign in with the second address.
    page.get_by_role("button", name="Log out").click()
    page.goto("/login")
    page.get_by_label("User name or email address").fill(second.upper())
    page.get_by_label("Password", exact=True).fill(lena.password)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/dashboard$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Lena")
    audit.check(page)
    assert console.errors == [], console.errors
