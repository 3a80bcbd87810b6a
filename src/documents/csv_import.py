"""Issuing many documents from a CSV upload: check it (dry run, nothing written but the batch), then
confirm it (every row or none, in one transaction, with the learners' emails in the outbox).

The checked file is kept in its ImportBatch row, never in the page: confirm reads and checks that
same text again inside the write transaction, so what is written is what the rules allow now.
Writes are bulk inserts in chunks, to keep the write lock short for 5,000 rows.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from src.clock import utcnow
from src.db import compare_and_set, insert_many, write_transaction
from src.documents.issuing import TEMPLATE_VERSION, snapshot
from src.documents.rows import (
    COLUMNS,
    UNIT_COLUMNS,
    CheckedRow,
    check_row,
    check_unit,
    issue_fields,
    unit_of,
)
from src.documents.verify_codes import new_verify_code
from src.mail import enqueue_many
from src.tables.accounts import Account, Role
from src.tables.connections import AccessEvent
from src.tables.documents import Document, ImportBatch
from src.tokens import Tokens

MAX_ROWS = 5_000
MAX_FILE_BYTES = 2 * 1024 * 1024  # 5,000 full rows are well under 1 MB
MAX_UNIT_ROWS = 50_000
CHUNK = 200  # rows per INSERT: well under SQLite's bound-parameter limit


class ImportRefused(Exception):
    """The file as a whole cannot be read (encoding, columns, size): the message says why."""


@dataclass
class RowResult:
    line: int  # the line number in the file, header = 1
    raw: dict[str, str]
    outcome: str  # new | identical | conflict | error
    errors: dict[str, str]
    values: dict[str, Any] = field(default_factory=dict)
    digest: str = ""
    units: list[dict[str, str]] = field(default_factory=list)


@dataclass
class CheckResult:
    rows: list[RowResult]
    earlier: list[dict[str, Any]]  # confirmed imports of the very same file
    unit_errors: list[str] = field(default_factory=list)

    @property
    def counts(self) -> Counter[str]:
        return Counter(row.outcome for row in self.rows)

    @property
    def can_confirm(self) -> bool:
        counts = self.counts
        return not self.unit_errors and not counts["error"] and not counts["conflict"] and bool(counts["new"])


def decode(data: bytes, what: str = "The file") -> str:
    if len(data) > MAX_FILE_BYTES:
        raise ImportRefused(f"{what} is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB")
    try:
        text = data.decode("utf-8-sig")  # with or without a byte order mark
    except UnicodeDecodeError:
        raise ImportRefused(f"{what} is not UTF-8: save it as “CSV UTF-8” and upload it again") from None
    if "\x00" in text:
        raise ImportRefused(f"{what} is not a CSV file")
    return text


def read_rows(
    text: str, columns: tuple[str, ...], limit: int, what: str = "The file"
) -> list[dict[str, str]]:
    """Rows as dicts keyed by the fixed header names (order free); the whole file is refused when a
    column is missing or unknown, or when it has more rows than allowed."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [name.strip().lower() for name in next(reader)]
    except StopIteration:
        raise ImportRefused(f"{what} is empty") from None
    except csv.Error:
        raise ImportRefused(f"{what} is not a readable CSV file") from None
    missing = [name for name in columns if name not in header]
    unknown = [name for name in header if name not in columns]
    if missing:
        raise ImportRefused(f"{what} has no column {', '.join(missing)}: download the template")
    if unknown or len(set(header)) != len(header):
        raise ImportRefused(f"{what} has unknown or repeated columns: {', '.join(unknown) or 'repeated'}")
    rows: list[dict[str, str]] = []
    try:
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue
            if len(rows) >= limit:
                raise ImportRefused(f"{what} has more than {limit:,} rows: split it into smaller files")
            rows.append({name: (cells[i] if i < len(cells) else "") for i, name in enumerate(header)})
    except csv.Error:
        raise ImportRefused(f"{what} is not a readable CSV file") from None
    return rows


