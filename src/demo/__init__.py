"""Demo data for `make run`: one staff member, two learners, two third parties, with random
passwords printed once and kept in var/demo-logins.txt (there are no default passwords)."""

from __future__ import annotations

import secrets
from pathlib import Path

from src import accounts
from src.clock import today_in
from src.demo.connections import load_demo_connections
from src.settings import Settings
from src.tables.accounts import Account, Address, Role

WORDS = [
    "amber",
    "basil",
    "cedar",
    "delta",
    "ember",
    "fjord",
    "garnet",
    "harbor",
    "iris",
    "juniper",
    "kestrel",
    "lagoon",
    "meadow",
    "nectar",
    "orchid",
    "pebble",
    "quartz",
    "raven",
    "saffron",
    "tundra",
]

PEOPLE = [
    (Role.staff, "staff", "staff@demo.invalid", "Sam", "Staff", ""),
    (Role.learner, "lena", "lena.learner@demo.invalid", "Lena", "Okafor", ""),
    (Role.learner, "liam", "liam.learner@demo.invalid", "Liam", "Walsh", ""),
    (Role.third_party, "tara", "tara@employer.demo.invalid", "Tara", "Patel", "Northwind Training"),
    (Role.third_party, "theo", "theo@employer.demo.invalid", "Theo", "Brown", "Contoso Recruitment"),
]


def _passphrase() -> str:
    return "-".join(secrets.choice(WORDS) for _ in range(4)) + str(secrets.randbelow(90) + 10)


async def load_demo(settings: Settings, only_if_empty: bool = False) -> list[tuple[str, str, str, str]]:
    logins_file: Path = settings.var_dir / "demo-logins.txt"
    if only_if_empty and await Account.count() > 0:
        if logins_file.exists():
            print(logins_file.read_text(), flush=True)
        return []
    logins = []
    people: dict[str, Account] = {}
    for role, username, email, first, last, company in PEOPLE:
        if await accounts.username_taken(username):
            continue
        password = _passphrase()
        account = await accounts.create_account(
            accounts.NewAccount(
                role=role,
                username=username,
                email=email,
                first_name=first,
                last_name=last,
                company_name=company,
                password=password,
                verified=True,
            )
        )
        if role == Role.learner:
            await Address.insert(
                Address(
                    account=account.id,
                    line1="1 Example Street",
                    town="Leeds",
                    postcode="LS1 1AA",
                    is_billing=True,
                    is_delivery=True,
                )
            )
        logins.append((role.value, username, email, password))
        people[username] = account
    if {"lena", "liam", "tara", "theo"} <= people.keys():
        await load_demo_connections(people, today_in(settings.tz))
    # The email addresses too: Add Connection and Share ask for another person's address.
    text = (
        "Demo log-ins (role, user name, email address, password):\n"
        + "\n".join(
            f"  {role:<12} {username:<8} {email:<28} {password}" for role, username, email, password in logins
        )
        + "\n"
    )
    if logins:
        settings.var_dir.mkdir(parents=True, exist_ok=True)
        logins_file.write_text(text)
        logins_file.chmod(0o600)
    print(text, flush=True)
    return logins
