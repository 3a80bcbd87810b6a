"""Extension requests: a third party asks for more time; the learner approves (choosing the date)
or declines. One pending request per connection, at most MAX_PER_DAY a day, and only while the
connection still gives access (once it has ended, the learner can share again instead)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from src import audit
from src.audit import AuditAction
from src.clock import long_date, utcnow
from src.connections.actions import advance
from src.connections.notify import notify
from src.connections.queries import live_account
from src.connections.rules import (
    ACTIVE,
    check_end_date,
    display_name,
    is_usable,
)
from src.db import compare_and_set, write_transaction
from src.errors import Conflict, Refused
from src.tables.accounts import Account
from src.tables.connections import Connection, ExtensionRequest, ExtensionState

PENDING = ExtensionState.pending.value
MAX_PER_DAY = (
    3  # requests per connection in any 24 hours: asking again after a "no" is fine, pestering is not
)
ENDED = (
    "Access through this connection has ended, so you cannot ask for more time. "
    "The learner can share their documents with you again"
)


async def pending_for(connection_id: int) -> ExtensionRequest | None:
    return (
        await ExtensionRequest.objects()
        .where((ExtensionRequest.connection == connection_id) & (ExtensionRequest.state == PENDING))
        .first()
    )


async def request_extension(
    third_party: Account, connection: Connection, wanted_until: date, message: str, today: date
) -> ExtensionRequest:
    if connection.state != ACTIVE:
        raise Conflict()
    if not is_usable(connection, today):
        raise Refused(ENDED)
    problem = check_end_date(wanted_until, today, current=connection.expires_on)
    if problem:
        raise Refused(problem, "wanted_until")
    async with write_transaction():
        if await pending_for(connection.id) is not None:
            raise Refused(
                "You have already asked for more time on this connection. Wait for the learner's answer"
            )
        # Bumping the version serialises racing requests: only one of two double submits wins, and
        # the count below is read after the winner of any earlier race committed.
        await advance(connection, ACTIVE)
        recent = await ExtensionRequest.count().where(
            (ExtensionRequest.connection == connection.id)
            & (ExtensionRequest.created_at > utcnow() - timedelta(days=1))
        )
        if recent >= MAX_PER_DAY:
            raise Refused(
                f"You have asked for more time {MAX_PER_DAY} times on this connection today. "
                "Try again tomorrow"
            )
        request = ExtensionRequest(
            connection=connection.id, requested_by=third_party.id, wanted_until=wanted_until, message=message
        )
        await request.save()
        await notify(
            connection,
            await live_account(connection.learner),
            "extension_requested",
            f"ext{request.id}",
            other_name=display_name(third_party),
            wanted_until=long_date(wanted_until),
            current=long_date(connection.expires_on),
            message=message,
        )
        await audit.record(
            AuditAction.requested_extension,
            third_party,
            connection=connection.id,
            detail=f"to {wanted_until.isoformat()}",
        )
    return request


async def _decide(request: ExtensionRequest, new_state: str, **values: Any) -> None:
    changes = {
        ExtensionRequest.state: new_state,
        ExtensionRequest.decided_at: utcnow(),
        **{getattr(ExtensionRequest, k): v for k, v in values.items()},
    }
    if not await compare_and_set(ExtensionRequest, request.id, {ExtensionRequest.state: PENDING}, changes):
        raise Conflict()


async def approve(
    learner: Account, connection: Connection, request: ExtensionRequest, new_expiry: date, today: date
) -> None:
    if connection.state != ACTIVE or request.state != PENDING:
        raise Conflict()
    problem = check_end_date(new_expiry, today, current=connection.expires_on)
    if problem:
        raise Refused(problem, "expires_on")
    async with write_transaction():
        # The connection first, as cancel does: the same lock order on PostgreSQL, so approve racing
        # cancel gives one winner and a Conflict, never a deadlock.
        await advance(connection, ACTIVE, expires_on=new_expiry)
        await _decide(request, ExtensionState.approved.value, new_expiry=new_expiry)
        await notify(
            connection,
            await live_account(request.requested_by),
            "extension_approved",
            f"ext{request.id}",
            other_name=display_name(learner),
            expires_on=long_date(new_expiry),
        )
        await audit.record(
            AuditAction.approved_extension,
            learner,
            connection=connection.id,
            detail=f"until {new_expiry.isoformat()}",
        )


async def decline(learner: Account, connection: Connection, request: ExtensionRequest) -> None:
    if request.state != PENDING:
        raise Conflict()
    async with write_transaction():
        await advance(connection, connection.state)  # connection first: see approve
        await _decide(request, ExtensionState.declined.value)
        await notify(
            connection,
            await live_account(request.requested_by),
            "extension_declined",
            f"ext{request.id}",
            other_name=display_name(learner),
            expires_on=long_date(connection.expires_on),
        )
        await audit.record(AuditAction.declined_extension, learner, connection=connection.id)
