"""Seed data for the browser tests, written straight into the test server's database through the
portal's own domain code, for pages with no UI to make it: verified accounts (and a learner's
documents), a connection sharing a document, a document with units, a revoked document.

One process for the whole session, started in the server's environment (its DATABASE_URL and
VAR_DIR) by the `seeder` fixture: `python -m tests.browser.seed`. It reads one request per line on
stdin, `{"do": "<operation>", "args": [...]}`, and answers each with one line on stdout,
`{"ok": <result>}` or `{"error": "<traceback>"}`. Each request runs as a one-off script would: its
own event loop, the pool opened for it and closed after. The browser tests' process imports only
`SeedAccount` and `request_line` from here, which is why `src` is imported inside the operations and
not at the top: the database engine is chosen when `src`'s tables are first imported.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import sys
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import Any


@dataclass(frozen=True)
class SeedAccount:
    """A verified account with a password, put straight into the server's database."""

    role: str  # learner, third_party or staff
    username: str
    email: str
    password: str
    first_name: str
    last_name: str
    company_name: str = ""
    documents: tuple[str, ...] = ()  # titles of documents issued to a learner, awarded today


def request_line(operation: str, *args: Any) -> str:
    """One request as the seeder reads it (SeedAccount arguments as their fields)."""
    fields = [asdict(arg) if isinstance(arg, SeedAccount) else arg for arg in args]
    return json.dumps({"do": operation, "args": fields}) + "\n"


# --- the operations ---------------------------------------------------------------------------------


async def accounts(*people: dict[str, Any]) -> None:
    """Verified accounts with their passwords; a learner's `documents` issued to them, awarded today."""
    from src import accounts as area
    from src.documents import issue
    from src.tables.accounts import Role

    for fields in people:
        person = SeedAccount(**{**fields, "documents": tuple(fields["documents"])})
        account = await area.create_account(
            area.NewAccount(
                role=Role(person.role),
                username=person.username,
                email=person.email,
                password=person.password,
                first_name=person.first_name,
                last_name=person.last_name,
                company_name=person.company_name,
                verified=True,
            )
        )
        for title in person.documents:
            await issue(account, title, f"APC-{secrets.token_hex(5).upper()}", date.today())


async def share_first_document(learner_email: str, third_party_email: str) -> None:
    """An active connection sharing the learner's first document with the third party."""
    from src import connections
    from src.clock import today_in
    from src.settings import load_settings
    from src.tables.accounts import Account
    from src.tables.documents import Document

    day = today_in(load_settings().tz)
    learner = await Account.objects().where(Account.email == learner_email).first()
    third_party = await Account.objects().where(Account.email == third_party_email).first()
    assert learner is not None and third_party is not None
    document = await Document.objects().where(Document.owner == learner.id).order_by(Document.id).first()
    assert document is not None
    connection = await connections.share(
        learner, third_party.email, [document.id], day + timedelta(days=30), day
    )
    await connections.accept_as_third_party(third_party, connection, day)


UNITS = [
    {
        "title": "Understand person-centred approaches to assessment and care planning in residential "
        "settings",
        "code": "H/650/2401",
        "level": "3",
        "credits": "10",
        "grade": "Distinction",
    },
    {
        "title": "Safeguarding and protection of individuals",
        "code": "SHC 34",
        "level": "3",
        "credits": "4",
        "grade": "Merit",
    },
    {"title": "Communication", "code": "", "level": "2", "credits": "3", "grade": "Pass"},
]


async def shared_document_with_units(
    learner_email: str, third_party_email: str, number: str
) -> dict[str, Any]:
    """A document with long units, shown on its verify page and shared with the third party: the ids
    the pages need."""
    from src import connections
    from src.clock import today_in
    from src.documents import issue
    from src.settings import load_settings
    from src.tables.accounts import Account

    day = today_in(load_settings().tz)
    learner = await Account.objects().where(Account.email == learner_email).first()
    third_party = await Account.objects().where(Account.email == third_party_email).first()
    assert learner is not None and third_party is not None
    document = await issue(
        learner,
        "Level 3 Diploma in Adult Care",
        number,
        day,
        units=UNITS,
        grade="Merit",
        level="Level 3",
        show_on_verify=True,
    )
    connection = await connections.share(
        learner, third_party.email, [document.id], day + timedelta(days=30), day
    )
    await connections.accept_as_third_party(third_party, connection, day)
    return {"document": document.id, "code": document.verify_code, "connection": connection.id}


async def revoke_document(document_id: int) -> None:
    """The document revoked as issued in error, as staff would."""
    from src.clock import utcnow
    from src.tables.documents import Document

    await Document.update(
        {
            Document.status: "revoked",
            Document.revoked_reason: "Issued in error",
            Document.revoked_category: "issued_in_error",
            Document.revoked_at: utcnow(),
            Document.version: Document.version + 1,
        }
    ).where(Document.id == document_id)


OPERATIONS: dict[str, Callable[..., Awaitable[Any]]] = {
    "accounts": accounts,
    "share_first_document": share_first_document,
    "shared_document_with_units": shared_document_with_units,
    "revoke_document": revoke_document,
}


# --- the loop ---------------------------------------------------------------------------------------


async def _with_pool(operation: Callable[..., Awaitable[Any]], args: list[Any]) -> Any:
    from src import db

    await db.open_pool()
    try:
        return await operation(*args)
    finally:
        await db.close_pool()


def main() -> None:
    # Answers go to the real stdout only; whatever the portal's code prints goes to stderr instead.
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8")
    sys.stdout = sys.stderr
    # The imports' cost is paid once, while the server starts, not by the first request.
    from src import accounts, connections, documents  # noqa: F401

    for line in sys.stdin:
        request = json.loads(line)
        try:
            result = asyncio.run(_with_pool(OPERATIONS[request["do"]], request["args"]))
            answer = {"ok": result}
        except Exception:
            answer = {"error": traceback.format_exc()}
        answers.write(json.dumps(answer) + "\n")
        answers.flush()


if __name__ == "__main__":
    main()
