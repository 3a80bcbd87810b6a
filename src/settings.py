"""Settings, read from the environment in one place and frozen.

Development secrets are generated once into var/ so that a newcomer needs no configuration;
production mode refuses to start without real secrets and BASE_URL.
"""

from __future__ import annotations

import base64
import os
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var"
DEFAULT_SQLITE = f"sqlite:///{VAR / 'portal.sqlite3'}"
SIGNING_KEY_RE = re.compile(r"[A-Za-z0-9_-]{43}")
SIGNING_KEY_LAST = frozenset("AEIMQUYcgkosw048")  # the characters whose last two bits are 0


class SettingsError(RuntimeError):
    """The environment does not describe a runnable portal; the message says what is missing."""


@dataclass(frozen=True)
class Settings:
    mode: str = "development"
    database_url: str = DEFAULT_SQLITE
    redis_url: str | None = None
    secret_keys: tuple[str, ...] = ()
    # Ed25519 private keys (base64url, 32 bytes each) that sign verify receipts, newest last.
    signing_keys: tuple[str, ...] = ()
    base_url: str = "http://127.0.0.1:8000"
    verify_base_url: str = ""  # the host QR codes point at; empty: BASE_URL's
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_tls: str = "none"  # none | starttls | tls
    smtp_timeout: float = 10.0
    mail_from: str = "Achievement Portal <no-reply@portal.invalid>"
    org_name: str = "Achievement Portal"
    support_email: str = "support@portal.invalid"
    time_zone: str = "Europe/London"
    var_dir: Path = VAR
    run_mail_worker: bool = True
    mail_poll_seconds: float = 2.0
    reminder_interval_seconds: float = 900.0
    db_pool_min: int = 2
    db_pool_max: int = 10  # PostgreSQL connections per process; 0: no pool (a connection per query)
    # How long one statement, and the wait for a pooled connection, may take before the page
    # answers 503 "try again shortly" instead of hanging for as long as the database stalls.
    db_statement_timeout: float = 5.0
    db_acquire_timeout: float = 5.0
    mail_delivery: str = "smtp"  # smtp | mailbox (development only: keep mail for the mailbox page)
    allowed_hosts: tuple[str, ...] = ()
    session_idle_minutes: int = 30
    session_absolute_hours: int = 12
    # LinkedIn's numeric id of the awarding body's company page: "Add to LinkedIn" links name it, so
    # the entry shows the organisation's logo and reads as official. Empty: the name (ORG_NAME) only.
    linkedin_organization_id: str = ""
    # On SIGTERM: how long requests in flight (and the mail being sent) may take to finish.
    shutdown_grace_seconds: float = 20.0
    # How long `portal serve` keeps an idle connection open, and leaves idle ones to their client on
    # SIGTERM. Keep nginx's upstream keepalive_timeout (4 s, deploy/nginx/portal.conf) below it.
    keep_alive_seconds: int = 5
    # Proxies whose X-Forwarded-For names the client (comma-separated addresses or networks; "*" any).
    forwarded_allow_ips: str = "127.0.0.1"

    @property
    def development(self) -> bool:
        return self.mode == "development"

    @property
    def https(self) -> bool:
        return self.base_url.startswith("https://")

    @property
    def verify_base(self) -> str:
        """Where printed QR codes and typed checks lead: VERIFY_BASE_URL, or BASE_URL."""
        return self.verify_base_url or self.base_url

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def host_names(self) -> list[str]:
        """Hosts the app answers to: BASE_URL's and VERIFY_BASE_URL's (with and without port) plus ALLOWED_HOSTS."""
        hosts = set()
        for url in filter(None, (self.base_url, self.verify_base_url)):  # QR codes may lead elsewhere
            parts = urlsplit(url)
            hosts |= {parts.hostname or "localhost", parts.netloc}
        if self.development:
            hosts |= {"localhost", "127.0.0.1", "testserver.local", "testserver"}
            hosts |= {f"{h}:{p}" for h in ("localhost", "127.0.0.1") for p in range(8000, 8010)}
        hosts |= set(self.allowed_hosts)
        return sorted(h for h in hosts if h)


