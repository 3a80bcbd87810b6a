"""Which account holds an address: one EmailAddress row per address an account holds (its main one
and its second one), written in the same transaction as the Account column it guards. The row's
unique index is the last word: of two requests that make one address two accounts' (a second
address confirmed while someone registers with it, say), one commits and the other's insert fails,
on both engines, however they interleave."""

from __future__ import annotations

from src.db import insert_many
from src.tables.accounts import EmailAddress


async def claim(account_id: int, email: str) -> None:
    """Inside a write transaction: the address is now this account's (a unique violation if it is
    another's, which rolls the transaction back)."""
    await EmailAddress.insert(EmailAddress(email=email.lower(), account=account_id))


async def claim_many(rows: list[tuple[int, str]]) -> None:
    """`claim` for many new accounts at once (a CSV import's learners), in one prepared statement."""
    await insert_many(EmailAddress, [{"email": email.lower(), "account": account} for account, email in rows])


async def move_claim(account_id: int, old: str, new: str) -> None:
    """The account's address `old` is replaced by `new` (a confirmed change of the main address)."""
    await release(account_id, old)
    await claim(account_id, new)


async def release(account_id: int, email: str | None = None) -> None:
    """The account no longer holds `email` (every address, when None: a deleted account)."""
    query = EmailAddress.delete().where(EmailAddress.account == account_id)
    if email is not None:
        query = query.where(EmailAddress.email == email.lower())
    await query
