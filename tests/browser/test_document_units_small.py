"""A document's units table at 320 px, where the document is shown: the learner's document page,
the public verify page and the third party's viewer (whose watermark box clips what overflows). No
page scrolls sideways and every header of the table (Unit, Level, Credits, Grade) is fully visible:
inside the viewport and not cut off by any box that hides its overflow; axe-core finds nothing."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page

from tests.browser.conftest import Seeder
from tests.browser.seed import SeedAccount
from tests.browser.test_small_screens import PASSWORD, log_in, sideways

WIDTH = 320

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
    narrow: Callable[[], Page], create_accounts: Callable[..., None], seeder: Seeder
) -> None:
    tag = secrets.token_hex(3)
    learner = SeedAccount("learner", f"lena{tag}", f"lena{tag}@example.com", PASSWORD, "Lena", "Lovelace")
    third_party = SeedAccount(
        "third_party", f"tara{tag}", f"tara{tag}@example.com", PASSWORD, "Tara", "Turner", "Acme Care"
    )
    create_accounts(learner, third_party)
    # A document with long units, shown on its verify page and shared with the third party.
    made = seeder.call("shared_document_with_units", learner.email, third_party.email, f"APC-U{tag.upper()}")

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