def _dev_value(var_dir: Path, name: str, make: Callable[[], str]) -> str:
    """A development secret made on first run and kept in var_dir/name (never committed)."""
    var_dir.mkdir(parents=True, exist_ok=True)
    path = var_dir / name
    if not path.exists():
        # Written readable by its owner only, then linked into place whole and never overwritten:
        # processes starting at once all end up with the value of whichever linked first.
        draft = var_dir / f".{name}.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as file:
            file.write(make())
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text().strip()


def _dev_secret(var_dir: Path) -> str:
    """One random development key for SECRET_KEYS."""
    key = _dev_value(var_dir, "dev-secret-key", lambda: secrets.token_urlsafe(48))
    if len(key) < 32:
        raise SettingsError(
            f"{var_dir / 'dev-secret-key'} holds no usable key: delete it and a new one will be made."
        )
    return key


def new_signing_key() -> str:
    """A new Ed25519 private key as SIGNING_KEYS takes it: its 32 random bytes (the seed), base64url."""
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode()


def is_signing_key(value: str) -> bool:
    """Whether `value` is an Ed25519 private key as SIGNING_KEYS takes it (32 bytes, base64url)."""
    # 43 characters of the URL-safe alphabet hold 258 bits: 32 bytes and two bits that must be 0.
    return bool(SIGNING_KEY_RE.fullmatch(value)) and value[-1] in SIGNING_KEY_LAST


def _dev_signing_key(var_dir: Path) -> str:
    """The development key that signs verify receipts, made once like the secret key."""
    key = _dev_value(var_dir, "dev-signing-key", new_signing_key)
    if not is_signing_key(key):
        raise SettingsError(
            f"{var_dir / 'dev-signing-key'} holds no usable key: delete it and a new one will be made."
        )
    return key


def _pool_max(env: dict[str, str]) -> int:
    value = env.get("DATABASE_POOL_MAX") or "10"
    if not value.isdigit():
        raise SettingsError(f"DATABASE_POOL_MAX must be a whole number (0 for no pool), not {value!r}.")
    return int(value)


def _number(env: dict[str, str], name: str, default: str, kind: type[int] | type[float]) -> Any:
    value = env.get(name) or default
    try:
        number = kind(value)
    except ValueError:
        raise SettingsError(f"{name} must be a number, not {value!r}.") from None
    if number <= 0:
        raise SettingsError(f"{name} must be more than 0, not {value!r}.")
    return number


