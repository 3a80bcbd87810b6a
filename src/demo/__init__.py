"""Demo data for `make run`: one staff member, two learners, two third parties, with random
passwords printed once and kept in var/demo-logins.txt (there are no default passwords). The staff
member has an authenticator (staff cannot work without two-step sign-in): its key is printed and
kept beside the log-ins, to add to an app or to compute codes from."""

from __future__ import annotations

import secrets
from pathlib import Path

from src import accounts
from src.clock import today_in, utcnow
from src.demo.connections import load_demo_connections
from src.demo.documents import load_demo_documents
from src.demo.prints import load_demo_prints
from src.demo.reports import load_demo_reports
from src.documents import issue, verify_url
from src.settings import Settings
from src.tables.accounts import Account, Address, Role
from src.tables.documents import Document
from src.tokens import Tokens

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
    verify_lines: list[str] = []
    key_lines = await _demo_authenticator(settings, people["staff"]) if "staff" in people else []
    if {"lena", "liam", "tara", "theo"} <= people.keys():
        await load_demo_connections(people, today_in(settings.tz))
        verify_lines = await _demo_verify_pages(settings, people["liam"])
        if "staff" in people:
            await load_demo_reports(people)
        await load_demo_prints(people, today_in(settings.tz))
    if {"staff", "lena", "liam"} <= people.keys():
        await load_demo_documents(Tokens(settings.secret_keys), people, today_in(settings.tz))
    # The email addresses too: Add Connection and Share ask for another person's address.
    text = (
        "Demo log-ins (role, user name, email address, password):\n"
        + "\n".join(
            f"  {role:<12} {username:<8} {email:<28} {password}" for role, username, email, password in logins
        )
        + "\n"
        + "".join(f"{line}\n" for line in key_lines)
        + "".join(f"{line}\n" for line in verify_lines)
    )
    if logins:
        settings.var_dir.mkdir(parents=True, exist_ok=True)
        logins_file.write_text(text)
        logins_file.chmod(0o600)
    print(text, flush=True)
    return logins


async def _demo_authenticator(settings: Settings, staff: Account) -> list[str]:
    """Turn the staff member's two-step sign-in on, as a person with the app would; the lines that
    say the key (and the address its QR code holds)."""
    tokens = Tokens(settings.secret_keys)
    enrolment = await accounts.enrolment(tokens, staff, settings.org_name)
    await accounts.turn_on(tokens, staff, accounts.code_now(enrolment.key))
    return [
        f"Authenticator key of {staff.username} (two-step sign-in; type it into an authenticator app):",
        f"  {enrolment.grouped_key}",
        f"  {enrolment.address}",
        "",
    ]


async def _demo_verify_pages(settings: Settings, liam: Account) -> list[str]:
    """One document shown on its verify page, the rest hidden; a superseded one; the URLs to try."""
    await Document.update({Document.show_on_verify: True}).where(Document.certificate_number == "APC-300101")
    newer = await Document.objects().where(Document.certificate_number == "APC-400201").first()
    if newer is not None:
        first = await issue(
            liam, "Level 2 Certificate in Plumbing", "APC-400200", newer.awarded_on, level="2"
        )
        await Document.update(
            {
                Document.status: "superseded",
                Document.superseded_by: newer.id,
                Document.superseded_at: utcnow(),
            }
        ).where(Document.id == first.id)
    rows = await Document.select(
        Document.certificate_number, Document.verify_code, Document.show_on_verify, Document.status
    ).order_by(Document.certificate_number)
    lines = ["Verify pages to try (anyone can open these; /verify takes a typed code):"]
    for row in rows:
        shown = "document shown" if row["show_on_verify"] else "document hidden"
        lines.append(
            f"  {row['certificate_number']:<11} {row['status']:<10} {shown:<15} "
            f"{verify_url(settings.verify_base, row['verify_code'])}"
        )
    return lines
