"""Settings come from the environment only; production refuses to start without real secrets."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest

from src.settings import Settings, SettingsError, load_settings

pytestmark = pytest.mark.engine_free  # no database: run once, on SQLite, and not emptied before

ROOT = Path(__file__).resolve().parent.parent
KEY_OLD = "o" * 20 + "ld-key-0123456789abcdef"
KEY_NEW = "n" * 20 + "ew-key-0123456789abcdef"


def production(**extra: str) -> dict[str, str]:
    return {
        "PORTAL_MODE": "production",
        "SECRET_KEYS": f"{KEY_OLD},{KEY_NEW}",
        "BASE_URL": "https://portal.example.test",
        **extra,
    }


def test_development_defaults(tmp_path):
    settings = load_settings({"VAR_DIR": str(tmp_path)})

    assert settings.mode == "development" and settings.development
    assert settings.database_url == f"sqlite:///{tmp_path / 'portal.sqlite3'}"
    assert settings.redis_url is None
    assert settings.base_url == "http://127.0.0.1:8000"
    assert settings.time_zone == "Europe/London" and str(settings.tz) == "Europe/London"
    assert (settings.smtp_host, settings.smtp_port, settings.smtp_tls) == ("127.0.0.1", 1025, "none")
    assert settings.smtp_user is None and settings.smtp_password is None
    assert settings.mail_delivery == "mailbox"  # development keeps mail for the mailbox page
    assert settings.org_name == "Achievement Portal"
    assert settings.support_email == Settings.support_email
    assert len(settings.secret_keys) == 1 and len(settings.secret_keys[0]) >= 32
    assert not settings.https
    assert settings.shutdown_grace_seconds == 20
    assert settings.forwarded_allow_ips == "127.0.0.1"


def test_values_from_the_environment(tmp_path):
    settings = load_settings(
        production(
            DATABASE_URL="postgresql://portal@db/portal",
            REDIS_URL="redis://cache:6379/0",
            SMTP_HOST="smtp.example.test",
            SMTP_PORT="587",
            SMTP_USER="mailer",
            SMTP_PASSWORD="pw",
            SMTP_TLS="STARTTLS",
            ORG_NAME="Awarding Body",
            SUPPORT_EMAIL="help@example.test",
            TIME_ZONE="America/New_York",
            BASE_URL="https://portal.example.test/",
            VAR_DIR=str(tmp_path),
            SHUTDOWN_GRACE_SECONDS="7.5",
            FORWARDED_ALLOW_IPS="10.0.0.5,10.0.0.6",
        )
    )

    assert settings.mode == "production" and not settings.development
    assert settings.shutdown_grace_seconds == 7.5
    assert settings.forwarded_allow_ips == "10.0.0.5,10.0.0.6"
    assert settings.database_url == "postgresql://portal@db/portal"
    assert settings.redis_url == "redis://cache:6379/0"
    assert (settings.smtp_host, settings.smtp_port, settings.smtp_tls) == (
        "smtp.example.test",
        587,
        "starttls",
    )
    assert (settings.smtp_user, settings.smtp_password) == ("mailer", "pw")
    assert settings.mail_delivery == "smtp"
    assert settings.base_url == "https://portal.example.test" and settings.https
    assert (settings.org_name, settings.support_email) == ("Awarding Body", "help@example.test")
    assert settings.time_zone == "America/New_York"
    assert "portal.example.test" in settings.host_names
    assert "localhost" not in settings.host_names  # development hosts are not allowed in production


def test_secret_keys_keep_their_order_newest_last():
    settings = load_settings(production(SECRET_KEYS=f" {KEY_OLD} , {KEY_NEW} ,"))

    assert settings.secret_keys == (KEY_OLD, KEY_NEW)


def test_production_without_secrets_or_base_url_names_both():
    with pytest.raises(SettingsError) as caught:
        load_settings({"PORTAL_MODE": "production"})

    message = str(caught.value)
    assert "SECRET_KEYS" in message and "BASE_URL" in message


@pytest.mark.parametrize("missing", ["SECRET_KEYS", "BASE_URL"])
def test_production_without_one_names_it(missing):
    env = production()
    del env[missing]

    with pytest.raises(SettingsError, match=missing):
        load_settings(env)


def test_production_refuses_short_keys():
    with pytest.raises(SettingsError, match="at least 32 characters"):
        load_settings(production(SECRET_KEYS=f"{KEY_OLD},too-short"))


def test_production_refuses_the_mailbox():
    with pytest.raises(SettingsError, match="MAIL_DELIVERY"):
        load_settings(production(MAIL_DELIVERY="mailbox"))


def test_development_secret_is_made_once_private_and_reused(tmp_path):
    first = load_settings({"VAR_DIR": str(tmp_path)}).secret_keys
    second = load_settings({"VAR_DIR": str(tmp_path)}).secret_keys

    assert first == second
    key_file = tmp_path / "dev-secret-key"
    assert key_file.read_text().strip() == first[0]
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    other = load_settings({"VAR_DIR": str(tmp_path / "elsewhere")}).secret_keys
    assert other != first  # generated, not a constant in the code


def test_empty_development_secret_file_is_refused(tmp_path):
    (tmp_path / "dev-secret-key").write_text("")

    with pytest.raises(SettingsError, match="dev-secret-key"):
        load_settings({"VAR_DIR": str(tmp_path)})


@pytest.mark.parametrize(
    ("name", "value", "named"),
    [
        ("TIME_ZONE", "Mars/Olympus_Mons", "TIME_ZONE"),
        ("SMTP_TLS", "ssl3", "SMTP_TLS"),
        ("PORTAL_MODE", "staging", "PORTAL_MODE"),
        ("MAIL_DELIVERY", "pigeon", "MAIL_DELIVERY"),
        ("SMTP_PORT", "twenty-five", "SMTP_PORT"),
        ("MAIL_POLL_SECONDS", "0", "MAIL_POLL_SECONDS"),
        ("SHUTDOWN_GRACE_SECONDS", "soon", "SHUTDOWN_GRACE_SECONDS"),
    ],
)
def test_bad_values_are_refused_with_their_name(tmp_path, name, value, named):
    with pytest.raises(SettingsError, match=named):
        load_settings({"VAR_DIR": str(tmp_path), name: value})


def test_settings_are_frozen(tmp_path):
    settings = load_settings({"VAR_DIR": str(tmp_path)})

    with pytest.raises(AttributeError):
        settings.base_url = "http://elsewhere"  # type: ignore[misc]


def test_command_in_production_without_secrets_exits_with_the_message(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEYS", "BASE_URL"}}
    env.update(
        PORTAL_MODE="production",
        VAR_DIR=str(tmp_path),
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
    )

    result = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "portal"), "migrate"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode != 0
    assert "SECRET_KEYS" in result.stderr and "BASE_URL" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "db.sqlite3").exists()  # refused before touching anything
