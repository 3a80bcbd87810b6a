"""The account forms, checked in one place: each `check_…` reads a submitted `Form` and returns the
values the action needs, or None (False) with the errors recorded per field in page order, so the
error summary lists them as the page shows the fields. Passwords are never handed back to a page."""

from __future__ import annotations

from typing import Any

from src.accounts.learners import NewLearner
from src.accounts.login import LOCKED, check_current_password
from src.accounts.registration import NewAccount, email_taken, username_taken
from src.forms import USERNAME_RE, Form, parse_date
from src.passwords import password_problem
from src.tables.accounts import Account, Address, Role

USERNAME_RULE = "User name must be 3 to 40 letters, numbers, dots, dashes or underscores"
USERNAME_TAKEN = "This user name is taken. Choose another"


def _username(form: Form) -> str:
    username = form.required("username", "Enter a user name", 40)
    if username and not USERNAME_RE.match(username):
        form.error("username", USERNAME_RULE)
    return username


def check_registration(form: Form, org_name: str = "") -> NewAccount | None:
    """A third party's registration. Whether the user name or address is taken is never said here
    (`register` tells the registrant by email), so the page cannot reveal that an account exists."""
    first = form.person_name("first_name", "First name", "Enter your first name")
    middle = form.person_name("middle_name", "Middle name")
    last = form.person_name("last_name", "Last name", "Enter your last name")
    username = _username(form)
    email = form.email("email")
    born = parse_date(form, "dob", "your date of birth", past="Date of birth must be in the past")
    phone = form.optional("phone", 40)
    company = form.optional("company_name")
    job = form.optional("job_title")
    password = form.get("password")
    problem = password_problem(password, username=username, email=email, org_name=org_name)
    if problem:
        form.error("password", problem)
    if not form.ok:
        return None
    return NewAccount(
        role=Role.third_party,
        username=username,
        email=email,
        first_name=first,
        middle_name=middle,
        last_name=last,
        phone=phone,
        company_name=company,
        job_title=job,
        date_of_birth=born,
        password=password,
    )


async def check_details(form: Form, account: Account) -> dict[Any, Any] | None:
    """Personal details on the profile page: the column changes to save (the email address is not
    among them: a new one waits for verification), or None."""
    first_name = form.person_name("first_name", "First name", "Enter your first name")
    middle_name = form.person_name("middle_name", "Middle name")
    last_name = form.person_name("last_name", "Last name", "Enter your last name")
    username = _username(form)
    is_new = username and "username" not in form.errors and username.lower() != account.username_key
    if is_new and await username_taken(username):
        form.error("username", USERNAME_TAKEN)
    form.email("email")
    changes: dict[Any, Any] = {
        Account.first_name: first_name,
        Account.middle_name: middle_name,
        Account.last_name: last_name,
        Account.date_of_birth: parse_date(
            form, "dob", "your date of birth", past="Date of birth must be in the past"
        ),
        Account.phone: form.optional("phone", 40),
        Account.company_name: form.optional("company_name"),
        Account.job_title: form.optional("job_title"),
    }
    if not form.ok:
        return None
    changes[Account.username] = username
    changes[Account.username_key] = username.lower()
    return changes


def check_contact(form: Form) -> tuple[str, str, str] | None:
    """An extra contact detail: (kind, value, label)."""
    kind = form.get("kind")
    if kind not in {"phone", "email"}:
        form.error("kind", "Choose phone or email")
    value = form.email("value") if kind == "email" else form.required("value", "Enter the phone number", 40)
    label = form.optional("label", 60)
    return (kind, value, label) if form.ok else None


def check_passkey_name(form: Form) -> str | None:
    """The name a person gives a new passkey, so they can tell their passkeys apart later."""
    name = form.required("name", "Enter a name for this passkey, like “Work laptop”", 60)
    if "\x00" in name:
        form.error("name", "Enter a name without control characters")
    return name if form.ok else None


def check_address(form: Form) -> dict[Any, Any] | None:
    """A postal address: the column values to save, or None."""
    values = {
        Address.line1: form.required("line1", "Enter the first line of the address", 200),
        Address.line2: form.optional("line2", 200),
        Address.town: form.required("town", "Enter the town or city"),
        Address.postcode: form.required("postcode", "Enter the postcode", 20).upper(),
        Address.country: form.get("country") or "United Kingdom",
        Address.is_billing: form.get("is_billing") == "yes",
        Address.is_delivery: form.get("is_delivery") == "yes",
    }
    form.optional("country", 100)
    return values if form.ok else None


def check_new_password(form: Form, account: Account, org_name: str = "") -> str | None:
    """The password chosen on an emailed link's page (activation or reset)."""
    password = form.get("password")
    problem = password_problem(password, username=account.username, email=account.email, org_name=org_name)
    if problem:
        form.error("password", problem)
        return None
    return password


async def check_password_change(form: Form, account: Account, org_name: str = "") -> str | None:
    """A logged-in password change: the current password (counted like a log-in, so a stolen
    session cannot guess it here), then the new one."""
    current = form.get("current_password")
    if not current:
        form.error("current_password", "Enter your current password")
    else:
        check = await check_current_password(account, current)
        if check.problem:
            form.error("current_password", LOCKED if check.locked else "Your current password is not right")
    password = form.get("password")
    problem = password_problem(password, username=account.username, email=account.email, org_name=org_name)
    if problem:
        form.error("password", problem)
    return password if form.ok else None


async def check_deletion(form: Form, account: Account) -> bool:
    """Deleting the account needs its password."""
    password = form.get("password")
    if not password:
        form.error("password", "Enter your password to confirm")
    else:
        # Counted like a failed log-in: a stolen session cannot guess the password here.
        check = await check_current_password(account, password)
        if check.problem:
            form.error("password", LOCKED if check.locked else "Your password is not right")
    return form.ok


async def check_new_learner(form: Form) -> NewLearner | None:
    """Staff adding a learner: the name and an email address no account uses yet."""
    first = form.person_name("first_name", "First name", "Enter the learner's first name")
    last = form.person_name("last_name", "Last name", "Enter the learner's last name")
    email = form.email("email")
    if form.ok and await email_taken(email):
        form.error("email", "An account already uses this email address")
    return NewLearner(first_name=first, last_name=last, email=email) if form.ok else None


async def check_second_email(form: Form, account: Account) -> str | None:
    """A second email address: a well-formed one that is not already this account's, and the current
    password (counted like a log-in, checked last so that a typo costs no attempt), as for a change
    of the main address: a stolen session alone cannot add an inbox that could reset the password."""
    email = form.email("second_email")
    if account.second_email is not None:
        form.error("second_email", "You already have a second email address. Remove it first to add another")
    elif email and email == account.email:
        form.error("second_email", "This is already your main email address")
    if form.ok:
        password = form.get("password_for_second")
        if not password:
            form.error("password_for_second", "Enter your current password to add an email address")
        else:
            check = await check_current_password(account, password)
            if check.problem:
                form.error(
                    "password_for_second", LOCKED if check.locked else "Your current password is not right"
                )
    return email if form.ok else None


def check_email_form(form: Form) -> str | None:
    """A form that asks for one email address (send the verification link again)."""
    email = form.email("email")
    return email if form.ok else None


def check_forgot(form: Form) -> str | None:
    """Forgotten password: the user name or email address."""
    identifier = form.required("login", "Enter your user name or email address", 254)
    return identifier if form.ok else None
