"""The one row validator: a document described as text fields (a CSV row or the staff form) is
checked here and nowhere else, so the form and the import refuse exactly the same things.

Dates are taken only as dd/mm/yyyy or yyyy-mm-dd: a two-digit year or a month name would make a
swapped day and month harder to catch, and the dry run echoes every parsed date in words.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from src.documents.names import level_as_stated, printed_name
from src.forms import as_name, name_problem

COLUMNS = (
    "certificate_number",
    "learner_email",
    "first_name",
    "middle_name",
    "last_name",
    "enrolment_number",
    "uln",
    "kind",
    "qualification_code",
    "qualification_title",
    "level",
    "grade",
    "awarded_on",
    "valid_until",
)
UNIT_COLUMNS = ("certificate_number", "unit_code", "unit_title", "level", "credits", "grade")
KINDS = ("certificate", "qualification record", "accreditation")
EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s.]{2,}$")
CERTIFICATE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9/._-]{0,39}$")
DMY_RE = re.compile(r"^([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})$")
ISO_RE = re.compile(r"^([0-9]{4})-([0-9]{2})-([0-9]{2})$")

# (column, label, required, max length)
LIMITS: dict[str, tuple[str, bool, int]] = {
    "certificate_number": ("Certificate number", True, 40),
    "learner_email": ("Learner's email", True, 254),
    "first_name": ("First name", True, 100),
    "middle_name": ("Middle name", False, 100),
    "last_name": ("Last name", True, 100),
    "enrolment_number": ("Enrolment number", False, 40),
    "uln": ("ULN", False, 10),
    "kind": ("Kind", True, 40),
    "qualification_code": ("Qualification code", False, 40),
    "qualification_title": ("Qualification title", True, 200),
    "level": ("Level", False, 40),
    "grade": ("Grade", False, 60),
    "awarded_on": ("Awarded on", True, 10),
    "valid_until": ("Valid until", False, 10),
}
UNIT_LIMITS: dict[str, tuple[str, bool, int]] = {
    "unit_code": ("Unit code", False, 40),
    "unit_title": ("Unit title", True, 200),
    "level": ("Unit level", False, 40),
    "credits": ("Credits", False, 6),
    "grade": ("Unit grade", False, 60),
}


@dataclass
class CheckedRow:
    """A row's typed values (ready for `issue`) or its errors, keyed by column."""

    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


def clean(value: Any) -> str:
    """Text as typed, trimmed; control characters (NUL included) are never kept."""
    text = "" if value is None else str(value)
    return "".join(ch for ch in text if ch in "\t" or ord(ch) >= 32).strip()


def clean_text(value: str) -> str:
    """Free text (several lines allowed) without control characters: PostgreSQL refuses NUL in text."""
    return "".join(ch for ch in value.replace("\r\n", "\n") if ch in "\n\t" or ord(ch) >= 32).strip()


def parse_date(text: str) -> date | None:
    """dd/mm/yyyy or yyyy-mm-dd, nothing else; None when it is not one of them or not a real date."""
    if match := DMY_RE.match(text):
        day, month, year = (int(part) for part in match.groups())
    elif match := ISO_RE.match(text):
        year, month, day = (int(part) for part in match.groups())
    else:
        return None
    try:
        return date(year, month, day)
    except ValueError:
        return None


def uln_is_valid(uln: str) -> bool:
    """The Unique Learner Number's check: 10 digits, the first not 0; the first nine weighted 10 … 2,
    and 10 minus their sum mod 11 is the last digit (a result of 10 means no valid ULN)."""
    if not re.fullmatch("[1-9][0-9]{9}", uln):
        return False
    total = sum(int(digit) * weight for digit, weight in zip(uln[:9], range(10, 1, -1), strict=True))
    check = 10 - total % 11
    return check < 10 and check == int(uln[9])


def _lengths(raw: dict[str, str], limits: dict[str, tuple[str, bool, int]], row: CheckedRow) -> None:
    for column, (label, required, longest) in limits.items():
        value = clean(raw.get(column))
        row.values[column] = value
        if not value and required:
            row.errors[column] = f"Enter the {label.lower()}" if column != "uln" else "Enter the ULN"
        elif len(value) > longest:
            row.errors[column] = f"{label} must be {longest} characters or fewer"