def _units_by_certificate(units_text: str) -> tuple[dict[str, list[dict[str, str]]], list[str]]:
    found: dict[str, list[dict[str, str]]] = {}
    problems = []
    for number, raw in enumerate(read_rows(units_text, UNIT_COLUMNS, MAX_UNIT_ROWS, "The units file"), 2):
        checked = check_unit(raw)
        if not checked.ok:
            problems.append(f"Units file line {number}: " + "; ".join(checked.errors.values()))
        found.setdefault(raw.get("certificate_number", "").strip(), []).append(unit_of(checked.values))
    return found, problems


def _checked_rows(text: str, units_text: str, today: date) -> tuple[list[RowResult], list[str]]:
    """Every row checked on its own and against the file (no database): the slow, pure part."""
    raws = read_rows(text, COLUMNS, MAX_ROWS)
    units, unit_errors = _units_by_certificate(units_text) if units_text.strip() else ({}, [])
    results = []
    for line, raw in enumerate(raws, 2):
        checked: CheckedRow = check_row(raw, today=today)
        results.append(
            RowResult(line, raw, "error" if checked.errors else "new", checked.errors, checked.values)
        )
    _mark_duplicates(results)
    known = [u for u in units if u not in {r.values.get("certificate_number") for r in results}]
    unit_errors += [f"The units file names certificate {n}, which is not in the file" for n in known[:20]]
    for row in results:
        row.units = units.get(row.values.get("certificate_number", ""), [])
        if row.outcome != "error":
            row.digest = snapshot(issue_fields(row.values, row.units))[1]
    return results, unit_errors


async def check(text: str, units_text: str, *, today: date, file_sha256: str = "") -> CheckResult:
    """The dry run: every row as new, identical, conflict or error. Reads the database, writes nothing."""
    results, unit_errors = _checked_rows(text, units_text, today)
    await _compare_with_database(results)
    earlier = await earlier_imports(file_sha256) if file_sha256 else []
    return CheckResult(results, earlier, unit_errors)


def _mark_duplicates(results: list[RowResult]) -> None:
    first_line: dict[str, int] = {}
    for row in results:
        number = str(row.values.get("certificate_number", "")).lower()
        if not number:
            continue
        if number in first_line:
            row.outcome = "error"
            row.errors.setdefault(
                "certificate_number", f"This certificate number is also on line {first_line[number]}"
            )
        else:
            first_line[number] = row.line


async def _compare_with_database(results: list[RowResult]) -> None:
    """Existing certificate numbers (identical or conflict) and learners' accounts, in a few queries."""
    numbers = [r.values["certificate_number"] for r in results if r.outcome != "error"]
    emails = sorted({r.values["learner_email"] for r in results if r.outcome != "error"})
    existing: dict[str, str] = {}
    for start in range(0, len(numbers), 500):
        for doc in await Document.select(Document.certificate_number, Document.content_sha256).where(
            Document.certificate_number.is_in(numbers[start : start + 500])
        ):
            existing[doc["certificate_number"]] = doc["content_sha256"]
    people = await _accounts_by_email(emails)
    for row in results:
        if row.outcome == "error":
            continue
        values = row.values
        person = people.get(values["learner_email"])
        if person and (person["role"] != Role.learner.value or person["deleted_at"]):
            row.errors["learner_email"] = "This email belongs to an account that is not a learner's"
        elif (
            person
            and values["enrolment_number"]
            and person["enrolment_number"] not in ("", values["enrolment_number"])
        ):
            row.errors["enrolment_number"] = (
                f"This learner's enrolment number is {person['enrolment_number']}"
            )
        elif person and values["uln"] and person["uln"] not in ("", values["uln"]):
            row.errors["uln"] = f"This learner's ULN is {person['uln']}"
        if row.errors:
            row.outcome = "error"
        elif values["certificate_number"] in existing:
            row.outcome = "identical" if existing[values["certificate_number"]] == row.digest else "conflict"


