"""Learners made by staff in bulk (a CSV import): accounts "created by staff" with their activation
emails, as `create_learner` makes one, but in a few multi-row inserts inside the caller's transaction
so that a 5,000-row import holds the write lock briefly."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Any

from src.accounts.registration import activation_token_for
from src.clock import utcnow
from src.db import insert_many, select_in
from src.mail import enqueue_many
from src.tables.accounts import Account, Role
from src.tokens import ACTIVATE_MAX_AGE, Tokens

CHUNK = 400


@dataclass(frozen=True)
class NewLearner:
    email: str
    first_name: str
    last_name: str
    middle_name: str = ""
    enrolment_number: str = ""
    uln: str = ""


def _username(person: NewLearner) -> str:
    stem = re.sub(r"[^a-z0-9]", "", f"{person.first_name[:1]}{person.last_name}".lower())[:30] or "learner"
    return f"{stem}{secrets.randbelow(900_000) + 100_000}"


async def create_learners(tokens: Tokens, people: list[NewLearner]) -> list[dict[str, Any]]:
    """Insert learner accounts (no password yet) and queue each one's activation email. Call inside a
    write transaction; the emails must not be taken by existing accounts. Returns their id, email
    and username (plain rows: thousands of Account objects cost a noticeable part of a second)."""
    names = {person.email: _username(person) for person in people}
    taken = {
        row["username_key"]
        for row in await select_in(Account, ["username_key"], "username_key", list(names.values()))
    }
    for person in people:
        while names[person.email] in taken:  # a random six-digit suffix rarely collides
            names[person.email] = _username(person)
        taken.add(names[person.email])
    now = utcnow()
    await insert_many(
        Account,
        [
            {
                "role": Role.learner.value,
                "username": names[p.email],
                "username_key": names[p.email],
                "email": p.email.lower(),
                "first_name": p.first_name,
                "middle_name": p.middle_name,
                "last_name": p.last_name,
                "phone": "",
                "company_name": "",
                "job_title": "",
                "enrolment_number": p.enrolment_number,
                "uln": p.uln,
                "failed_logins": 0,
                "session_epoch": 0,
                "created_at": now,
            }
            for p in people
        ],
    )
    made = await select_in(
        Account, ["id", "email", "username", "first_name"], "email", [p.email.lower() for p in people]
    )
    await enqueue_many(
        [
            (
                learner["email"],
                "activate_account",
                {
                    "first_name": learner["first_name"],
                    "username": learner["username"],
                    "token": activation_token_for(tokens, learner["id"], learner["email"]),
                    "days": ACTIVATE_MAX_AGE // 86400,
                },
                f"activate:{learner['id']}",
            )
            for learner in made
        ]
    )
    return made