def _bool(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def load_settings(env: dict[str, str] | None = None) -> Settings:
    """Build the settings from the environment (or the given mapping) and check them."""
    env = dict(os.environ if env is None else env)
    mode = env.get("PORTAL_MODE", "development").strip().lower()
    if mode not in {"development", "production"}:
        raise SettingsError(f"PORTAL_MODE must be 'development' or 'production', not {mode!r}.")
    var_dir = Path(env.get("VAR_DIR") or VAR)
    missing = []
    keys = tuple(k.strip() for k in env.get("SECRET_KEYS", "").split(",") if k.strip())
    if not keys:
        if mode == "production":
            missing.append("SECRET_KEYS (comma-separated, newest last, each at least 32 characters)")
        else:
            keys = (_dev_secret(var_dir),)
    if mode == "production" and any(len(k) < 32 for k in keys):
        missing.append("SECRET_KEYS with every key at least 32 characters long")
    signing_keys = tuple(k.strip() for k in env.get("SIGNING_KEYS", "").split(",") if k.strip())
    if not signing_keys:
        if mode == "production":
            missing.append("SIGNING_KEYS (comma-separated, newest last; `portal signing-key` makes one)")
        else:
            signing_keys = (_dev_signing_key(var_dir),)
    if not all(is_signing_key(k) for k in signing_keys):
        raise SettingsError(
            "SIGNING_KEYS must hold Ed25519 private keys, each 32 bytes in base64url (43 characters): "
            "`portal signing-key` makes one."
        )
    base_url = env.get("BASE_URL", "").rstrip("/")
    if not base_url:
        if mode == "production":
            missing.append("BASE_URL (the public address, e.g. https://portal.example.org)")
        base_url = f"http://127.0.0.1:{env.get('PORT', '8000')}"
    verify_base_url = env.get("VERIFY_BASE_URL", "").strip().rstrip("/")
    if verify_base_url and not verify_base_url.lower().startswith(("https://", "http://")):
        raise SettingsError("VERIFY_BASE_URL must start with https:// (or http:// in development).")
    if missing:
        raise SettingsError("Cannot start in production mode. Set: " + "; ".join(missing) + ".")
    time_zone = env.get("TIME_ZONE", "Europe/London")
    try:
        ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise SettingsError(f"TIME_ZONE {time_zone!r} is not a known time zone.") from exc
    smtp_tls = env.get("SMTP_TLS", "none").lower()
    if smtp_tls not in {"none", "starttls", "tls"}:
        raise SettingsError("SMTP_TLS must be none, starttls or tls.")
    linkedin_id = env.get("LINKEDIN_ORGANIZATION_ID", "").strip()
    if linkedin_id and not (linkedin_id.isascii() and linkedin_id.isdigit()):
        raise SettingsError(
            f"LINKEDIN_ORGANIZATION_ID must be LinkedIn's numeric company id, not {linkedin_id!r}."
        )
    delivery = env.get("MAIL_DELIVERY", "mailbox" if mode == "development" else "smtp").lower()
    if delivery not in {"smtp", "mailbox"} or (delivery == "mailbox" and mode == "production"):
        raise SettingsError("MAIL_DELIVERY must be smtp (or mailbox in development mode).")
    return Settings(
        mode=mode,
        database_url=env.get("DATABASE_URL") or f"sqlite:///{var_dir / 'portal.sqlite3'}",
        redis_url=env.get("REDIS_URL") or None,
        secret_keys=keys,
        signing_keys=signing_keys,
        base_url=base_url,
        verify_base_url=verify_base_url,
        smtp_host=env.get("SMTP_HOST", "127.0.0.1"),
        smtp_port=_number(env, "SMTP_PORT", "1025", int),
        smtp_user=env.get("SMTP_USER") or None,
        smtp_password=env.get("SMTP_PASSWORD") or None,
        smtp_tls=smtp_tls,
        smtp_timeout=_number(env, "SMTP_TIMEOUT", "10", float),
        mail_from=env.get("MAIL_FROM", Settings.mail_from),
        org_name=env.get("ORG_NAME", Settings.org_name),
        support_email=env.get("SUPPORT_EMAIL", Settings.support_email),
        time_zone=time_zone,
        var_dir=var_dir,
        run_mail_worker=_bool(env.get("RUN_MAIL_WORKER"), True),
        mail_poll_seconds=_number(env, "MAIL_POLL_SECONDS", "2", float),
        reminder_interval_seconds=_number(env, "REMINDER_INTERVAL_SECONDS", "900", float),
        db_pool_min=_number(env, "DATABASE_POOL_MIN", "2", int),
        db_pool_max=_pool_max(env),
        db_statement_timeout=_number(env, "DATABASE_STATEMENT_TIMEOUT_SECONDS", "5", float),
        db_acquire_timeout=_number(env, "DATABASE_ACQUIRE_TIMEOUT_SECONDS", "5", float),
        mail_delivery=delivery,
        allowed_hosts=tuple(h.strip() for h in env.get("ALLOWED_HOSTS", "").split(",") if h.strip()),
        session_idle_minutes=_number(env, "SESSION_IDLE_MINUTES", "30", int),
        session_absolute_hours=_number(env, "SESSION_ABSOLUTE_HOURS", "12", int),
        linkedin_organization_id=linkedin_id,
        shutdown_grace_seconds=_number(env, "SHUTDOWN_GRACE_SECONDS", "20", float),
        keep_alive_seconds=_number(env, "KEEP_ALIVE_SECONDS", "5", int),
        forwarded_allow_ips=env.get("FORWARDED_ALLOW_IPS", "").strip() or Settings.forwarded_allow_ips,
    )