async def _accounts_by_email(emails: list[str]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(emails), 500):
        rows = await Account.select(
            Account.id, Account.email, Account.role, Account.deleted_at, Account.enrolment_number, Account.uln
        ).where(Account.email.is_in(emails[start : start + 500]))
        found.update({row["email"]: row for row in rows})
    return found


async def earlier_imports(file_sha256: str) -> list[dict[str, Any]]:
    return await ImportBatch.select(
        ImportBatch.id,
        ImportBatch.confirmed_at,
        ImportBatch.created_by.first_name.as_alias("first_name"),
        ImportBatch.created_by.last_name.as_alias("last_name"),
    ).where((ImportBatch.file_sha256 == file_sha256) & (ImportBatch.state == "confirmed"))


async def dry_run(
    staff: Account, filename: str, data: bytes, units_data: bytes, *, today: date
) -> tuple[int, CheckResult]:
    """Check an upload and keep it (as checked text) in a new ImportBatch for the confirm step."""
    text = decode(data)
    units_text = decode(units_data, "The units file") if units_data else ""
    digest = hashlib.sha256(data).hexdigest()
    result = await check(text, units_text, today=today, file_sha256=digest)
    batch = ImportBatch(
        file_sha256=digest,
        filename=filename[:200],
        rows=len(result.rows),
        created_by=staff.id,
        csv_text=text,
        units_text=units_text,
    )
    await batch.save()
    return batch.id, result


async def recheck(batch_id: int, *, today: date) -> tuple[dict[str, Any], CheckResult] | None:
    batch = await ImportBatch.select().where(ImportBatch.id == batch_id).first()
    if batch is None:
        return None
    result = await check(
        batch["csv_text"], batch["units_text"], today=today, file_sha256=batch["file_sha256"]
    )
    result.earlier = [e for e in result.earlier if e["id"] != batch_id]
    return batch, result


@dataclass
class Confirmed:
    created: int
    skipped: int
    already: bool = False  # this batch had been confirmed before: nothing changed


async def confirm(tokens: Tokens, staff: Account, batch_id: int, *, today: date) -> Confirmed:
    """Write every new row of a checked batch, or none (ImportRefused when any row cannot be written)."""
    batch = await ImportBatch.select().where(ImportBatch.id == batch_id).first()
    if batch is None:
        raise ImportRefused("There is no such import")
    if batch["state"] == "confirmed":
        return Confirmed(0, batch["rows"], already=True)
    # The file's own checks need no lock; what depends on the database is checked again inside.
    rows, unit_errors = _checked_rows(batch["csv_text"], batch["units_text"], today)
    drafts = _drafts(rows, staff.id, batch_id)
    async with write_transaction():
        await _compare_with_database(rows)
        result = CheckResult(rows, [], unit_errors)
        if not result.can_confirm:
            raise ImportRefused("Some rows cannot be imported: fix the file and upload it again")
        if not await compare_and_set(
            ImportBatch,
            batch_id,
            {ImportBatch.state: "checked"},
            {ImportBatch.state: "confirmed", ImportBatch.confirmed_at: utcnow()},
        ):
            return Confirmed(0, batch["rows"], already=True)
        new_rows = [row for row in result.rows if row.outcome == "new"]
        learners = await _learners_for(tokens, new_rows)
        await _insert_documents(new_rows, learners, drafts)
        await _tell_learners(new_rows, learners, batch_id)
        await AccessEvent.insert(
            AccessEvent(
                account=staff.id,
                action="imported_documents",
                detail=f"Import {batch_id}: {len(new_rows)} documents",
            )
        )
    return Confirmed(len(new_rows), len(result.rows) - len(new_rows))


