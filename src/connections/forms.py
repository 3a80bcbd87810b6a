"""The connection forms, checked in one place: each `check_…` reads a submitted `Form` and returns
the values an action needs, or None with the errors recorded per field (in page order, so the error
summary lists them as the page shows the fields). `place_refusal` puts an action's `Refused` beside
the field it names, so no page guesses a field from a message's wording."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from src.errors import Refused
from src.forms import Form, parse_date

NO_DOCUMENTS = "Choose at least one document to share"
END_DATE = "the date access ends"


@dataclass(frozen=True)
class ShareForm:
    email: str
    document_ids: list[int]
    expires_on: date


@dataclass(frozen=True)
class AcceptForm:
    document_ids: list[int]
    expires_on: date


@dataclass(frozen=True)
class AddForm:
    email: str
    message: str


@dataclass(frozen=True)
class ExtensionForm:
    wanted_until: date
    message: str


def check_share(form: Form) -> ShareForm | None:
    """A learner's Share: the other side's email, the documents ticked, the end date."""
    email = form.email("email")
    ids = form.ids("documents")
    if not ids:
        form.error("documents", NO_DOCUMENTS)
    expires_on = parse_date(form, "expires_on", END_DATE, required=True)
    if not form.ok or expires_on is None:
        return None
    return ShareForm(email=email, document_ids=ids, expires_on=expires_on)


def check_accept(form: Form) -> AcceptForm | None:
    """A learner accepting a third party's request: the end date and the documents ticked."""
    expires_on = parse_date(form, "expires_on", END_DATE, required=True)
    ids = form.ids("documents")
    if not ids:
        form.error("documents", NO_DOCUMENTS)
    if not form.ok or expires_on is None:
        return None
    return AcceptForm(document_ids=ids, expires_on=expires_on)


def check_add_connection(form: Form) -> AddForm | None:
    """A third party's Add Connection: the learner's email and an optional message."""
    email = form.email("email")
    message = form.optional("message", 500)
    return AddForm(email=email, message=message) if form.ok else None


def check_extension_request(form: Form) -> ExtensionForm | None:
    """A third party asking for more time: the date wanted and an optional message."""
    wanted = parse_date(form, "wanted_until", "the date you want access until", required=True)
    message = form.optional("message", 500)
    if not form.ok or wanted is None:
        return None
    return ExtensionForm(wanted_until=wanted, message=message)


def check_new_date(form: Form, field: str) -> date | None:
    """A learner's new end date (approving more time, or extending), typed in the three fields `field`."""
    new_date = parse_date(form, field, "the new end date", required=True)
    return new_date if form.ok else None


def place_refusal(form: Form, exc: Refused, default: str, renamed: Mapping[str, str] | None = None) -> None:
    """Record a refusal beside the field it is about. `exc.field` is the action's name for it (e.g.
    "expires_on"); `renamed` maps that to this form's name when the form calls it otherwise (the
    extend form's "extend_to"); a refusal about no field goes to `default`."""
    field = (renamed or {}).get(exc.field, exc.field) or default
    form.error(field, str(exc))
