"""The `portal` command, run as a newcomer or an operator would: as its own process, on a fresh
SQLite file under a temporary VAR_DIR (so these tests never touch the suite's shared database, and
run once, not once per engine)."""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from src.documents import SigningKeys
from src.settings import is_signing_key

ROOT = Path(__file__).resolve().parent.parent
PORTAL = str(ROOT / ".venv" / "bin" / "portal")
PYTHON = str(ROOT / ".venv" / "bin" / "python")
STRONG = "quiet-orchard-lantern-river"

# Each test makes its own SQLite file, whichever engine the suite runs on.
pytestmark = pytest.mark.engine_free


def installation(folder: Path) -> dict[str, str]:
    """The environment of an installation in `folder`: development mode, its SQLite file there."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"SECRET_KEYS", "SIGNING_KEYS", "BASE_URL", "REDIS_URL", "PORTAL_STAFF_PASSWORD"}
    }
    env.update(
        PORTAL_MODE="development",
        VAR_DIR=str(folder),
        DATABASE_URL=f"sqlite:///{folder / 'portal.sqlite3'}",
    )
    return env


@pytest.fixture
def fresh(tmp_path: Path) -> dict[str, str]:
    """The environment of a fresh installation: development mode, an empty SQLite file."""
    return installation(tmp_path)


def portal(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PORTAL, *args], env=env, cwd=env["VAR_DIR"], capture_output=True, text=True, timeout=120
    )


def query(env: dict[str, str], sql: str) -> list[tuple]:
    with sqlite3.connect(env["DATABASE_URL"].removeprefix("sqlite:///")) as db:
        return db.execute(sql).fetchall()


@pytest.fixture(scope="module")
def migrated_installation(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh installation's folder after `portal migrate`, made once for the module."""
    folder = tmp_path_factory.mktemp("migrated")
    result = portal(installation(folder), "migrate")
    assert result.returncode == 0, result.stderr
    assert not Path(f"{folder / 'portal.sqlite3'}-wal").exists()  # all in the file: a copy is complete
    return folder


@pytest.fixture
def migrated(migrated_installation: Path) -> Callable[[dict[str, str]], dict[str, str]]:
    """`migrated(env)`: env's installation as `portal migrate` leaves a fresh one (its database file
    and the development keys it made), copied from the one the module migrated."""

    def copy(env: dict[str, str]) -> dict[str, str]:
        shutil.copytree(migrated_installation, env["VAR_DIR"], dirs_exist_ok=True)
        return env

    return copy


