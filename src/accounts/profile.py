"""Profile: personal details. An email change asks for the current password (counted like a log-in),
tells the old address at once with a link to stop it, and happens only when the new address
confirms it: a stolen session alone cannot move the account to another inbox."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from src.accounts.claims import move_claim
from src.accounts.forms import USERNAME_TAKEN, check_details
from src.accounts.login import LOCKED, check_current_password
from src.accounts.notices import send_notice
from src.accounts.registration import OnVerified, email_taken
from src.accounts.step_up import check_step_up
from src.clock import utcnow
from src.db import compare_and_set, unique_violation, write_transaction
from src.errors import Refused
from src.forms import Form
from src.mail import enqueue, minute_key
from src.tables.accounts import Account
from src.tokens import VERIFY_EMAIL_MAX_AGE, TokenError, Tokens

DETAIL_FIELDS = ("first_name", "middle_name", "last_name", "username", "phone", "company_name", "job_title")


def details_values(account: Account) -> dict[str, str]:
    values = {name: str(getattr(account, name) or "") for name in DETAIL_FIELDS}
    values["email"] = account.email
    if account.date_of_birth:
        born = account.date_of_birth
        values.update({"dob-day": str(born.day), "dob-month": str(born.month), "dob-year": str(born.year)})
    return values


async def set_weekly_views_email(account: Account, wanted: bool) -> None:
    """A learner's choice of the weekly email that counts the views of their documents."""
    await Account.update({Account.weekly_views_email: wanted}).where(Account.id == account.id)
    account.weekly_views_email = wanted


async def update_details(
    tokens: Tokens, account: Account, form: Form, session: MutableMapping[str, Any] | None = None
) -> str | None:
    """Save personal details. Returns the new email address if one now waits for verification.
    A new address needs the current password and, with two-step sign-in on, a recent second step
    (step-up, recorded in `session`)."""
    changes = await check_details(form, account)
    if changes is None:
        return None
    email = form.get("email").lower()
    pending = email if email and email != account.email else None
    if pending and pending == account.second_email:
        form.error("email", "This is already your second email address: make it your main one below")
        return None
    if pending:
        # Checked last, and only when all else is right, so a typo elsewhere costs no attempt.
        if not form.get("current_password"):
            form.error("current_password", "Enter your current password to change your email address")
        else:
            check = await check_current_password(account, form.get("current_password"))
            if check.problem:
                form.error(
                    "current_password", LOCKED if check.locked else "Your current password is not right"
                )
        if form.ok and session is not None:
            try:
                await check_step_up(session, account, form, tokens, asks_password=True)
            except Refused as refusal:
                form.error(refusal.field, refusal.message)
        if not form.ok:
            return None
    try:
        async with write_transaction():
            await Account.update(changes).where(Account.id == account.id)
            if pending and not await email_taken(pending):
                await _start_email_change(tokens, account, pending, changes[Account.first_name])
    except Exception as exc:
        if unique_violation(exc) != "username_key":
            raise
        form.error("username", USERNAME_TAKEN)
        return None
    return pending


async def _start_email_change(tokens: Tokens, account: Account, new_email: str, first_name: str) -> None:
    """A link to the new address to confirm, and a notice to the old one, at once, with a link to stop it."""
    await Account.update({Account.pending_email: new_email}).where(Account.id == account.id)
    confirm = tokens.sign("change-email", {"a": account.id, "old": account.email, "e": new_email})
    stop = tokens.sign("stop-email-change", {"a": account.id, "e": new_email})
    hours = VERIFY_EMAIL_MAX_AGE // 3600
    key = f"{account.id}:{new_email}:{minute_key()}"
    await enqueue(
        new_email,
        "confirm_email_change",
        {"first_name": first_name, "token": confirm, "hours": hours},
        f"email-change:{key}",
    )
    await send_notice(
        account,
        "email_change_requested",
        {"first_name": first_name, "new_email": new_email, "token": stop, "hours": hours},
        f"email-change-notice:{key}",
    )


async def pending_change_for_stop_link(tokens: Tokens, token: str) -> Account:
    """The account whose email change the old address's link would stop, while it still waits."""
    data = tokens.load("stop-email-change", token, max_age=VERIFY_EMAIL_MAX_AGE)
    account = await Account.by_id(data.get("a"))
    if account is None:
        raise TokenError("invalid")
    if account.pending_email is None or account.pending_email != data.get("e"):
        raise TokenError("used")
    return account


async def stop_email_change(tokens: Tokens, token: str) -> None:
    """The old address says no: the change is dropped (its confirm link dies with it) and, as the
    request may have come from a stolen session, every session of the account ends."""
    account = await pending_change_for_stop_link(tokens, token)
    stopped = await compare_and_set(
        Account,
        account.id,
        {Account.pending_email: account.pending_email, Account.session_epoch: account.session_epoch},
        {Account.pending_email: None, Account.session_epoch: account.session_epoch + 1},
    )
    if not stopped:
        raise TokenError("used")


async def confirm_email_change(tokens: Tokens, token: str, *, on_verified: OnVerified) -> Account:
    """The new address confirms the change: it becomes the account's, verified, then `on_verified`."""
    data = tokens.load("change-email", token, max_age=VERIFY_EMAIL_MAX_AGE)
    try:
        return await _confirm_email_change(data, on_verified)
    except Exception as exc:
        # Another account took the address after the check (its EmailAddress row, or the column).
        if unique_violation(exc) != "email":
            raise
        raise TokenError("invalid") from exc


async def _confirm_email_change(data: dict[str, Any], on_verified: OnVerified) -> Account:
    async with write_transaction():
        account = await Account.by_id(data.get("a"))
        if account is None:
            raise TokenError("invalid")
        if account.email != data.get("old") or account.pending_email != data.get("e"):
            raise TokenError("used")  # confirmed already, or stopped from the old address
        if await email_taken(data["e"]):
            raise TokenError("invalid")
        await move_claim(account.id, data["old"], data["e"])
        await Account.update(
            {Account.email: data["e"], Account.email_verified_at: utcnow(), Account.pending_email: None}
        ).where(Account.id == account.id)
        account.email = data["e"]
        await on_verified(account)
        await send_notice(
            account,
            "email_changed",
            {"first_name": account.first_name, "new_email": data["e"]},
            f"email-changed:{account.id}:{data['e']}",
            also=(data["old"],),  # the address that was just replaced hears first
            but=(data["e"],),  # the new address confirmed it: no notice of its own doing
        )
    return account
