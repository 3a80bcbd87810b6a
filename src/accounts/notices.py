"""Security notices: where an email about a change to an account's sign-in (password, email address,
two-step sign-in) goes. Every such notice asks this one function, so that a person who keeps a
second address hears about the change there too."""

from __future__ import annotations

from typing import Any

from src.mail import enqueue
from src.tables.accounts import Account


def notice_addresses(account: Account) -> list[str]:
    """The addresses a security notice about `account` goes to: its email address, and its second
    address when it has one (so that someone who took over one inbox cannot hide a change)."""
    second = account.second_email
    return [account.email, second] if second and second != account.email else [account.email]


async def send_notice(
    account: Account,
    template: str,
    context: dict[str, Any],
    key: str,
    *,
    also: tuple[str, ...] = (),
    but: tuple[str, ...] = (),
) -> None:
    """Queue a security notice to every address of `notice_addresses` (and `also`, an address the
    change has just replaced) but not `but` (an address that confirmed the change itself), inside
    the caller's transaction; one email per address and `key`."""
    addresses = [a for a in dict.fromkeys([*also, *notice_addresses(account)]) if a not in but]
    for address in addresses:
        await enqueue(address, template, context, f"{key}:{address}")
