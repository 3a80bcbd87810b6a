"""What a section of the data download is (its name, title, columns and how it reads its rows), what
it reads with (the `Reader`) and a page at a time (the `Window`), and the helpers that say who
someone is the same way in every section."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from src.clock import utcnow
from src.tables.accounts import Account, Role

Rows = list[dict[str, Any]]


@dataclass(frozen=True)
class Reader:
    """What the sections need besides the person: the site's settings and the email templates."""

    settings: Any  # src.settings.Settings
    templates: Any  # the app's template engine, for the subjects of emails sent

    @property
    def staff_name(self) -> str:
        return f"Staff of {self.settings.org_name}"


@dataclass(frozen=True)
class Window:
    """One page of a section: rows with an id above `after` and at most `until` (None: no bound),
    at most `size` of them, in id order."""

    after: int
    until: int | None
    size: int

    def of(self, query: Any, id_column: Any) -> Any:
        query = query.where(id_column > self.after)
        if self.until is not None:
            query = query.where(id_column <= self.until)
        return query.order_by(id_column).limit(self.size)


@dataclass(frozen=True)
class Section:
    name: str
    title: str  # what the README says the file holds
    columns: tuple[str, ...]
    read: Callable[[Account, Reader, Window], Awaitable[Rows]]  # rows with an "id", in id order


def columns_of(*names: Any) -> tuple[str, ...]:
    """Column names, from names or Piccolo columns."""
    return tuple(name if isinstance(name, str) else name._meta.name for name in names)


def today_for(reader: Reader) -> Any:
    """Today where the portal is."""
    return utcnow().astimezone(reader.settings.tz).date()


def on_their_connection(connection: Any, person: Account) -> Any:
    """Rows whose connection (a foreign key, joined) is one of the person's, on either side."""
    return (connection.learner == person.id) | (connection.third_party == person.id)


def full_name(first: str | None, last: str | None, company: str | None = None) -> str:
    name = " ".join(part for part in (first, last) if part)
    return f"{name} ({company})" if name and company else name


def who(person: Account, reader: Reader, row: dict[str, Any]) -> str:
    """Who a row's account is, from the person's side: "you", the staff, or a name."""
    if row["account"] is None:
        return ""
    if row["account"] == person.id:
        return "you"
    if row["role"] == Role.staff.value:
        return reader.staff_name
    return full_name(row["first_name"], row["last_name"], row["company"])
