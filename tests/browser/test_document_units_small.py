"""A document's units table at 320 px, where the document is shown: the learner's document page,
the public verify page and the third party's viewer (whose watermark box clips what overflows). No
page scrolls sideways and every header of the table (Unit, Level, Credits, Grade) is fully visible:
inside the viewport and not cut off by any box that hides its overflow; axe-core finds nothing."""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
from collections.abc import Callable, Iterator

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page

from tests.browser.conftest import ROOT, Server
from tests.browser.seed import SeedAccount
from tests.browser.test_small_screens import PASSWORD, log_in, sideways

WIDTH = 320

# Run with the server's environment: a document with long units, shown on its verify page and shared
# with the third party. Prints the ids the pages need.
DOCUMENT_SCRIPT = """
import asyncio, json, sys
from datetime import timedelta
from src import connections, db
from src.clock import today_in
from src.documents import issue
from src.settings import load_settings
from src.tables.accounts import Account

UNITS = [
    {"title": "Understand person-centred approaches to assessment and care planning in residential "
              "settings", "code": "H/650/2401", "level": "3", "credits": "10", "grade": "Distinction"},
    {"title": "Safeguarding and protection of individuals", "code": "SHC 34", "level": "3",
     "credits": "4", "grade": "Merit"},
    {"title": "Communication", "code": "", "level": "2", "credits": "3", "grade": "Pass"},
]

async def main(learner_email, third_party_email, number):
    await db.open_pool()
    day = today_in(load_settings().tz)
    learner = await Account.objects().where(Account.email == learner_email).first()
    third_party = await Account.objects().where(Account.email == third_party_email).first()
    document = await issue(learner, "Level 3 Diploma in Adult Care", number, day, units=UNITS,
                           grade="Merit", level="Level 3", show_on_verify=True)
    connection = await connections.share(learner, third_party.email, [document.id], day + timedelta(days=30), day)
    await connections.accept_as_third_party(third_party, connection, day)
    await db.close_pool()
    print(json.dumps({"document": document.id, "code": document.verify_code, "connection": connection.id}))

asyncio.run(main(*sys.argv[1:]))
"""

HEADERS_SHOWN = """() => {
    const headers = [...document.querySelectorAll("table.document-units thead th")];
    const clips = el => {
        for (let box = el.parentElement; box; box = box.parentElement) {
            const style = getComputedStyle(box);
            if (style.overflowX !== "visible" || style.overflowY !== "visible") return box;
        }
        return null;
    };
    return headers.map(th => {
        const r = th.getBoundingClientRect();
        const text = th.textContent.trim();
        let cut = r.left < 0 || r.right > document.documentElement.clientWidth;
        const clip = clips(th);
        if (clip) {
            const c = clip.getBoundingClientRect();
            cut = cut || r.left < c.left - 0.5 || r.right > c.right + 0.5;
        }
        cut = cut || th.scrollWidth > th.clientWidth;
        return [text, cut];
    });
}"""


@pytest.fixture
def narrow(browser: Browser, base_url: str) -> Iterator[Callable[[], Page]]:
    contexts = []

    def open_page() -> Page:
        ctx = browser.new_context(base_url=base_url, viewport={"width": WIDTH, "height": 700}, locale="en-GB")
        ctx.set_default_timeout(10_000)
        contexts.append(ctx)
        return ctx.new_page()

    yield open_page
    for ctx in contexts:
        ctx.close()


def test_the_units_table_fits_320px_on_every_page_that_shows_it(
    narrow: Callable[[], Page], create_accounts: Callable[..., None], server: Server
) -> None:
    tag = secrets.token_hex(3)
    learner = SeedAccount("learner", f"lena{tag}", f"lena{tag}@example.com", PASSWORD, "Lena", "Lovelace")
    third_party = SeedAccount(
        "third_party", f"tara{tag}", f"tara{tag}@example.com", PASSWORD, "Tara", "Turner", "Acme Care"
    )
    create_accounts(learner, third_party)
    done = subprocess.run(
        [sys.executable, "-c", DOCUMENT_SCRIPT, learner.email, third_party.email, f"APC-U{tag.upper()}"],
        env=server.env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    made = json.loads(done.stdout.strip().splitlines()[-1])

    learner_page = narrow()
    log_in(learner_page, learner)
    third_party_page = narrow()
    log_in(third_party_page, third_party)
    visits = [
        (learner_page, f"/documents/{made['document']}"),
        (narrow(), f"/v/{made['code']}"),
        (third_party_page, f"/connections/{made['connection']}/documents/{made['document']}"),
    ]
    problems: list[str] = []
    axe = Axe()
    for page, path in visits:
        page.goto(path)
        width, client = sideways(page)
        if width > client:
            problems.append(f"{path} scrolls sideways: scrollWidth {width} > clientWidth {client}")
        headers = page.evaluate(HEADERS_SHOWN)
        assert [text for text, _ in headers] == ["Unit", "Level", "Credits", "Grade"], path
        problems.extend(f"{path}: header {text!r} is cut off" for text, cut in headers if cut)
        # Every unit's grade is on the page, whole.
        for grade in ("Distinction", "Merit", "Pass"):
            cell = page.locator("table.document-units td", has_text=grade).first
            box = cell.bounding_box()
            if box is None or box["x"] + box["width"] > client:
                problems.append(f"{path}: the grade {grade} is cut off ({box})")
        # The stacked rows are still a table to assistive technology, as far as axe-core can tell.
        results = axe.run(page)
        if results.violations_count:
            problems.append(f"axe on {path}:\n{results.generate_report()}")
    assert not problems, "\n".join(problems)
