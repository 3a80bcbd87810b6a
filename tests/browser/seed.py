"""Seed data for the browser tests: verified accounts (and a learner's documents) written straight into
the test server's database, through the portal's own domain code, for pages with no UI to make them.

Run in the server's environment (its DATABASE_URL and VAR_DIR), as its own process:
    python -m tests.browser.seed '[{"role": "learner", "username": "lena", ...}]'
The browser tests' process imports only `SeedAccount` from here, which is why `src` is imported in
`seed()` and not at the top: the database engine is chosen when `src`'s tables are first imported.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import sys
from dataclasses import asdict, dataclass
from datetime import date


@dataclass(frozen=True)
class SeedAccount:
    """A verified account with a password, put straight into the server's database."""

    role: str  # learner, third_party or staff
    username: str
    email: str
    password: str
    first_name: str
    last_name: str
    company_name: str = ""
    documents: tuple[str, ...] = ()  # titles of documents issued to a learner, awarded today


def as_argument(people: tuple[SeedAccount, ...]) -> str:
    """The command-line argument `main` reads back."""
    return json.dumps([asdict(person) for person in people])


async def seed(people: list[SeedAccount]) -> None:
    from src import accounts, db
    from src.documents import issue
    from src.tables.accounts import Role

    await db.open_pool()
    try:
        for person in people:
            account = await accounts.create_account(
                accounts.NewAccount(
                    role=Role(person.role),
                    username=person.username,
                    email=person.email,
                    password=person.password,
                    first_name=person.first_name,
                    last_name=person.last_name,
                    company_name=person.company_name,
                    verified=True,
                )
            )
            for title in person.documents:
                await issue(account, title, f"APC-{secrets.token_hex(5).upper()}", date.today())
    finally:
        await db.close_pool()


def main(argument: str) -> None:
    people = [
        SeedAccount(**{**fields, "documents": tuple(fields["documents"])}) for fields in json.loads(argument)
    ]
    asyncio.run(seed(people))


if __name__ == "__main__":
    main(sys.argv[1])