def check_row(raw: dict[str, str], *, today: date) -> CheckedRow:
    """Check one document row. Values come back typed: dates as `date`, kind lower case."""
    row = CheckedRow()
    _lengths(raw, LIMITS, row)
    values, errors = row.values, row.errors
    if "certificate_number" not in errors and not CERTIFICATE_RE.match(values["certificate_number"]):
        errors["certificate_number"] = "Certificate number may use only letters, digits and / . _ -"
    _check_names(values, errors)
    values["level"] = level_as_stated(values["level"])
    values["learner_email"] = values["learner_email"].lower()
    if "learner_email" not in errors and not EMAIL_RE.match(values["learner_email"]):
        errors["learner_email"] = "Enter an email address in the correct format, like name@example.com"
    values["kind"] = values["kind"].lower()
    if "kind" not in errors and values["kind"] not in KINDS:
        errors["kind"] = "Kind must be certificate, qualification record or accreditation"
    if values["uln"] and "uln" not in errors and not uln_is_valid(values["uln"]):
        errors["uln"] = "ULN must be 10 digits with a correct check digit"
    for column in ("awarded_on", "valid_until"):
        text = values[column]
        if not text or column in errors:
            values[column] = None
            continue
        parsed = parse_date(text)
        if parsed is None:
            errors[column] = f"{LIMITS[column][0]} must be a real date as dd/mm/yyyy or yyyy-mm-dd"
        values[column] = parsed
    awarded, until = values["awarded_on"], values["valid_until"]
    if awarded and awarded > today:
        errors.setdefault("awarded_on", "Awarded on must be today or in the past")
    if awarded and until and until <= awarded:
        errors.setdefault("valid_until", "Valid until must be after the award date")
    return row


NAME_COLUMNS = ("first_name", "middle_name", "last_name")
PRINTED_NAME_LENGTH = 200  # Document.name_as_printed


def _check_names(values: dict[str, Any], errors: dict[str, str]) -> None:
    for column in NAME_COLUMNS:
        values[column] = as_name(values[column])
        if column not in errors and (problem := name_problem(LIMITS[column][0], values[column])):
            errors[column] = problem
    name = printed_name(*(values[column] for column in NAME_COLUMNS))
    if len(name) > PRINTED_NAME_LENGTH and not errors.keys() & set(NAME_COLUMNS):
        errors["last_name"] = (
            f"The name as printed (first, middle and last) must be {PRINTED_NAME_LENGTH} characters or fewer"
        )


def check_unit(raw: dict[str, str]) -> CheckedRow:
    row = CheckedRow()
    _lengths(raw, UNIT_LIMITS, row)
    credits = row.values["credits"]
    if credits and "credits" not in row.errors and not re.fullmatch("[0-9]{1,4}", credits):
        row.errors["credits"] = "Credits must be a whole number"
    return row


def issue_fields(values: dict[str, Any], units: list[dict[str, str]]) -> dict[str, Any]:
    """The keyword arguments of `documents.issue` / `snapshot` for a checked row."""
    name = printed_name(values["first_name"], values["middle_name"], values["last_name"])
    return {
        "title": values["qualification_title"],
        "certificate_number": values["certificate_number"],
        "awarded_on": values["awarded_on"],
        "units": units,
        "kind": values["kind"],
        "qualification_code": values["qualification_code"],
        "level": values["level"],
        "name_as_printed": name,
        "enrolment_number": values["enrolment_number"],
        "uln": values["uln"],
        "grade": values["grade"],
        "valid_until": values["valid_until"],
    }


def unit_of(values: dict[str, Any]) -> dict[str, str]:
    return {
        "code": values["unit_code"],
        "title": values["unit_title"],
        "level": values["level"],
        "credits": values["credits"],
        "grade": values["grade"],
    }


def units_from_text(text: str) -> tuple[list[dict[str, str]], str]:
    """Units typed in the staff form, one per line: code, title, level, credits, grade (commas between,
    quotes as in CSV). Returns the units, or an error message for the first bad line."""
    units = []
    lines = [line for line in clean_lines(text) if line.strip()]
    if len(lines) > 200:
        return [], "Enter no more than 200 units"
    for number, cells in enumerate(csv.reader(io.StringIO("\n".join(lines))), 1):
        raw = dict(zip(("unit_code", "unit_title", "level", "credits", "grade"), cells, strict=False))
        checked = check_unit(raw)
        if not checked.ok or len(cells) > 5:
            problem = next(
                iter(checked.errors.values()), "Give at most 5 values: code, title, level, credits, grade"
            )
            return [], f"Unit line {number}: {problem}"
        units.append(unit_of(checked.values))
    return units, ""


def clean_lines(text: str) -> list[str]:
    return [clean(line) for line in text.replace("\r\n", "\n").split("\n")]


def units_as_text(units: list[dict[str, Any]]) -> str:
    """Units back as the lines the staff form takes (to pre-fill a supersede form)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for unit in units:
        writer.writerow([unit.get(key, "") for key in ("code", "title", "level", "credits", "grade")])
    return out.getvalue().strip()
