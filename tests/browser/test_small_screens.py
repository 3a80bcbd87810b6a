"""At 320 and 360 px nothing scrolls sideways, and every button, every link in a form and every
menu link is at least 44 by 44 px, on the main pages of each role (the staff learners table and the
cancel page's "No, keep it" among them)."""

from __future__ import annotations

import re
import secrets
import string
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page

from tests.browser.conftest import SeedAccount
from tests.browser.two_step import pass_second_step

PASSWORD = "orchard-lantern-quiet-river"
TARGET = 44
# Buttons anywhere, links inside forms, and the header's menu: what a thumb has to hit.
CONTROLS = "button, input[type=submit], a.button, form a, nav a"


def too_small(page: Page) -> list[str]:
    return page.evaluate(
        """([selector, target]) => [...document.querySelectorAll(selector)]
            .filter(el => el.offsetParent !== null)
            .map(el => [el, el.getBoundingClientRect()])
            .filter(([el, box]) => box.width < target - 0.5 || box.height < target - 0.5)
            .map(([el, box]) => `${el.tagName.toLowerCase()} "${el.textContent.trim()}" ${box.width.toFixed(0)}x${box.height.toFixed(0)}`)""",
        [CONTROLS, TARGET],
    )


def sideways(page: Page) -> tuple[int, int]:
    return page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")


@pytest.fixture
def people(create_accounts) -> dict[str, SeedAccount]:
    tag = secrets.token_hex(3)
    made = {
        "staff": SeedAccount("staff", f"sam{tag}", f"sam{tag}@example.com", PASSWORD, "Sam", "Staff"),
        "learner": SeedAccount(
            "learner",
            f"lena{tag}",
            f"lena.with.a.rather.long.address.{tag}@example-training-provider.co.uk",
            PASSWORD,
            "Lena",
            "Lovelace-Montgomery-Worthington",
            documents=("Level 3 Diploma in Adult Care",),
        ),
        "third_party": SeedAccount(
            "third_party", f"tara{tag}", f"tara{tag}@example.com", PASSWORD, "Tara", "Turner", "Acme Care"
        ),
    }
    create_accounts(*made.values())
    return made


@pytest.fixture(params=[320, 360], ids=["320px", "360px"])
def phone(request, browser: Browser, base_url: str) -> Iterator[Browser]:
    contexts = []

    def open_page() -> Page:
        ctx = browser.new_context(
            base_url=base_url, viewport={"width": request.param, "height": 700}, locale="en-GB"
        )
        ctx.set_default_timeout(10_000)
        contexts.append(ctx)
        return ctx.new_page()

    yield open_page
    for ctx in contexts:
        ctx.close()


def log_in(page: Page, person: SeedAccount) -> None:
    page.goto("/login")
    page.get_by_label("User name or email address").fill(person.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    pass_second_step(page, person.username)  # staff: two-step sign-in (set up at the first log-in)
    page.wait_for_url("**/dashboard")


def check(page: Page, path: str, problems: list[str]) -> None:
    page.goto(path)
    width, client = sideways(page)
    if width > client:
        problems.append(f"{path} scrolls sideways: scrollWidth {width} > clientWidth {client}")
    problems.extend(f"{path}: {control}" for control in too_small(page))


def test_main_pages_fit_a_phone_and_their_controls_are_big_enough(phone, people):
    problems: list[str] = []
    anonymous = phone()
    for path in ("/", "/login", "/register", "/forgot-password"):
        check(anonymous, path, problems)

    third_party = phone()
    log_in(third_party, people["third_party"])
    third_party.goto("/connections/new")
    third_party.get_by_label("Learner's email address").fill(people["learner"].email)
    third_party.get_by_role("button", name="Send request").click()
    third_party.wait_for_url(re.compile(r".*/connections/\d+$"))
    connection = third_party.url.rsplit("/", 1)[1]
    for path in (
        "/dashboard",
        "/connections",
        "/connections/new",
        f"/connections/{connection}",
        f"/connections/{connection}/cancel",
        "/connections/expiring-soon",
        "/profile",
        "/profile/two-step",
        "/profile/two-step/setup",
    ):
        check(third_party, path, problems)

    learner = phone()
    log_in(learner, people["learner"])
    for path in (
        "/dashboard",
        "/documents",
        "/connections",
        "/share",
        f"/connections/{connection}",
        "/activity",
    ):
        check(learner, path, problems)
    learner.goto("/documents")
    document = learner.locator("li[id^=document-] a").first.get_attribute("href")
    for path in (document, f"{document}/views", f"/activity?document={document.rsplit('/', 1)[1]}"):
        check(learner, path, problems)

    staff = phone()
    log_in(staff, people["staff"])
    check(staff, "/staff/learners", problems)
    # The staff table must hold a long address: add the learner with one, then look again. (The
    # name is new each time: the 320 and 360 px runs share one database; letters only, as names are.)
    tag = "".join(secrets.choice(string.ascii_lowercase) for _ in range(6))
    name = f"Maximiliana{tag} Featherstonehaugh-Cholmondeley"
    staff.get_by_label("First name").fill(f"Maximiliana{tag}")
    staff.get_by_label("Last name").fill("Featherstonehaugh-Cholmondeley")
    staff.get_by_label("Email address").fill(f"maximiliana.featherstonehaugh.{tag}@example-college.ac.uk")
    staff.get_by_role("button", name="Add learner").click()
    # However the answer comes (a redirect, or htmx loading the page), the table shows the learner.
    staff.get_by_role("cell", name=name).wait_for()
    # Then load the page afresh: measuring while the answer may still be navigating is a race.
    check(staff, "/staff/learners", problems)
    staff.get_by_role("cell", name=name).wait_for()

    assert not problems, "\n".join(problems)
