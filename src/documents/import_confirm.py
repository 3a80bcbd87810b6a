"""Confirming a checked CSV import: every new row is written, or none, in one transaction with
the learners' emails in the outbox. The file's own checks run before the write lock; what depends
on the database (existing numbers, accounts) is checked again inside it. Documents are issued as
every document is (documents/issuing.py), learners made as staff make them (accounts), each table's
rows in one prepared statement, so 5,000 rows hold the lock briefly.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from src import accounts, audit
from src.audit import AuditAction
from src.clock import utcnow
from src.db import compare_and_set, update_many, write_transaction
from src.documents.csv_import import (
    CheckResult,
    RowResult,
    checked_rows,
    compare_with_database,
)
from src.documents.issuing import document_row, issue_many
from src.documents.rows import issue_fields
from src.errors import Refused
from src.mail import enqueue_many
from src.tables.accounts import Account
from src.tables.documents import ImportBatch
from src.tokens import Tokens


@dataclass
class Confirmed:
    created: int
    skipped: int
    already: bool = False  # this batch had been confirmed before: nothing changed
    nothing_new: bool = False  # every row is already in the portal (another import of it): nothing written


async def confirm(tokens: Tokens, staff: Account, batch_id: int, *, today: date) -> Confirmed:
    """Write every new row of a checked batch, or none (Refused when any row cannot be written)."""
    batch = await ImportBatch.select().where(ImportBatch.id == batch_id).first()
    if batch is None:
        raise Refused("There is no such import")
    if batch["state"] == "confirmed":
        return Confirmed(0, batch["rows"], already=True)
    # Everything that can be done before the write lock is: the file's checks, a first look at the
    # database, the documents as table rows. Inside, the database is checked again (someone may have
    # issued a number or set a learner's enrolment number meanwhile) and only writes follow.
    rows, unit_errors = checked_rows(batch["csv_text"], batch["units_text"], today)
    await compare_with_database(rows)
    if not (first_look := CheckResult(rows, [], unit_errors)).can_confirm:
        return await _not_confirmable(batch_id, first_look)
    now = utcnow()
    drafts = {row.line: _draft(row, staff.id, batch_id, now) for row in rows if row.outcome == "new"}
    async with write_transaction():
        people = await compare_with_database(rows)
        result = CheckResult(rows, [], unit_errors)
        if not result.can_confirm:
            return await _not_confirmable(batch_id, result)
        if not await compare_and_set(
            ImportBatch,
            batch_id,
            {ImportBatch.state: "checked"},
            {ImportBatch.state: "confirmed", ImportBatch.confirmed_at: utcnow()},
        ):
            return Confirmed(0, batch["rows"], already=True)
        new_rows = [row for row in result.rows if row.outcome == "new"]
        learners = await _learners_for(tokens, new_rows, people)
        for row in new_rows:  # the second look changed what a document says (rare): build it again
            if row.line not in drafts or drafts[row.line]["content_sha256"] != row.digest:
                drafts[row.line] = _draft(row, staff.id, batch_id, now)
        await _insert_documents(new_rows, learners, drafts)
        await _tell_learners(new_rows, learners, batch_id)
        await audit.record(
            AuditAction.imported_documents, staff, detail=f"Import {batch_id}: {len(new_rows)} documents"
        )
    return Confirmed(len(new_rows), len(result.rows) - len(new_rows))


async def _not_confirmable(batch_id: int, result: CheckResult) -> Confirmed:
    """Why nothing is written. A racing confirm of this very batch wrote the rows (they now read as
    identical): this one is the repeat. Every row already in the portal (the same file imported in
    another batch, say from a second tab): nothing to do, which is no error. Otherwise some rows
    cannot be written, and the import is refused."""
    total = len(result.rows)
    if await ImportBatch.exists().where((ImportBatch.id == batch_id) & (ImportBatch.state == "confirmed")):
        return Confirmed(0, total, already=True)
    counts = result.counts
    if not (result.unit_errors or counts["error"] or counts["conflict"] or counts["new"]):
        return Confirmed(0, total, nothing_new=True)
    raise Refused("Some rows cannot be imported: fix the file and upload it again")


async def _learners_for(
    tokens: Tokens, rows: list[RowResult], people: dict[str, dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    """Each row's learner by email (`people`: the accounts found, read in this transaction), with
    enrolment number and ULN filled in where they were empty; new accounts made by staff (with their
    activation emails) for the rest."""
    newcomers: dict[str, accounts.NewLearner] = {}
    filled: dict[int, dict[str, Any]] = {}
    for row in rows:
        values = row.values
        email = values["learner_email"]
        person = people.get(email)
        if person is None:
            if email not in newcomers:
                newcomers[email] = accounts.NewLearner(
                    email,
                    values["first_name"],
                    values["last_name"],
                    values["middle_name"],
                    values["enrolment_number"],
                    values["uln"],
                )
            continue
        for key in ("enrolment_number", "uln"):
            if values[key] and not person[key]:
                person[key] = values[key]
                filled[person["id"]] = person
    await update_many(
        Account,
        [
            {"id": p["id"], "enrolment_number": p["enrolment_number"], "uln": p["uln"]}
            for p in filled.values()
        ],
    )
    made = await accounts.create_learners(tokens, list(newcomers.values()))
    return {**people, **{learner["email"]: learner for learner in made}}


def _draft(row: RowResult, staff_id: int, batch_id: int, now: datetime) -> dict[str, Any]:
    """A row's document as a table row, built before the write transaction (nobody should wait for
    thousands of snapshots); only its owner is set inside."""
    fields = issue_fields(row.values, row.units)
    return document_row(fields, owner=None, issued_by=staff_id, now=now, import_batch=batch_id)


async def _insert_documents(
    rows: list[RowResult], learners: dict[str, dict[str, Any]], drafts: dict[int, dict[str, Any]]
) -> None:
    documents = []
    for row in rows:
        draft = drafts[row.line]
        draft["owner"] = learners[row.values["learner_email"]]["id"]
        documents.append(draft)
    await issue_many(documents)


async def _tell_learners(rows: list[RowResult], learners: dict[str, dict[str, Any]], batch_id: int) -> None:
    """One email per learner per import, naming their new documents."""
    titles: dict[str, list[str]] = {}
    for row in rows:
        titles.setdefault(row.values["learner_email"], []).append(row.values["qualification_title"])
    await enqueue_many(
        [
            (email, "documents_issued", {"titles": names}, f"import:{batch_id}:{learners[email]['id']}")
            for email, names in titles.items()
        ]
    )
