"""How a connection opens: a learner shares documents with an email address, a third party asks a
learner (by email) to connect, and when someone verifies an address the connections waiting for it
become theirs. One open connection at most between two people (`Connection.open_pair`, a unique
key): a lost race answers as a duplicate does. What happens to a connection once open is in
actions.py."""

from __future__ import annotations

from datetime import date

from src import audit
from src.audit import AuditAction
from src.clock import long_date
from src.connections.actions import chosen_documents, set_documents
from src.connections.notify import notify
from src.connections.queries import is_duplicate, live_account, verified_account
from src.connections.rules import ENDED, WAITING_LEARNER, WAITING_TP, check_end_date, display_name
from src.db import unique_violation, write_transaction
from src.errors import Refused
from src.mail import enqueue
from src.tables.accounts import Account, Role
from src.tables.connections import Connection


def pair_key(learner_email: str, third_party_email: str) -> str:
    """The value of `Connection.open_pair` while a connection between these two is open."""
    return f"{learner_email.lower()} {third_party_email.lower()}"


async def _claim_pair(key: str, today: date) -> None:
    """Free the pair's key from a connection whose access has ended since it was set (the end day is
    a date, so nothing clears it at midnight); the unique index then decides between racing inserts."""
    await Connection.update({Connection.open_pair: None}).where(
        (Connection.open_pair == key) & ENDED.where(today)
    )


async def share(
    learner: Account, email: str, document_ids: list[int], expires_on: date, today: date
) -> Connection:
    """A learner shares documents with a third party by email, until a date; the third party accepts."""
    email = email.lower()
    if email in (learner.email, learner.second_email):
        raise Refused("Enter the email address of the person you want to share with, not your own", "email")
    problem = check_end_date(expires_on, today)
    if problem:
        raise Refused(problem, "expires_on")
    try:
        return await _share(learner, email, document_ids, expires_on, today)
    except Exception as exc:
        # Lost the race to a simultaneous share or request between the same two: the same answer.
        if unique_violation(exc) != "open_pair":
            raise
        raise Refused(ALREADY_SHARING, "email") from None


ALREADY_SHARING = "You already share with this person, or a request between you is waiting"
ALREADY_ASKED = "You already have a request waiting or an active connection with this learner"


async def _share(
    learner: Account, email: str, document_ids: list[int], expires_on: date, today: date
) -> Connection:
    async with write_transaction():
        documents = await chosen_documents(learner, document_ids)
        third_party = await verified_account(email, Role.third_party)
        if await is_duplicate(
            learner.id, learner.email, third_party.id if third_party else None, email, today
        ):
            raise Refused(ALREADY_SHARING, "email")
        # By the account's main address when the typed one is its second: one key per pair of people.
        key = pair_key(learner.email, third_party.email if third_party else email)
        await _claim_pair(key, today)
        connection = Connection(
            learner=learner.id,
            learner_email=learner.email,
            third_party=third_party.id if third_party else None,
            third_party_email=email,
            started_by="learner",
            state=WAITING_TP,
            expires_on=expires_on,
            open_pair=key,
        )
        await connection.save()
        await set_documents(connection.id, documents)
        context = {
            "learner_name": display_name(learner),
            "expires_on": long_date(expires_on),
            "documents": len(documents),
        }
        if third_party is not None:
            await notify(connection, third_party, "learner_asked", "asked", **context)
        else:
            # Nobody has this address yet: invite them; the connection attaches when they verify it.
            # The link fills in the invited address on the registration form.
            invite = {**context, "invited": email}
            await enqueue(email, "invite_third_party", invite, f"connection:{connection.id}:invite")
        await audit.record(
            AuditAction.shared,
            learner,
            connection=connection.id,
            detail=f"with {email} until {expires_on.isoformat()}",
        )
    return connection


async def add_connection(third_party: Account, learner_email: str, message: str, today: date) -> Connection:
    """A third party asks a learner to connect. The answer never says whether the learner exists."""
    if learner_email.lower() in (third_party.email, third_party.second_email):
        raise Refused("Enter the learner's email address, not your own", "email")
    try:
        return await _add_connection(third_party, learner_email.lower(), message, today)
    except Exception as exc:
        if unique_violation(exc) != "open_pair":
            raise
        raise Refused(ALREADY_ASKED, "email") from None


async def _add_connection(third_party: Account, learner_email: str, message: str, today: date) -> Connection:
    async with write_transaction():
        learner = await verified_account(learner_email, Role.learner)
        if await is_duplicate(
            learner.id if learner else None, learner_email, third_party.id, third_party.email, today
        ):
            raise Refused(ALREADY_ASKED, "email")
        key = pair_key(learner.email if learner else learner_email, third_party.email)
        await _claim_pair(key, today)
        connection = Connection(
            learner=learner.id if learner else None,
            learner_email=learner_email,
            third_party=third_party.id,
            third_party_email=third_party.email,
            started_by="third_party",
            state=WAITING_LEARNER,
            message=message,
            open_pair=key,
        )
        await connection.save()
        if learner is not None:
            await notify(
                connection,
                learner,
                "third_party_asked",
                "asked",
                third_party_name=display_name(third_party),
                company=third_party.company_name,
                message=message,
            )
        await audit.record(
            AuditAction.requested, third_party, connection=connection.id, detail=f"asked {learner_email}"
        )
    return connection


async def attach_pending(account: Account) -> None:
    """When someone verifies an address (main or second), connections waiting for either of the
    account's addresses become theirs.

    A learner is then told of each request that waits for them (the third party asked before the
    address had a verified account, so no email went out); the invitation already told a third party."""
    addresses = [address for address in (account.email, account.second_email) if address]
    if account.role == Role.learner.value:
        waiting = await Connection.objects().where(
            Connection.learner.is_null()
            & Connection.learner_email.is_in(addresses)
            & (Connection.state == WAITING_LEARNER)
        )
        await Connection.update({Connection.learner: account.id}).where(
            Connection.learner.is_null() & Connection.learner_email.is_in(addresses)
        )
        for connection in waiting:
            third_party = await live_account(connection.third_party)
            if third_party is not None:
                await notify(
                    connection,
                    account,
                    "third_party_asked",
                    "asked",
                    third_party_name=display_name(third_party),
                    company=third_party.company_name,
                    message=connection.message,
                )
    elif account.role == Role.third_party.value:
        await Connection.update({Connection.third_party: account.id}).where(
            Connection.third_party.is_null() & Connection.third_party_email.is_in(addresses)
        )
