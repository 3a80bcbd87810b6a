"""Email: requests write messages to the outbox inside their own transaction (`enqueue`); the
worker renders and sends them over SMTP with retries. Other code uses only the names below."""

from src.mail.outbox import enqueue, enqueue_many, minute_key, poke_worker
from src.mail.render import RenderedEmail, build_message, render_email, render_subject
from src.mail.worker import MailWorker, send_due

__all__ = [
    "MailWorker",
    "RenderedEmail",
    "build_message",
    "enqueue",
    "enqueue_many",
    "minute_key",
    "poke_worker",
    "render_email",
    "render_subject",
    "send_due",
]
