"""A signed receipt in a browser at 360 px, JavaScript on and off, every page checked by axe-core: a
phone scans a certificate, downloads the receipt the verify page offers (a .jws file with a readable
name, no cookie), opens the receipt check the page points to, uploads the file and reads that it is
genuine; a pasted scrap of text is an error beside the field, kept to correct."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser.conftest import Auditor, Console, SeedAccount
from tests.browser.test_connections_journey import log_in
from tests.browser.test_verify_journey import _scan


def test_download_a_receipt_of_a_check_and_check_it(
    new_person_page: Callable[[], Page],
    create_accounts: Callable[..., None],
    audit: Auditor,
    console: Console,
    tmp_path: Path,
) -> None:
    tag = uuid.uuid4().hex[:8]
    title = f"Level 3 Award in Joinery {tag}"
    learner = SeedAccount(
        "learner",
        f"rhea_{tag}",
        f"rhea.{tag}@example.com",
        f"cobalt-meadow-{tag}",
        "Rhea",
        f"Ortiz {tag}",
        documents=(title,),
    )
    create_accounts(learner)
    owner = new_person_page()
    log_in(owner, audit, learner)
    owner.get_by_role("navigation", name="Account").get_by_role("link", name="My documents").click()
    owner.get_by_role("link", name=title).click()
    scanned = _scan(owner)
    printed = owner.locator("figure.qr figcaption").inner_text().strip()

    phone = new_person_page()
    phone.goto(scanned)
    expect(phone.get_by_role("heading", level=1)).to_contain_text("Valid: issued by")
    with phone.expect_download() as download_info:
        phone.get_by_role("link", name="Download a signed receipt of this check").click()
    download = download_info.value
    assert re.fullmatch(
        rf"verify-receipt-{printed}-\d{{4}}-\d{{2}}-\d{{2}}\.jws", download.suggested_filename
    )
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    assert phone.context.cookies() == []

    phone.get_by_role("link", name=re.compile("verify.receipt$")).click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Check a verify receipt")
    audit.check(phone)
    phone.get_by_label("Paste the receipt").fill("not a receipt at all")
    phone.get_by_role("button", name="Check the receipt").click()
    expect(phone).to_have_title(re.compile("^Error: "))
    expect(phone.locator("#receipt-error")).to_contain_text("This is not a receipt")
    expect(phone.get_by_label("Paste the receipt")).to_have_value("not a receipt at all")
    audit.check(phone)

    phone.get_by_label("Paste the receipt").fill("")
    phone.get_by_label("Or choose the receipt file").set_input_files(saved)
    phone.get_by_role("button", name="Check the receipt").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text(re.compile("^Genuine: signed by"))
    expect(phone.get_by_role("main")).to_contain_text(title)
    expect(phone.get_by_role("main")).to_contain_text("Its status has not changed since.")
    audit.check(phone)
    assert phone.context.cookies() == []
    # The scrap of text is refused with a 422 by design, which Chromium logs; nothing else.
    unexpected = [e for e in console.errors if "status of 422" not in e]
    assert unexpected == [], console.errors
