"""Turning an outbox row into an email: its templates rendered strictly, and the message built."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit
from weakref import WeakKeyDictionary

from jinja2 import Environment, Undefined

if TYPE_CHECKING:
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


def render_email(
    engine: TemplateEngineProtocol[Any, Any], row: OutboxEmail, settings: Settings
) -> RenderedEmail:
    """Render emails/<template>.{subject.txt,txt,html} with the row's context and site facts."""
    # Piccolo hands a JSON column back as text unless asked to load it.
    saved = json.loads(row.context) if isinstance(row.context, str) else row.context
    context = {
        **(saved if isinstance(saved, dict) else {}),
        "org_name": settings.org_name,
        "support_email": settings.support_email,
        "base_url": settings.base_url,
    }
    name = f"emails/{row.template}"
    environment = _email_environment(engine)
    subject = environment.get_template(f"{name}.subject.txt").render(**context).strip()
    text = environment.get_template(f"{name}.txt").render(**context)
    html = environment.get_template(f"{name}.html").render(**context)
    return RenderedEmail(subject=" ".join(subject.split()), text=text, html=html)


def build_message(row: OutboxEmail, rendered: RenderedEmail, settings: Settings) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = row.recipient
    message["Subject"] = rendered.subject
    message["Date"] = formatdate(localtime=False)
    digest = hashlib.sha256(row.idempotency_key.encode()).hexdigest()[:32]
    message["Message-ID"] = f"<{digest}@{urlsplit(settings.base_url).hostname or 'portal.invalid'}>"
    message.set_content(rendered.text)
    message.add_alternative(rendered.html, subtype="html")
    return message
