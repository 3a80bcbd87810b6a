"""Development only: every email the portal has written, readable with its links clickable.

Registered only in development mode (see routes/__init__.py), so production has no such page.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Template

from src.htmx import render
from src.mail import render_email
from src.routes.common import settings_of
from src.tables.outbox import OutboxEmail


def _subject(engine: Any, row: OutboxEmail, settings: Any) -> str:
    # One email that cannot be rendered (its error is on the row) must not hide all the others.
    try:
        return render_email(engine, row, settings).subject
    except Exception:
        return f"({row.template}: cannot be rendered; see its last error)"


class MailboxController(Controller):
    path = "/dev/mailbox"

    @get("/", name="mailbox")
    async def list_mail(self, request: Request[Any, Any, Any]) -> Template:
        """Page: the newest 100 emails, newest first."""
        rows = await OutboxEmail.objects().order_by(OutboxEmail.id, ascending=False).limit(100)
        engine = request.app.template_engine
        settings = settings_of(request)
        mails = [(row, _subject(engine, row, settings)) for row in rows]
        return render(request, "dev/mailbox.html", mails=mails)

    @get("/{mail_id:int}", name="mailbox_mail")
    async def show_mail(self, request: Request[Any, Any, Any], mail_id: FromPath[int]) -> Template:
        """Page: one email, its plain-text part with the links made clickable."""
        row = await OutboxEmail.objects().where(OutboxEmail.id == mail_id).first()
        if row is None:
            raise NotFoundException()
        engine: Any = request.app.template_engine
        rendered = render_email(engine, row, settings_of(request))
        return render(
            request, "dev/mail.html", mail=row, rendered=rendered, base_url=settings_of(request).base_url
        )