@pytest.fixture(scope="module")
def demo_installation(
    migrated_installation: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """A migrated installation after its first `portal load-demo --if-empty` (what that printed),
    made once for the module: the demo hashes five passwords at the real cost."""
    folder = tmp_path_factory.mktemp("demo")
    shutil.copytree(migrated_installation, folder, dirs_exist_ok=True)
    first = portal(installation(folder), "load-demo", "--if-empty")
    assert not Path(f"{folder / 'portal.sqlite3'}-wal").exists()  # all in the file: a copy is complete
    return folder, first


@pytest.fixture
def demo_loaded(
    demo_installation: tuple[Path, subprocess.CompletedProcess[str]],
) -> Callable[[dict[str, str]], subprocess.CompletedProcess[str]]:
    """`demo_loaded(env)`: env's installation as the first `portal load-demo --if-empty` leaves a
    migrated one, copied from the module's; what that command printed."""

    def copy(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        folder, first = demo_installation
        shutil.copytree(folder, env["VAR_DIR"], dirs_exist_ok=True)
        return first

    return copy


def printed_logins(output: str) -> dict[str, tuple[str, str]]:
    """{user name: (role, password)} from the demo log-ins the command printed."""
    return {username: (role, password) for role, username, _, password in printed_rows(output)}


def printed_rows(output: str) -> list[tuple[str, str, str, str]]:
    """(role, user name, email address, password) for each demo log-in the command printed."""
    return re.findall(r"^\s+(staff|learner|third_party)\s+(\S+)\s+(\S+@\S+)\s+(\S+)$", output, re.M)


def test_migrate_creates_the_tables_on_a_fresh_file(fresh):
    result = portal(fresh, "migrate")

    assert result.returncode == 0, result.stderr
    tables = {name for (name,) in query(fresh, "SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"account", "contact_detail", "address", "outbox_email"} <= tables
    assert query(fresh, "PRAGMA journal_mode") == [("wal",)]
    again = portal(fresh, "migrate")  # running it twice is harmless
    assert again.returncode == 0, again.stderr


def test_migrate_says_one_clear_line(fresh):
    """Not Piccolo's table, which on a new database says "already complete" and "not yet run"."""
    first = portal(fresh, "migrate")
    assert first.returncode == 0, first.stderr
    assert re.fullmatch(r"Database: \d+ migrations applied\.\n", first.stdout), first.stdout
    assert "already complete" not in first.stdout + first.stderr
    again = portal(fresh, "migrate")
    assert again.stdout == "Database: up to date.\n"


def test_demo_log_ins_list_email_addresses(fresh, demo_loaded):
    printed = demo_loaded(fresh).stdout
    rows = printed_rows(printed)
    emails = {username: email for _, username, email, _ in rows}
    assert set(emails) == {"staff", "lena", "liam", "tara", "theo"}
    db_emails = dict(query(fresh, "SELECT username, email FROM account"))
    assert emails == db_emails
    saved = (Path(fresh["VAR_DIR"]) / "demo-logins.txt").read_text()
    assert printed_rows(saved) == rows
    # The demo staff member's authenticator key, in groups of four, and the address its QR code holds.
    key = re.search(r"Authenticator key of staff.*\n\s+((?:[A-Z2-7]{4} ?)+)\n\s+(otpauth://\S+)", saved)
    assert key is not None, saved
    assert f"secret={key.group(1).replace(' ', '')}" in key.group(2)
    assert query(fresh, "SELECT two_step_since IS NOT NULL FROM account WHERE username = 'staff'") == [(1,)]


def test_load_demo_creates_five_accounts_once_and_prints_their_log_ins(fresh, demo_loaded):
    first = demo_loaded(fresh)

    assert first.returncode == 0, first.stderr
    logins = printed_logins(first.stdout)
    roles = sorted(role for role, _ in logins.values())
    assert roles == ["learner", "learner", "staff", "third_party", "third_party"]
    rows = query(fresh, "SELECT username, role, email_verified_at IS NOT NULL FROM account ORDER BY username")
    assert {(u, r) for u, r, _ in rows} == {(u, role) for u, (role, _) in logins.items()}
    assert all(verified for _, _, verified in rows)
    # Demo reports: one waiting in the staff inbox, one answered.
    assert query(fresh, "SELECT state FROM report ORDER BY state") == [("answered",), ("open",)]
    passwords = [password for _, password in logins.values()]
    assert len(set(passwords)) == 5 and all(len(p) >= 15 for p in passwords)  # no default passwords

    second = portal(fresh, "load-demo", "--if-empty")

    assert second.returncode == 0, second.stderr
    assert query(fresh, "SELECT COUNT(*) FROM account") == [(5,)]
    assert printed_logins(second.stdout) == logins  # the saved log-ins, printed again


def test_printed_demo_password_logs_in(fresh, demo_loaded):
    logins = printed_logins(demo_loaded(fresh).stdout)
    role, password = logins["tara"]
    assert role == "third_party"

    check = (
        "import asyncio, json, sys\n"
        "from src.accounts import check_login\n"
        "async def main():\n"
        "    good = await check_login('tara', sys.argv[1])\n"
        "    bad = await check_login('tara', sys.argv[1] + 'x')\n"
        "    print(json.dumps([good.account is not None, good.problem, bad.account is not None, bad.problem]))\n"
        "asyncio.run(main())\n"
    )
    result = subprocess.run(
        [PYTHON, "-c", check, password], env=fresh, cwd=ROOT, capture_output=True, text=True, timeout=60
    )

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == [True, None, False, "wrong"]


def test_create_staff_makes_a_verified_staff_account(fresh, migrated):
    migrated(fresh)
    env = {**fresh, "PORTAL_STAFF_PASSWORD": STRONG}

    result = portal(env, "create-staff", "sam.staff", "Sam.Staff@Example.com", "--first-name", "Sam")

    assert result.returncode == 0, result.stderr
    assert "sam.staff" in result.stdout
    assert "two-step sign-in" in result.stdout and "authenticator app" in result.stdout
    rows = query(
        env, "SELECT role, email, first_name, email_verified_at IS NOT NULL, password_hash FROM account"
    )
    assert len(rows) == 1
    role, email, first_name, verified, password_hash = rows[0]
    assert (role, email, first_name, verified) == ("staff", "sam.staff@example.com", "Sam", 1)
    assert password_hash.startswith("$argon2id$") and STRONG not in password_hash

    taken = portal(env, "create-staff", "sam.staff", "other@example.com")
    assert taken.returncode != 0 and "already in use" in taken.stderr
    assert query(env, "SELECT COUNT(*) FROM account") == [(1,)]


@pytest.mark.parametrize(
    ("weak", "reason"),
    [
        ("short-one", "at least 15 characters"),
        ("password1234567890", "too common"),
        ("sam.staff@example.com", "user name or email"),
    ],
)
def test_create_staff_refuses_a_weak_password(fresh, migrated, weak, reason):
    migrated(fresh)
    env = {**fresh, "PORTAL_STAFF_PASSWORD": weak}

    result = portal(env, "create-staff", "sam.staff", "sam.staff@example.com")

    assert result.returncode != 0
    assert reason in result.stderr
    assert "Traceback" not in result.stderr
    assert query(env, "SELECT COUNT(*) FROM account") == [(0,)]


def test_unknown_command_is_refused(fresh):
    result = portal(fresh, "launch-rockets")

    assert result.returncode == 2
    assert "invalid choice" in result.stderr


def test_make_run_installs_only_what_serving_needs(tmp_path):
    """`make run` on a fresh clone installs the portal without its test tools; `make test` adds them."""
    venv = str(tmp_path / "venv")
    run_plan = subprocess.run(
        ["make", "-n", "-C", str(ROOT), "run", f"VENV={venv}"], capture_output=True, text=True, timeout=60
    ).stdout
    # The portal's own install (pip only puts uv, the installer, in the new venv).
    installs = [
        line for line in run_plan.splitlines() if " install " in line and not line.rstrip().endswith(" uv")
    ]
    assert installs and all(line.rstrip().endswith("-e .") for line in installs), run_plan
    assert "[test]" not in run_plan
    test_plan = subprocess.run(
        ["make", "-n", "-C", str(ROOT), "test", f"VENV={venv}"], capture_output=True, text=True, timeout=60
    ).stdout
    assert "-e '.[test]'" in test_plan


def test_the_readme_stands_alone():
    """A clone has no ../shared/: the README must not send a newcomer there, and must say what the
    portal is."""
    readme = (ROOT / "README.md").read_text()
    assert "../" not in readme
    intro = readme.split("## ", 1)[0]
    for word in ("learners", "third parties", "connections", "Add Connection"):
        assert word in intro
    for path in re.findall(r"`([\w.-]+/[\w./-]+\.(?:md|py|toml))`", readme):
        assert (ROOT / path).exists(), path


def test_signing_key_prints_a_new_key_and_its_kid_before_production_has_any(fresh):
    env = {**fresh, "PORTAL_MODE": "production"}  # no SECRET_KEYS, SIGNING_KEYS nor BASE_URL
    first, second = portal(env, "signing-key"), portal(env, "signing-key")

    assert first.returncode == 0, first.stderr
    key = first.stdout.splitlines()[1]
    kid = first.stdout.rsplit(": ", 1)[1].strip()
    assert is_signing_key(key)
    assert kid == SigningKeys((key,)).signing_kid
    assert second.stdout.splitlines()[1] != key  # made new each time, never a constant
