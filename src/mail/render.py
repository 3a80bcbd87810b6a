"""Turning an outbox row into an email: its templates rendered strictly, and the message built.

Links in emails are built by route name, as pages build theirs, with `url_for`: in an email it gives
the absolute address from BASE_URL (never from a request, which an email has none of)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from email.header import Header
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formataddr, formatdate, parseaddr
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlsplit
from weakref import WeakKeyDictionary

from jinja2 import Environment, Undefined, pass_context

if TYPE_CHECKING:
    from collections.abc import Callable
    from email.message import Message

    from jinja2.runtime import Context
    from litestar.template import TemplateEngineProtocol

    from src.settings import Settings
    from src.tables.outbox import OutboxEmail


class _PrintingMissingIsAnError(Undefined):
    """Printing a variable the row's context lacks (say, the link's path) is an error, recorded on
    the row, never an email with an empty link; testing one (`{% if message %}`) is allowed."""

    __slots__ = ()

    def __str__(self) -> str:
        self._fail_with_undefined_error()
        return ""  # not reached


@pass_context
def _absolute_url_for(context: Context, route_name: str, /, **parameters: Any) -> str:
    """The app's `url_for` (the one pages use), after BASE_URL. A missing parameter is an error, as
    printing a missing variable is, never a link to the wrong page."""
    for value in parameters.values():
        if isinstance(value, Undefined):
            value._fail_with_undefined_error()
    page_url_for = cast("Callable[..., str]", context.environment.globals["url_for"])
    return str(context["base_url"]) + page_url_for(context, route_name, **parameters)


def _by_name(saved: dict[str, Any]) -> dict[str, Any]:
    """Rows queued before emails built their links by name hold the link's path, ending in its token."""
    path = saved.get("path")
    if isinstance(path, str) and "token" not in saved:
        return {**saved, "token": path.rsplit("/", 1)[-1]}
    return saved


# One overlay of the app's own environment (same loader, filters, globals) per app.
_email_environments: WeakKeyDictionary[Environment, Environment] = WeakKeyDictionary()


def _email_environment(engine: TemplateEngineProtocol[Any, Any]) -> Environment:
    environment: Environment = engine.engine  # type: ignore[attr-defined]
    strict = _email_environments.get(environment)
    if strict is None:
        strict = environment.overlay(undefined=_PrintingMissingIsAnError, cache_size=100)
        _email_environments[environment] = strict
    return strict


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


def _context(row: OutboxEmail, settings: Settings) -> dict[str, Any]:
    # Piccolo hands a JSON column back as text unless asked to load it.
    saved = json.loads(row.context) if isinstance(row.context, str) else row.context
    return {
        **(_by_name(saved) if isinstance(saved, dict) else {}),
        "org_name": settings.org_name,
        "support_email": settings.support_email,
        "base_url": settings.base_url,
        "url_for": _absolute_url_for,
    }


def render_email(
    engine: TemplateEngineProtocol[Any, Any], row: OutboxEmail, settings: Settings
) -> RenderedEmail:
    """Render emails/<template>.{subject.txt,txt,html} with the row's context and site facts."""
    context = _context(row, settings)
    name = f"emails/{row.template}"
    environment = _email_environment(engine)
    subject = environment.get_template(f"{name}.subject.txt").render(**context).strip()
    text = environment.get_template(f"{name}.txt").render(**context)
    html = environment.get_template(f"{name}.html").render(**context)
    return RenderedEmail(subject=" ".join(subject.split()), text=text, html=html)


def render_subject(engine: TemplateEngineProtocol[Any, Any], row: OutboxEmail, settings: Settings) -> str:
    """An outbox row's subject line alone, as render_email gives it (a person's download of their data
    lists the emails sent to them by date and subject)."""
    subject = (
        _email_environment(engine)
        .get_template(f"emails/{row.template}.subject.txt")
        .render(**_context(row, settings))
    )
    return " ".join(subject.split())


def _encoded(value: str) -> str | Header:
    return value if value.isascii() else Header(value, "utf-8")


def build_message(row: OutboxEmail, rendered: RenderedEmail, settings: Settings) -> Message:
    """A multipart/alternative message (text, then HTML), UTF-8.

    Built with the compat32 MIME classes: the modern EmailMessage parses every header it is given
    with the header registry, which cost more CPU than everything else in sending an email."""
    message = MIMEMultipart("alternative")
    name, address = parseaddr(settings.mail_from)
    message["From"] = formataddr((str(_encoded(name)), address)) if name else address
    message["To"] = row.recipient
    message["Subject"] = _encoded(rendered.subject)  # type: ignore[assignment]  # compat32 takes a Header
    message["Date"] = formatdate(localtime=False)
    digest = hashlib.sha256(row.idempotency_key.encode()).hexdigest()[:32]
    message["Message-ID"] = f"<{digest}@{urlsplit(settings.base_url).hostname or 'portal.invalid'}>"
    message.attach(MIMEText(rendered.text, "plain", "utf-8"))
    message.attach(MIMEText(rendered.html, "html", "utf-8"))
    return message
