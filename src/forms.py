"""Reading and checking submitted forms, GOV.UK style: every error belongs to a field, and what the
person typed is handed back to the page (passwords excepted)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from litestar import Request

from src.clock import utcnow

EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s.]{2,}$")
USERNAME_RE = re.compile(r"^[A-Za-z0-9._-]{3,40}$")
MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}
# What a personal name may contain (an account's, a document's, an imported row's). A name is
# printed on certificates and lands in spreadsheets (the errors file, staff exports), so it must
# read as a name: letters and combining marks of any script, with spaces, hyphens, apostrophes
# (' and the typographic U+2019) and full stops between them. That refuses markup (< > " & …),
# digits, and every cell a spreadsheet would run as a formula (= + - @ at the start), without
# refusing any script's names.
PUNCTUATION = " -'\u2019."
# Persian and Indic names need the zero-width (non-)joiner between letters; other format
# characters (bidirectional overrides among them) could make a name read as something else.
JOINERS = "\u200c\u200d"
NAME_RULE = "letters, spaces, hyphens (-), apostrophes (') and full stops"


def _is_letter(ch: str) -> bool:
    return unicodedata.category(ch)[0] == "L"


def name_problem(label: str, name: str) -> str:
    """Why `name` (cleaned, NFC) cannot be a personal name, in words; "" when it can."""
    if not name:
        return ""
    if not _is_letter(name[0]):
        return f"{label} must start with a letter, not “{name[0]}”"
    for ch in name:
        if not (_is_letter(ch) or unicodedata.category(ch)[0] == "M" or ch in PUNCTUATION or ch in JOINERS):
            shown = ch if ch.isprintable() and not ch.isspace() else f"U+{ord(ch):04X}"
            return f"{label} may use only {NAME_RULE}, not “{shown}”"
    return ""


def as_name(text: str) -> str:
    """One written form of a name: composed characters (a "ị" typed as i + dot below on one computer
    and as one character on another is the same name, and the same document), single spaces."""
    return " ".join(unicodedata.normalize("NFC", text).split())


MAX_FIELD = 500
MAX_CHOICES = 200  # ticked boxes read from one list; more is not a person ticking boxes


@dataclass
class Form:
    """Submitted values (trimmed) and the errors found, keyed by field name, in page order."""

    values: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)
    # Every value of a name that may repeat (checkbox lists), in the order sent.
    lists: dict[str, list[str]] = field(default_factory=dict)

    def get(self, name: str) -> str:
        return self.values.get(name, "")

    def error(self, name: str, message: str) -> None:
        self.errors.setdefault(name, message)

    def required(self, name: str, message: str, max_length: int = 100) -> str:
        value = self.get(name)
        if not value:
            self.error(name, message)
        elif len(value) > max_length:
            self.error(name, f"Enter no more than {max_length} characters")
        return value

    def optional(self, name: str, max_length: int = 200) -> str:
        value = self.get(name)
        if len(value) > max_length:
            self.error(name, f"Enter no more than {max_length} characters")
        return value

    def person_name(self, name: str, label: str, missing: str = "", max_length: int = 100) -> str:
        """A personal name in one written form (`as_name`), holding only what a name may; required
        when `missing` (the message for an empty field) is given."""
        value = as_name(self.get(name))
        if not value:
            if missing:
                self.error(name, missing)
        elif len(value) > max_length:
            self.error(name, f"Enter no more than {max_length} characters")
        elif problem := name_problem(label, value):
            self.error(name, problem)
        return value

    def email(self, name: str, required: bool = True) -> str:
        value = self.get(name).lower()
        if not value:
            if required:
                self.error(name, "Enter your email address")
        elif len(value) > 254 or not EMAIL_RE.match(value):
            self.error(name, "Enter an email address in the correct format, like name@example.com")
        return value

    def ids(self, name: str) -> list[int]:
        """The ticked ids of a checkbox list (e.g. documents): whole numbers only, at most MAX_CHOICES."""
        return [int(v) for v in self.lists.get(name, []) if v.isascii() and v.isdigit()][:MAX_CHOICES]

    @property
    def ok(self) -> bool:
        return not self.errors

    def kept(self, *secret: str) -> dict[str, str]:
        """Values to show again on the page: everything except the named secret fields."""
        return {k: v for k, v in self.values.items() if k not in secret and k != "_csrf_token"}


async def read_form(request: Request[Any, Any, Any]) -> Form:
    """The submitted form, read once: single values trimmed (passwords keep their spaces), and every
    value of each name kept in `lists` for checkbox lists (read them with `Form.ids`)."""
    data = await request.form()
    values: dict[str, str] = {}
    lists: dict[str, list[str]] = {}
    for key, value in data.multi_items():
        if not isinstance(value, str):
            continue
        lists.setdefault(key, []).append(value)
        values[key] = value if "password" in key else value.strip()  # a repeated name: the last
    return Form(values=values, lists=lists)


def parse_date(
    form: Form, prefix: str, label: str, *, required: bool = False, past: str | None = None
) -> date | None:
    """Three typed fields (day, month, year); month may be a number or a name ("3", "Mar", "March").

    Each message says exactly what is wrong, GOV.UK style. `past`: the message for a date that is
    not before today (a date of birth), e.g. "Date of birth must be in the past"."""
    day, month, year = (form.get(f"{prefix}-{part}") for part in ("day", "month", "year"))
    if not (day or month or year):
        if required:
            form.error(prefix, f"Enter {label}")
        return None
    missing = [part for part, value in (("day", day), ("month", month), ("year", year)) if not value]
    if missing:
        form.error(prefix, f"{label.capitalize()} must include a {' and a '.join(missing)}")
        return None
    if re.fullmatch("[0-9]{1,3}", year):
        # "90" could be 1990 or 2090: ask rather than guess.
        form.error(prefix, "Year must include 4 numbers")
        return None
    # ASCII digits only ("²".isdigit() is true but int() refuses it), and short enough for date().
    month_number = int(month) if re.fullmatch("[0-9]{1,2}", month) else MONTHS.get(month.lower().rstrip("."))
    if not (re.fullmatch("[0-9]{1,2}", day) and re.fullmatch("[0-9]{4}", year) and month_number):
        form.error(prefix, f"{label.capitalize()} must be a real date, like 27 3 1990")
        return None
    try:
        value = date(int(year), month_number, int(day))
    except ValueError:
        form.error(prefix, f"{label.capitalize()} must be a real date, like 27 3 1990")
        return None
    # UTC's today: a day either way around midnight does not matter for a date of birth.
    if past and value >= utcnow().date():
        form.error(prefix, past)
        return None
    return value


def date_parts(value: date | None) -> dict[str, str]:
    if value is None:
        return {}
    return {"day": str(value.day), "month": str(value.month), "year": str(value.year)}


def flatten_date(prefix: str, value: date | None) -> dict[str, Any]:
    return {f"{prefix}-{k}": v for k, v in date_parts(value).items()}
