"""Learners made by staff, one from the staff form or thousands from a CSV import, the one way: an
account with no password yet and an activation email, written in a few multi-row inserts inside the
write transaction, so that a 5,000-row import holds the write lock briefly."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Any

from src.accounts.claims import claim_many
from src.clock import utcnow
from src.db import insert_many, select_in, write_transaction
from src.mail import enqueue_many
from src.tables.accounts import Account, Role
from src.tokens import ACTIVATE_MAX_AGE, Tokens, password_fingerprint

MIN_USERNAME = 3


@dataclass(frozen=True)
class NewLearner:
    email: str
    first_name: str
    last_name: str
    middle_name: str = ""
    enrolment_number: str = ""
    uln: str = ""


def activation_token(tokens: Tokens, account_id: int, email: str) -> str:
    """The activation link's token for a new learner (no password, never logged in); setting a
    password spends it. The email builds the link from it by route name."""
    fingerprint = password_fingerprint(None, None)
    return tokens.sign("activate", {"a": account_id, "e": email, "f": fingerprint})


def _stem(person: NewLearner) -> str:
    return re.sub(r"[^a-z0-9]", "", f"{person.first_name[:1]}{person.last_name}".lower())[:30] or "learner"


def _numbered(stem: str) -> str:
    return f"{stem}{secrets.randbelow(900_000) + 100_000}"


async def _usernames(people: list[NewLearner]) -> dict[str, str]:
    """A free user name for each person (by email): initial and surname when free, else with a
    random six-digit number. Every candidate is looked up at once; a number that collides with one
    just given is drawn again (rare)."""
    candidates = {person.email: (_stem(person), _numbered(_stem(person))) for person in people}
    wanted = [name for pair in candidates.values() for name in pair]
    taken = {
        row["username_key"] for row in await select_in(Account, ["username_key"], "username_key", wanted)
    }
    names: dict[str, str] = {}
    for person in people:
        stem, numbered = candidates[person.email]
        name = stem if len(stem) >= MIN_USERNAME and stem not in taken else numbered
        while name in taken:
            name = _numbered(stem)
        taken.add(name)
        names[person.email] = name
    return names


async def create_learners(tokens: Tokens, people: list[NewLearner]) -> list[dict[str, Any]]:
    """Insert learner accounts (no password yet) and queue each one's activation email, inside the
    caller's write transaction or one of its own; the emails must not be taken by existing accounts.
    Returns their id, email, username and first name (plain rows: thousands of Account objects cost
    a noticeable part of a second)."""
    async with write_transaction():
        names = await _usernames(people)
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
        await claim_many([(learner["id"], learner["email"]) for learner in made])
        await enqueue_many(
            [
                (
                    learner["email"],
                    "activate_account",
                    {
                        "first_name": learner["first_name"],
                        "username": learner["username"],
                        "token": activation_token(tokens, learner["id"], learner["email"]),
                        "days": ACTIVATE_MAX_AGE // 86400,
                    },
                    f"activate:{learner['id']}",
                )
                for learner in made
            ]
        )
    return made


async def create_learner(tokens: Tokens, first_name: str, last_name: str, email: str) -> Account:
    """Staff add one learner (the staff form, a document issued to a new address)."""
    async with write_transaction():
        [made] = await create_learners(tokens, [NewLearner(email, first_name, last_name)])
        learner = await Account.by_id(made["id"])
    if learner is None:  # written just now, in this transaction
        raise LookupError(made["id"])
    return learner


async def newest_learners(limit: int = 50) -> list[Account]:
    return await Account.newest(Role.learner, limit)
