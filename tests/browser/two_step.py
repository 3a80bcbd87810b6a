"""The second step of a log-in in the browser, as a person with an authenticator app does it: on
the set-up page (staff at their first log-in) the key is read off the page and the app's code typed;
on the code page, the code the app shows now. The keys are remembered per user name for later
log-ins; a code is never typed twice (the portal refuses a replay), waiting for the next one if need be.
"""

from __future__ import annotations

import re
import time

import pyotp
from playwright.sync_api import Page, expect

KEYS: dict[str, str] = {}
_LAST_STEP: dict[str, int] = {}


def fresh_code(login: str) -> str:
    """The code for the newest 30-second step not yet used for this person (the next one, at most)."""
    now = int(time.time()) // 30
    step = max(now, _LAST_STEP.get(login, -1) + 1)
    while step > now + 1:  # both this step's and the next one's codes are spent: wait
        time.sleep(1)
        now = int(time.time()) // 30
    _LAST_STEP[login] = step
    return pyotp.TOTP(KEYS[login]).generate_otp(step)


def wrong_code(login: str) -> str:
    """A code the portal refuses now: none of the steps it accepts (one either side) makes it. Spends
    no step, so the right code that follows needs no wait for the next one."""
    now = int(time.time()) // 30
    valid = {pyotp.TOTP(KEYS[login]).generate_otp(step) for step in range(now - 1, now + 3)}
    return next(code for code in ("000000", "111111", "222222", "333333", "444444") if code not in valid)


def enrol(page: Page, login: str) -> list[str]:
    """On the set-up page: add the key to the "app", type its code; the recovery codes it then shows."""
    KEYS[login] = "".join(page.locator(".secret-key code").inner_text().split())
    _LAST_STEP.pop(login, None)
    page.get_by_label("Then enter the 6-digit code the app shows").fill(fresh_code(login))
    page.get_by_role("button", name="Turn on two-step sign-in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your recovery codes")
    return [code.strip() for code in page.locator(".recovery-codes code").all_inner_texts()]


def pass_second_step(page: Page, login: str) -> None:
    """After a right password: enrol (staff without two-step) or type the code, then continue. Waits
    for the log-in's answer first (with JavaScript, htmx navigates after the click returns)."""
    page.wait_for_url(re.compile(r"/(dashboard|login/second-step)(\?.*)?$"))
    if not page.url.endswith("/login/second-step"):
        return
    heading = page.get_by_role("heading", level=1).inner_text()
    if heading == "Set up two-step sign-in":
        enrol(page, login)
        page.get_by_role("link", name="I have saved my codes, continue").click()
        return
    page.get_by_label("Code from your authenticator app").fill(fresh_code(login))
    page.get_by_role("button", name="Continue").click()
