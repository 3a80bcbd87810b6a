"""Where security notices go: every address of the account (its main one, and its second one when
it has one), so that someone who took over one inbox cannot hide a change from the other."""

from __future__ import annotations

from src.tables.accounts import Account


def notice_addresses(account: Account) -> list[str]:
    """The addresses a security notice (password, email address, two-step or data download) goes to."""
    second = getattr(account, "second_email", None)
    return [account.email, second] if second and second != account.email else [account.email]
