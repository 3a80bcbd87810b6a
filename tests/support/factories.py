"""Accounts, documents and connections made through the real domain code (`src.accounts`,
`src.documents.issue`, `src.connections`), so every state a test starts from is one the app itself
can reach.

Accounts made here with STRONG_PASSWORD (the default) get one precomputed, cheap Argon2id hash of it:
logging in still verifies a real hash, but the tests do not spend ~0.1 s of both cores hashing per
account and again per log-in. The production cost is what the portal's own hashing uses, tested where
passwords are set (registration, a new password, `portal create-staff`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from argon2 import PasswordHasher

from src import accounts
from src import connections as actions
from src.documents import issue
from src.tables.accounts import Account, Role
from src.tables.connections import Connection, ExtensionRequest
from src.tables.documents import Document
from tests.support.clocks import today
from tests.support.two_step import enrol

STRONG_PASSWORD = "correct-lantern-meadow-piano"
OTHER_PASSWORD = "violet-harbour-stone-kettle"

# Low cost on purpose (test accounts only); verify_password reads the cost from the hash itself.
FAST_HASH = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1).hash(STRONG_PASSWORD)

STATES = ("awaiting_third_party", "awaiting_learner", "active", "expired", "declined", "cancelled")


async def make_account(
    role: str = "third_party",
    username: str = "tess",
    email_address: str | None = None,
    password: str | None = STRONG_PASSWORD,
    verified: bool = True,
    two_step: bool | None = None,
    **extra: Any,
) -> Any:
    """An account; with `two_step` (by default for staff only, who cannot work without it) its
    authenticator on, its key known to tests.support.two_step for the log-in helpers. STRONG_PASSWORD
    is stored as FAST_HASH; any other password is hashed as the portal hashes it."""
    account = await accounts.create_account(
        accounts.NewAccount(
            role=Role(role),
            username=username,
            email=email_address or f"{username}@example.com",
            first_name=extra.pop("first_name", username.capitalize()),
            last_name=extra.pop("last_name", "Tester"),
            password=password,
            verified=verified,
            **extra,
        ),
        password_hash=FAST_HASH if password == STRONG_PASSWORD else None,
    )
    if two_step or (two_step is None and role == "staff"):
        await enrol(account)
    return account


async def with_fast_password(*people: Account) -> None:
    """Give accounts made with password=None the password STRONG_PASSWORD, hashed cheaply."""
    await Account.update({Account.password_hash: FAST_HASH}).where(Account.id.is_in([p.id for p in people]))
    for person in people:
        person.password_hash = FAST_HASH


@dataclass
class People:
    learner: Account
    third_party: Account
    other_learner: Account
    other_third_party: Account
    staff: Account

    def by_role(self, role: str) -> Account:
        return {"learner": self.learner, "third_party": self.third_party, "staff": self.staff}[role]


async def prepare_people() -> People:
    """Two learners, two third parties and a member of staff, all verified, password STRONG_PASSWORD;
    the member of staff with an authenticator, as `make_account` gives every member of staff."""
    people = [
        await make_account("learner", "lena", password=None, first_name="Lena", last_name="Learner"),
        await make_account(
            "third_party",
            "tara",
            password=None,
            first_name="Tara",
            last_name="Thirdparty",
            company_name="Tara Care Ltd",
        ),
        await make_account("learner", "olga", password=None, first_name="Olga", last_name="Otherlearner"),
        await make_account("third_party", "otto", password=None, first_name="Otto", last_name="Otherparty"),
        await make_account("staff", "sam", password=None, first_name="Sam", last_name="Staff"),
    ]
    await with_fast_password(*people)
    return People(*people)


async def make_document(owner: Account, n: int) -> Document:
    """The owner's n-th certificate, with a title and number unique to owner and n."""
    return await issue(
        owner, f"Certificate {n} of {owner.username}", f"T-{owner.id}-{n}", today() - timedelta(days=30 * n)
    )


async def reload(connection_id: int) -> Connection:
    connection = await Connection.objects().where(Connection.id == connection_id).first()
    assert connection is not None
    return connection


async def build_connection(
    state: str,
    learner: Account,
    third_party: Account,
    documents: list[Document],
    *,
    pending_extension: bool = False,
) -> Connection:
    """A connection between the two in `state` (one of STATES; "expired" is active with an end day in the
    past), sharing `documents` when the state has shared documents. With pending_extension, an active
    (or expired) connection also has a request for more time waiting."""
    day = today()
    ids = [d.id for d in documents]
    if state == "awaiting_learner":
        connection = await actions.add_connection(third_party, learner.email, "Please connect.", day)
    else:
        connection = await actions.share(learner, third_party.email, ids, day + timedelta(days=30), day)
        if state in ("active", "expired", "cancelled"):
            await actions.accept_as_third_party(third_party, connection, day)
        if state == "declined":
            await actions.decline(third_party, connection)
        if state == "cancelled":
            await actions.cancel(learner, connection)
    if pending_extension and state in ("active", "expired"):
        await actions.request_extension(
            third_party, connection, day + timedelta(days=60), "More time, please.", day
        )
    if state == "expired":
        await Connection.update({Connection.expires_on: day - timedelta(days=3)}).where(
            Connection.id == connection.id
        )
    if state not in STATES:
        raise ValueError(f"unknown state {state!r}")
    return await reload(connection.id)


async def pending_requests(connection_id: int) -> int:
    return await ExtensionRequest.count().where(
        (ExtensionRequest.connection == connection_id) & (ExtensionRequest.state == "pending")
    )
