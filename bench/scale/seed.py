"""The people the check drives, made through the real domain code (`src.accounts`, `src.documents.issue`,
`src.connections`), as tests/support/factories.py does: third parties with learners' offers waiting
for them, learners with documents and active connections, and accounts for the log-in probes.

Every account that logs in gets one precomputed Argon2id hash of low cost: a log-in still verifies a
real hash, but two shared cores are not spent on hashing (the check is about processes coming and
going, not about the cost of a log-in). Seeding queues emails (an offer tells the third party);
the mail workers send them once they start, which is part of the mail the check counts.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import date, timedelta

from argon2 import PasswordHasher

from bench.scale import env  # noqa: F401 - first: the database named before src is imported
from src import accounts, connections
from src.documents import issue
from src.tables.accounts import Account, Role

PASSWORD = "scale-harbour-lantern-" + secrets.token_hex(4)
THIRD_PARTIES = 4
LEARNERS = 6
OFFERS_PER_THIRD_PARTY = 15  # learners' offers waiting for each third party to accept (full form)
ACTIVE_PER_LEARNER = 8  # connections each learner can cancel (full form)


@dataclass
class Person:
    username: str
    role: str
    id: int
    connection_ids: list[int] = field(default_factory=list)  # to view
    actionable: list[int] = field(default_factory=list)  # to accept (third party) or cancel (learner)
    document_ids: list[int] = field(default_factory=list)


@dataclass
class Cast:
    third_parties: list[Person]
    learners: list[Person]
    verify_codes: list[str]
    churn: list[str]  # accounts the log-in traffic signs in and out of
    wrong_targets: list[str]  # accounts the wrong passwords are aimed at
    lock_probes: list[str]  # fresh accounts for the lock-out counts (one process, several)
    address_probes: list[str]  # accounts the per-address probes aim at, a few failures each


async def _account(role: Role, username: str, **extra: str) -> Account:
    return await accounts.create_account(
        accounts.NewAccount(
            role=role,
            username=username,
            email=f"{username}@scale.example.com",
            first_name=extra.get("first_name", username.capitalize()),
            last_name=extra.get("last_name", "Scale"),
            password=None,
            verified=True,
            company_name=extra.get("company_name", ""),
        )
    )


async def seed(today: date, scale: float = 1.0) -> Cast:
    """`scale` < 1 seeds fewer offers and connections, for a shorter run."""
    cheap_hash = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(PASSWORD)
    signing_in: list[int] = []
    third_parties, learners, codes = [], [], []
    until = today + timedelta(days=60)
    for t in range(THIRD_PARTIES):
        tp = await _account(Role.third_party, f"tp{t}", company_name=f"Employer {t} Ltd")
        signing_in.append(tp.id)
        person = Person(tp.username, "third_party", tp.id)
        for k in range(round(OFFERS_PER_THIRD_PARTY * scale)):
            offerer = await _account(Role.learner, f"offer{t}x{k}")
            document = await issue(offerer, "First Aid at Work", f"SC-O-{t}-{k}", today - timedelta(days=40))
            codes.append(document.verify_code)
            offer = await connections.share(offerer, tp.email, [document.id], until, today)
            person.actionable.append(offer.id)
            person.connection_ids.append(offer.id)
        third_parties.append(person)
    for n in range(LEARNERS):
        learner = await _account(Role.learner, f"learner{n}")
        signing_in.append(learner.id)
        person = Person(learner.username, "learner", learner.id)
        for d, title in enumerate(("Level 2 Certificate in Plumbing", "Food Hygiene", "Manual Handling")):
            document = await issue(learner, title, f"SC-L-{n}-{d}", today - timedelta(days=100 + d))
            person.document_ids.append(document.id)
            codes.append(document.verify_code)
        for k in range(round(ACTIVE_PER_LEARNER * scale)):
            employer = await _account(Role.third_party, f"employer{n}x{k}")
            shared = await connections.share(learner, employer.email, person.document_ids[:2], until, today)
            await connections.accept_as_third_party(employer, shared, today)
            person.actionable.append(shared.id)
            person.connection_ids.append(shared.id)
        learners.append(person)
    extra = {
        "churn": [f"churn{i}" for i in range(2)],
        "wrong_targets": [f"target{i}" for i in range(3)],
        "lock_probes": ["lockone", "lockmany"],
        "address_probes": [f"addr{i}" for i in range(12)],
    }
    for names in extra.values():
        for name in names:
            signing_in.append((await _account(Role.learner, name)).id)
    await Account.update({Account.password_hash: cheap_hash}).where(Account.id.is_in(signing_in))
    return Cast(third_parties, learners, codes, **extra)