async def _learners_for(tokens: Tokens, rows: list[RowResult]) -> dict[str, dict[str, Any]]:
    """Each row's learner by email: existing accounts, with enrolment number and ULN filled in where
    they were empty; new accounts made by staff (with their activation emails) for the rest."""
    # Imported here: accounts imports connections, which imports documents (a cycle at load time).
    from src import accounts

    emails = sorted({row.values["learner_email"] for row in rows})
    people = await _accounts_by_email(emails)
    newcomers: dict[str, accounts.NewLearner] = {}
    for row in rows:
        values = row.values
        email = values["learner_email"]
        if email not in people and email not in newcomers:
            newcomers[email] = accounts.NewLearner(
                email,
                values["first_name"],
                values["last_name"],
                values["middle_name"],
                values["enrolment_number"],
                values["uln"],
            )
    await accounts.create_learners(tokens, list(newcomers.values()))
    for row in rows:
        person = people.get(row.values["learner_email"])
        if person is None:
            continue
        changes: dict[Any, Any] = {}
        if row.values["enrolment_number"] and not person["enrolment_number"]:
            changes[Account.enrolment_number] = person["enrolment_number"] = row.values["enrolment_number"]
        if row.values["uln"] and not person["uln"]:
            changes[Account.uln] = person["uln"] = row.values["uln"]
        if changes:
            await Account.update(changes).where(Account.id == person["id"])
    return await _accounts_by_email(emails)


def _drafts(rows: list[RowResult], staff_id: int, batch_id: int) -> dict[int, dict[str, Any]]:
    """The documents of the rows as table rows, built before the write transaction (nobody should
    wait for thousands of snapshots); only their owner is set inside."""
    now = utcnow()
    drafts = {}
    for row in rows:
        if row.outcome == "error":
            continue
        fields = issue_fields(row.values, row.units)
        content, digest = snapshot(fields)
        drafts[row.line] = {
            "owner": None,
            "kind": fields["kind"],
            "title": fields["title"],
            "qualification_code": fields["qualification_code"],
            "level": fields["level"],
            "name_as_printed": fields["name_as_printed"],
            "grade": fields["grade"],
            "awarded_on": fields["awarded_on"],
            "valid_until": fields["valid_until"],
            "certificate_number": fields["certificate_number"],
            "verify_code": new_verify_code(),
            "status": "valid",
            "revoked_category": "",
            "revoked_reason": "",
            "revoked_note": "",
            "show_on_verify": False,
            "content": json.dumps(content, ensure_ascii=False),
            "content_sha256": digest,
            "template_version": TEMPLATE_VERSION,
            "issued_by": staff_id,
            "import_batch": batch_id,
            "version": 0,
            "created_at": now,
        }
    return drafts


async def _insert_documents(
    rows: list[RowResult], learners: dict[str, dict[str, Any]], drafts: dict[int, dict[str, Any]]
) -> None:
    documents = []
    for row in rows:
        draft = drafts[row.line]
        draft["owner"] = learners[row.values["learner_email"]]["id"]
        documents.append(draft)
    await insert_many(Document, documents)


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


def _escaped(cell: str) -> str:
    """A cell a spreadsheet would run as a formula is prefixed with ' so it is shown as text."""
    return "'" + cell if cell[:1] in ("=", "+", "-", "@", "\t", "\r") else cell


def errors_csv(result: CheckResult) -> str:
    """The rows with errors, as uploaded, plus an `errors` column; safe to open in a spreadsheet."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([*COLUMNS, "errors"])
    for row in result.rows:
        if row.outcome in ("error", "conflict"):
            problems = (
                "; ".join(row.errors.values())
                or "This certificate number exists with other content: use Supersede"
            )
            writer.writerow([_escaped(row.raw.get(name, "")) for name in COLUMNS] + [_escaped(problems)])
    return out.getvalue()


def template_csv(units: bool = False) -> str:
    return ",".join(UNIT_COLUMNS if units else COLUMNS) + "\r\n"
