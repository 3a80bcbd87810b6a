"""Staff import documents from a CSV file: the dry run shows a bad row's error beside it, staff fix
the file and upload it again, the clean dry run is confirmed, the documents are in the staff list and
the learner's email arrives. At 360 px, with JavaScript on and off, every page checked by axe-core.
At 320 px the check page shows each row as a card that fits; where there is room, a table."""

from __future__ import annotations

import csv
import io
import re
import uuid
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser.conftest import Auditor, Console, SeedAccount
from tests.browser.test_connections_journey import assert_mail_soon, log_in

COLUMNS = (
    "certificate_number,learner_email,first_name,middle_name,last_name,enrolment_number,uln,kind,"
    "qualification_code,qualification_title,level,grade,awarded_on,valid_until"
).split(",")


def letters(tag: str) -> str:
    """A hex tag as letters: a name on a document takes no digits."""
    return tag.translate(str.maketrans("0123456789", "ghijklmnop"))


def results_file(folder: Path, learner: SeedAccount, tag: str, second_awarded_on: str) -> Path:
    rows = [
        {
            "certificate_number": f"IMP-{tag}-1",
            "qualification_title": f"Award in First Aid {tag}",
            "awarded_on": "14/03/2025",
        },
        {
            "certificate_number": f"IMP-{tag}-2",
            "qualification_title": f"Award in Joinery {tag}",
            "awarded_on": second_awarded_on,
        },
    ]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS)
    writer.writeheader()
    for row in rows:
        writer.writerow(
            {
                **dict.fromkeys(COLUMNS, ""),
                "learner_email": learner.email,
                "first_name": learner.first_name,
                "last_name": learner.last_name,
                "enrolment_number": f"ENR-{tag}",
                "kind": "certificate",
                "level": "2",
                **row,
            }
        )
    path = folder / "results.csv"
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


def upload(page: Page, audit: Auditor, path: Path) -> None:
    page.get_by_label("Documents file (CSV)").set_input_files(path)
    page.get_by_role("button", name="Check the file").click()
    expect(page.get_by_role("heading", name="Checked: nothing has been written yet")).to_be_visible()
    audit.check(page)


def test_staff_fix_a_bad_row_and_import_the_file(
    page: Page,
    create_accounts: Callable[..., None],
    audit: Auditor,
    console: Console,
    base_url: str,
    tmp_path: Path,
) -> None:
    tag = uuid.uuid4().hex[:8]
    learner = SeedAccount(
        "learner",
        f"ivy_{tag}",
        f"ivy.{tag}@example.com",
        f"moss-lantern-{tag}",
        "Ivy",
        f"Hale {letters(tag)}",
    )
    staff = SeedAccount(
        "staff", f"sid_{tag}", f"sid.{tag}@example.com", f"amber-quartz-{tag}", "Sid", "Staff"
    )
    create_accounts(learner, staff)

    log_in(page, audit, staff)
    page.get_by_role("navigation", name="Account").get_by_role("link", name="Documents").click()
    page.get_by_role("link", name="Import from a CSV file").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Import documents from a CSV file")
    audit.check(page)

    # 31 February: the dry run puts the error beside that row, and nothing can be confirmed.
    upload(page, audit, results_file(tmp_path, learner, tag, "31/02/2025"))
    rows = page.locator("#import-result tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("Error")  # errors and conflicts first
    expect(rows.nth(0).locator(".row-errors")).to_contain_text("Awarded on must be a real date")
    expect(rows.nth(1)).to_contain_text("New")
    expect(page.get_by_role("button", name=re.compile("^Import"))).to_have_count(0)

    # Fixed and uploaded again: clean, then confirmed.
    page.get_by_role("link", name="Upload another file").click()
    upload(page, audit, results_file(tmp_path, learner, tag, "28/02/2025"))
    expect(page.locator("#import-result tbody tr.row-new")).to_have_count(2)
    page.get_by_role("button", name="Import 2 documents and email the learners").click()
    expect(page.get_by_role("heading", name="Imported", exact=True)).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="Imported 2 documents")).to_be_visible()
    audit.check(page)

    # The documents are in the staff list, and the learner is told.
    page.get_by_role("navigation", name="Account").get_by_role("link", name="Documents").click()
    page.get_by_label("Learner, email, enrolment or certificate number").fill(f"IMP-{tag}")
    page.get_by_label("Learner, email, enrolment or certificate number").press("Enter")
    expect(page.get_by_role("main")).to_contain_text(f"IMP-{tag}-1")
    expect(page.get_by_role("main")).to_contain_text(f"IMP-{tag}-2")
    audit.check(page)
    assert_mail_soon(base_url, learner.email, "new documents")
    assert console.errors == [], console.errors


def sideways(page: Page) -> tuple[int, int]:
    return page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")


def test_the_check_page_shows_cards_at_320px_and_a_table_where_it_fits(
    page: Page, create_accounts: Callable[..., None], audit: Auditor, tmp_path: Path
) -> None:
    tag = uuid.uuid4().hex[:8]
    learner = SeedAccount(
        "learner",
        f"thi_{tag}",
        f"thi.with.a.rather.long.address.{tag}@example-training-provider.co.uk",
        f"moss-lantern-{tag}",
        "Lan",
        f"Featherstonehaugh-Nguyễn {letters(tag)}",
    )
    staff = SeedAccount(
        "staff", f"sue_{tag}", f"sue.{tag}@example.com", f"amber-quartz-{tag}", "Sue", "Staff"
    )
    create_accounts(learner, staff)
    log_in(page, audit, staff)
    page.set_viewport_size({"width": 320, "height": 700})
    page.goto("/staff/imports")
    upload(page, audit, results_file(tmp_path, learner, tag, "31/02/2025"))

    width, client = sideways(page)
    assert width <= client, f"the check page scrolls sideways at 320 px: {width} > {client}"
    card = page.locator("#import-result tbody tr").first
    box = card.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 320
    # The card names each piece in words (the column headers are out of sight) and says what is wrong.
    expect(page.get_by_role("columnheader", name="Certificate")).not_to_be_in_viewport()
    labels = card.locator("td").evaluate_all(
        "cells => cells.map(td => getComputedStyle(td, '::before').content)"
    )
    assert labels[:3] == ['"Line: "', '"Certificate: "', '"Learner: "'], labels
    expect(card).to_contain_text(f"IMP-{tag}-2")
    expect(card).to_contain_text(f"Lan Featherstonehaugh-Nguyễn {letters(tag)}")
    expect(card.locator(".row-errors li")).to_have_text(
        "Awarded on must be a real date as dd/mm/yyyy or yyyy-mm-dd"
    )

    page.set_viewport_size({"width": 1024, "height": 700})
    expect(page.get_by_role("columnheader", name="Certificate")).to_be_visible()
    assert card.locator("td").first.evaluate("td => getComputedStyle(td).display") == "table-cell"
    width, client = sideways(page)
    assert width <= client
