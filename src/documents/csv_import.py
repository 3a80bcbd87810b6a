"""Issuing many documents from a CSV upload, first step: read and check it (the dry run: nothing
written but the batch). The confirm is in import_confirm.py.

The checked file is kept in its ImportBatch row, never in the page: the confirm reads and checks
that same text again, so what is written is what the rules allow then.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from src.db import select_in
from src.documents.issuing import snapshot
from src.documents.names import printed_name
from src.documents.rows import (
    COLUMNS,
    UNIT_COLUMNS,
    CheckedRow,
    check_row,
    check_unit,
    clean,
    issue_fields,
    unit_of,
)
from src.errors import Refused
from src.tables.accounts import Account, Role
from src.tables.documents import Document, ImportBatch

MAX_ROWS = 5_000
MAX_FILE_BYTES = 2 * 1024 * 1024  # 5,000 full rows are well under 1 MB
MAX_UNIT_ROWS = 50_000


@dataclass
class RowResult:
    line: int  # the line number in the file, header = 1
    raw: dict[str, str]
    outcome: str  # new | identical | conflict | error
    errors: dict[str, str]
    values: dict[str, Any] = field(default_factory=dict)
    digest: str = ""  # of the document this row makes (the learner's references filled in)
    as_written: str = ""  # of the row as written: an earlier document issued without them matches it
    units: list[dict[str, str]] = field(default_factory=list)

    @property
    def name_as_printed(self) -> str:
        values = self.values
        return printed_name(values["first_name"], values["middle_name"], values["last_name"])


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
        raise Refused(f"{what} is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB")
    try:
        text = data.decode("utf-8-sig")  # with or without a byte order mark
    except UnicodeDecodeError:
        raise Refused(f"{what} is not UTF-8: save it as “CSV UTF-8” and upload it again") from None
    if "\x00" in text:
        raise Refused(f"{what} is not a CSV file")
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
        raise Refused(f"{what} is empty") from None
    except csv.Error:
        raise Refused(f"{what} is not a readable CSV file") from None
    missing = [name for name in columns if name not in header]
    unknown = [name for name in header if name not in columns]
    if missing:
        raise Refused(f"{what} has no column {', '.join(missing)}: download the template")
    if unknown or len(set(header)) != len(header):
        raise Refused(f"{what} has unknown or repeated columns: {', '.join(unknown) or 'repeated'}")
    rows: list[dict[str, str]] = []
    try:
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue
            if len(rows) >= limit:
                raise Refused(f"{what} has more than {limit:,} rows: split it into smaller files")
            rows.append({name: (cells[i] if i < len(cells) else "") for i, name in enumerate(header)})
    except csv.Error:
        raise Refused(f"{what} is not a readable CSV file") from None
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


def checked_rows(text: str, units_text: str, today: date) -> tuple[list[RowResult], list[str]]:
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
            row.digest = row.as_written = snapshot(issue_fields(row.values, row.units))[1]
            written_level = clean(row.raw.get("level"))
            if written_level != row.values["level"]:  # documents imported before "Level 3" became "3"
                row.as_written = snapshot(issue_fields({**row.values, "level": written_level}, row.units))[1]
    _same_references_per_learner(results)
    return results, unit_errors


async def check(text: str, units_text: str, *, today: date, file_sha256: str = "") -> CheckResult:
    """The dry run: every row as new, identical, conflict or error. Reads the database, writes nothing."""
    results, unit_errors = checked_rows(text, units_text, today)
    await compare_with_database(results)
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


REFERENCES = (("enrolment_number", "enrolment number"), ("uln", "ULN"))


def _same_references_per_learner(results: list[RowResult]) -> None:
    """A learner has one enrolment number and one ULN: rows of one email that disagree are errors,
    and a row that leaves them blank takes them from the learner's other rows (they go on the document)."""
    first: dict[tuple[str, str], tuple[str, int]] = {}
    for row in results:
        if row.outcome == "error":
            continue
        for key, _ in REFERENCES:
            if row.values[key]:
                first.setdefault((row.values["learner_email"], key), (row.values[key], row.line))
    for row in results:
        if row.outcome == "error":
            continue
        changed = False
        for key, words in REFERENCES:
            value, line = first.get((row.values["learner_email"], key), ("", 0))
            if not row.values[key] and value:
                row.values[key] = value
                changed = True
            elif row.values[key] != value:
                row.errors[key] = f"This learner's {words} is {value} on line {line}"
        if row.errors:
            row.outcome = "error"
        elif changed:
            row.digest = snapshot(issue_fields(row.values, row.units))[1]


def _take_account_references(row: RowResult, person: dict[str, Any]) -> None:
    """Blank references are the learner's own (what the document will say), and the digest follows."""
    changed = False
    for key, _ in REFERENCES:
        if not row.values[key] and person[key]:
            row.values[key] = person[key]
            changed = True
    if changed:
        row.digest = snapshot(issue_fields(row.values, row.units))[1]


async def compare_with_database(results: list[RowResult]) -> dict[str, dict[str, Any]]:
    """Existing certificate numbers (identical or conflict) and learners' accounts, in a few queries.
    Returns the accounts found, by email."""
    numbers = [r.values["certificate_number"] for r in results if r.outcome != "error"]
    emails = sorted({r.values["learner_email"] for r in results if r.outcome != "error"})
    existing = {
        doc["certificate_number"]: doc["content_sha256"]
        for doc in await select_in(
            Document, ["certificate_number", "content_sha256"], "certificate_number", numbers
        )
    }
    people = await accounts_by_email(emails)
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
        elif person:
            _take_account_references(row, person)
        if row.errors:
            row.outcome = "error"
        elif values["certificate_number"] in existing:
            stored = existing[values["certificate_number"]]
            row.outcome = "identical" if stored in (row.digest, row.as_written) else "conflict"
    return people


async def accounts_by_email(emails: list[str]) -> dict[str, dict[str, Any]]:
    """The accounts that hold these addresses, by the address as written: a learner's second address
    finds their account too (an address belongs to one account only)."""
    columns = ["id", "email", "role", "deleted_at", "enrolment_number", "uln"]
    found = {row["email"]: row for row in await select_in(Account, columns, "email", emails)}
    for row in await select_in(Account, [*columns, "second_email"], "second_email", emails):
        found[row.pop("second_email")] = row
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
