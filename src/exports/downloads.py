"""Downloading a copy of one's data: behind a recent step-up (the route asks accounts.check_step_up:
the password, or a code with two-step sign-in on, unless the last step is under 15 minutes old), at
most MAX_DOWNLOADS in any 24 hours, each one recorded and told to every address of the account (a
stolen session that takes a copy cannot hide it)."""

from __future__ import annotations

from datetime import timedelta

from src import accounts, audit
from src.audit import AuditAction
from src.clock import long_date, utcnow
from src.db import lock_row, write_transaction
from src.errors import Refused
from src.tables.accounts import Account
from src.tables.connections import AccessEvent

MAX_DOWNLOADS = 3
WINDOW = timedelta(hours=24)


async def record_download(account: Account) -> None:
    """Count this download (Refused past the limit), tell every address of the account, and record
    it. The account's row is held while the downloads are counted, so parallel requests are counted
    one after another (SQLite: BEGIN IMMEDIATE already does)."""
    now = utcnow()
    async with write_transaction():
        await lock_row(Account, account.id)
        recent = await (
            AccessEvent.select(AccessEvent.at)
            .where(
                (AccessEvent.account == account.id)
                & (AccessEvent.action == AuditAction.downloaded_data.value)
                & (AccessEvent.at > now - WINDOW)
            )
            .order_by(AccessEvent.at)
        )
        if len(recent) >= MAX_DOWNLOADS:
            again = recent[0]["at"] + WINDOW
            raise Refused(
                f"You have downloaded your data {MAX_DOWNLOADS} times in 24 hours. "
                f"You can download it again after {again:%H:%M} UTC on {long_date(again.date())}."
            )
        await accounts.send_notice(
            account,
            "data_downloaded",
            {"first_name": account.first_name, "when": f"{now:%H:%M} UTC on {long_date(now.date())}"},
            f"data-downloaded:{account.id}:{now.isoformat()}",
        )
        await audit.record(AuditAction.downloaded_data, account)
