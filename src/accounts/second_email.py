"""A second email address: added with the current password (like a change of the main address,
profile.py), and the account's only once a link sent to it is opened. The person then signs in and
resets the password with either address, security notices go to both, either can be made the main
one, and the second can be removed.

An address belongs to one account only (its EmailAddress row, claims.py). Asking to add an address
that another account holds answers exactly as for a free one (the profile shows it waiting for its
link) but emails its holder instead of sending a link, so the form never tells whether an address
has an account."""

from __future__ import annotations

from typing import Any

from src.accounts.claims import claim, release
from src.accounts.notices import send_notice
from src.accounts.registration import MayEmail, OnVerified
from src.db import compare_and_set, unique_violation, write_transaction
from src.mail import enqueue, minute_key
from src.tables.accounts import Account
from src.tokens import VERIFY_EMAIL_MAX_AGE, TokenError, Tokens


async def add_second_email(tokens: Tokens, account: Account, email: str, may_email: MayEmail) -> None:
    """Ask for `email` (checked by check_second_email) to become the account's second address: a link
    to it, or a notice to the account that holds it; a notice to the account's own addresses."""
    key = f"{account.id}:{email}:{minute_key()}"
    async with write_transaction():
        await Account.update({Account.pending_second_email: email}).where(Account.id == account.id)
        holder = await Account.by_email(email)
        if holder is not None:
            if await may_email(email):
                await enqueue(
                    email, "address_in_use", {"first_name": holder.first_name}, f"address-in-use:{key}"
                )
        elif await may_email(email):  # the hourly budget per recipient: no mail bomb through this form
            token = tokens.sign("second-email", {"a": account.id, "e": email})
            await enqueue(
                email,
                "confirm_second_email",
                {"first_name": account.first_name, "token": token, "hours": VERIFY_EMAIL_MAX_AGE // 3600},
                f"second-email:{key}",
            )
        await send_notice(
            account,
            "second_email_requested",
            {"first_name": account.first_name, "new_email": email},
            f"second-email-notice:{key}",
        )
    account.pending_second_email = email


async def confirm_second_email(
    tokens: Tokens, token: str, *, on_verified: OnVerified | None = None
) -> Account:
    """The link sent to the new address was opened: it is now the account's second address.
    Raises TokenError: "expired", "used" (confirmed already, or replaced by a later request),
    "invalid" (tampered with, or the address has meanwhile become another account's)."""
    data = tokens.load("second-email", token, max_age=VERIFY_EMAIL_MAX_AGE)
    try:
        return await _confirm(data, on_verified)
    except Exception as exc:
        # Another account took the address between the request and the link (its unique row).
        if unique_violation(exc) not in {"email", "second_email"}:
            raise
        raise TokenError("invalid") from exc


async def _confirm(data: dict[str, Any], on_verified: OnVerified | None) -> Account:
    email = data.get("e")
    async with write_transaction():
        account = await Account.by_id(data.get("a"))
        if account is None or not email:
            raise TokenError("invalid")
        if account.pending_second_email != email or account.second_email is not None:
            raise TokenError("used")
        await claim(account.id, email)
        changed = await compare_and_set(
            Account,
            account.id,
            {Account.pending_second_email: email, Account.second_email: None},
            {Account.second_email: email, Account.pending_second_email: None},
        )
        if not changed:
            raise TokenError("used")
        account.second_email, account.pending_second_email = email, None
        if on_verified is not None:
            await on_verified(account)
        await send_notice(
            account,
            "second_email_added",
            {"first_name": account.first_name, "second_email": email},
            f"second-email-added:{account.id}:{email}",
        )
    return account


async def make_second_email_main(account: Account) -> bool:
    """Swap the two addresses (both are the account's, confirmed). False: they changed meanwhile."""
    main, second = account.email, account.second_email
    if second is None:
        return False
    async with write_transaction():
        swapped = await compare_and_set(
            Account,
            account.id,
            {Account.email: main, Account.second_email: second},
            {Account.email: second, Account.second_email: main},
        )
        if not swapped:
            return False
        account.email, account.second_email = second, main
        await send_notice(
            account,
            "email_changed",
            {"first_name": account.first_name, "new_email": second},
            f"main-email-swapped:{account.id}:{second}:{minute_key()}",
        )
    return True


async def remove_second_email(account: Account) -> str | None:
    """ "removed": the second address is no longer the account's (both addresses are told);
    "cancelled": the one waiting for its link is dropped (the link dies); None: there was neither,
    or it changed meanwhile."""
    second = account.second_email
    if second is None:
        if account.pending_second_email is None:
            return None
        await Account.update({Account.pending_second_email: None}).where(Account.id == account.id)
        account.pending_second_email = None
        return "cancelled"
    async with write_transaction():
        removed = await compare_and_set(
            Account,
            account.id,
            {Account.second_email: second},
            {Account.second_email: None, Account.pending_second_email: None},
        )
        if not removed:
            return None
        await release(account.id, second)
        account.second_email = account.pending_second_email = None
        await send_notice(
            account,
            "second_email_removed",
            {"first_name": account.first_name, "second_email": second},
            f"second-email-removed:{account.id}:{second}:{minute_key()}",
            also=(second,),  # the address just removed hears of it too
        )
    return "removed"
