"""Configuration: defaults, then the environment, then an explicit override dict.

Environment variables (all optional in development):

- ``LMS_ENV``: ``development`` (default) or ``production``.
- ``LMS_DATABASE_URL``: SQLAlchemy URL; default is an SQLite file under ``instance/``.
- ``LMS_SECRET_KEY``: signs sessions and CSRF tokens. In development it is generated once
  and kept in ``instance/secret_key``; production refuses to start without it.
- ``LMS_SESSION_COOKIE_SECURE``: ``1``/``0``; on by default in production, where turning
  it off is refused.
- ``LMS_PROXY_COUNT``: number of trusted reverse proxies in front of the app (for the
  client address used by login throttling and the audit log).
- ``LMS_TARGET_TRAINED``: the programme's target of unique staff trained.
- ``LMS_PUBLIC_URL``: the address people reach the platform at (default
  ``http://127.0.0.1:5000``; required in production). Every absolute link is built from it,
  never from the request's ``Host``: certificates' QR codes, invitations, calendar feeds.
- ``LMS_TRUSTED_HOSTS``: in production, host names besides the one of ``LMS_PUBLIC_URL`` that
  requests may be addressed to (comma-separated, e.g. ``localhost`` for a health check);
  a request for any other host is refused.
- ``LMS_PRINT_PROCESSES``: processes rendering certificate batches in parallel (default:
  the number of CPUs, at most 4).
- ``LMS_PRINT_STORAGE_DIR``: where finished print jobs' files are kept (default
  ``instance/print-jobs``); with several web machines, a directory they all mount (see
  ``lms.certificates.storage``).
- ``LMS_MFA_GRACE_DAYS``: days a person whose roles require a second factor may still sign
  in without one in production, counted from their first such sign-in (default 14).
- ``LMS_MFA_REMEMBER_DAYS``: days a browser may skip the second factor when the person asks
  it to (default and maximum 30; 0 turns the choice off).
- ``LMS_DB_CONNECT_TIMEOUT``: seconds to wait for a new PostgreSQL connection (default 5).
- ``LMS_DB_STATEMENT_TIMEOUT_MS`` and ``LMS_DB_LOCK_TIMEOUT_MS``: in web requests, the longest a
  PostgreSQL statement may run and wait for a lock (defaults 20,000 and 5,000: well inside
  gunicorn's 30 s); a request past either gets a 503 page. 0 means no limit.
- ``LMS_DB_BACKGROUND_STATEMENT_TIMEOUT_MS``: the same limit outside web requests (the print
  worker, the command line); default 0, no limit.
- ``LMS_ROSTER_MAX_ROWS``, ``LMS_ROSTER_MAX_COLUMNS``, ``LMS_ROSTER_MAX_CELL_CHARS``,
  ``LMS_XLSX_MAX_MEMBER_BYTES``, ``LMS_XLSX_MAX_TOTAL_BYTES``: the limits of a roster upload
  (defaults 20,000 rows, 30 columns, 1,000 characters a cell, 32 MiB and 64 MiB unpacked).
- ``LMS_SQLITE_BUSY_TIMEOUT_MS``: how long an SQLite writer waits for another to finish
  before the request gets a 503 (default 15,000).
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
INSTANCE_DIR = ROOT / "instance"

#: Secrets shorter than this are refused in production.
MIN_SECRET_LENGTH = 32
#: A browser may skip the second factor for at most this many days.
MAX_MFA_REMEMBER_DAYS = 30


class ConfigError(RuntimeError):
    """The configuration is unsafe or incomplete; the app must not start."""


def _env_flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_int(name: str, default: int) -> int:
    value = (os.environ.get(name) or "").strip()
    if not value:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {value!r}") from None
    if number < 0:
        raise ConfigError(f"{name} must not be negative")
    return number


def _development_secret(instance_dir: Path) -> str:
    """Return the development secret, creating it once so sessions survive restarts."""
    path = instance_dir / "secret_key"
    if path.exists():
        return path.read_text(encoding="ascii").strip()
    instance_dir.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    # O_EXCL: two workers starting at once must not write two different keys.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="ascii").strip()
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(secret)
    return secret


def build_config(override: dict[str, Any] | None = None) -> dict[str, Any]:
    """Return the app configuration: defaults, then environment, then ``override``."""
    override = dict(override or {})
    env = override.get("LMS_ENV") or os.environ.get("LMS_ENV", "development")
    if env not in {"development", "production"}:
        raise ConfigError(f"LMS_ENV must be 'development' or 'production', not {env!r}")
    production = env == "production"
    instance_dir = Path(override.get("INSTANCE_DIR") or INSTANCE_DIR)

    config: dict[str, Any] = {
        "LMS_ENV": env,
        "INSTANCE_DIR": instance_dir,
        "DATABASE_URL": os.environ.get("LMS_DATABASE_URL") or f"sqlite:///{instance_dir / 'lms.sqlite3'}",
        "SECRET_KEY": os.environ.get("LMS_SECRET_KEY"),
        "SESSION_COOKIE_SECURE": _env_flag("LMS_SESSION_COOKIE_SECURE", production),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_NAME": "__Host-lms_session" if production else "lms_session",
        # Idle and absolute session lifetimes (ASVS 7.3.1, 7.3.2).
        "SESSION_IDLE_TIMEOUT": timedelta(minutes=60),
        "SESSION_ABSOLUTE_TIMEOUT": timedelta(hours=12),
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=12),
        # The cookie is re-sent when the session changes (at least every minute of use,
        # see lms.auth.sessions), not on every response: signing it costs each request.
        "SESSION_REFRESH_EACH_REQUEST": False,
        "MAX_CONTENT_LENGTH": 16 * 1024 * 1024,
        # Roster uploads (lms.spreadsheets.Limits), checked before and while a file is read,
        # so a file over a limit is refused at once. 20,000 people is four times the
        # programme's whole target in one file.
        "ROSTER_MAX_ROWS": _env_int("LMS_ROSTER_MAX_ROWS", 20_000),
        # The 7 roster columns and room for an HR department's own. In an XLSX file empty
        # formatted cells count too: each costs as much to read, and the width bounds the
        # work of a file within the limits (20,000 x 30 cells).
        "ROSTER_MAX_COLUMNS": _env_int("LMS_ROSTER_MAX_COLUMNS", 30),
        # Four times the longest value a roster keeps (an email address, 254 characters):
        # a longer one gets the row's own message; only a cell past this is refused unread.
        "ROSTER_MAX_CELL_CHARS": _env_int("LMS_ROSTER_MAX_CELL_CHARS", 1_000),
        # An XLSX file is a ZIP archive: its parts are refused by the sizes they declare
        # before anything is unpacked. A 20,000-row roster's sheet is 8 MB unpacked when
        # every text is in it (as openpyxl writes it), less when texts are shared (as Excel
        # writes it); its other parts are a few KB. Four times that leaves room for
        # pictures or a second sheet.
        "XLSX_MAX_MEMBER_BYTES": _env_int("LMS_XLSX_MAX_MEMBER_BYTES", 32 * 1024 * 1024),
        "XLSX_MAX_TOTAL_BYTES": _env_int("LMS_XLSX_MAX_TOTAL_BYTES", 64 * 1024 * 1024),
        "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session
        "WTF_CSRF_SSL_STRICT": production,
        # Login throttling (the rules are explained in lms/auth/throttle.py): the pair
        # (account, address) is refused, the account only slowed down, and an address is
        # refused only after naming many nonexistent accounts.
        "LOGIN_FAILURE_WINDOW": timedelta(minutes=15),
        "LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS": 5,
        "LOGIN_ACCOUNT_SLOWDOWN_WINDOW": timedelta(hours=24),
        "LOGIN_ACCOUNT_SLOWDOWN_AFTER": 10,  # above the pair limit: one address alone never reaches it
        "LOGIN_ACCOUNT_MAX_DELAY": timedelta(minutes=5),
        "LOGIN_FAMILIAR_ADDRESS_AGE": timedelta(days=90),
        "LOGIN_MAX_UNKNOWN_ACCOUNT_FAILURES_PER_ADDRESS": 50,
        "INVITATION_LIFETIME": timedelta(days=14),
        "PROXY_COUNT": int(os.environ.get("LMS_PROXY_COUNT", "0") or 0),
        "BABEL_DEFAULT_LOCALE": "en",
        # The four countries share one time zone; dates are stored in UTC.
        "BABEL_DEFAULT_TIMEZONE": "Europe/Belgrade",
        "PEOPLE_PER_PAGE": 25,
        "CONTENT_DIR": ROOT / "content",
        "TARGET_TRAINED": int(os.environ.get("LMS_TARGET_TRAINED", "4700") or 4700),
        "PUBLIC_URL": (os.environ.get("LMS_PUBLIC_URL") or ("" if production else "http://127.0.0.1:5000")).rstrip("/"),
        # Certificate batches: pages per chunk (WeasyPrint holds ~1 MiB a page of ours until
        # the chunk is written; see bench/certificates.py) and parallel processes.
        "PRINT_CHUNK_SIZE": 100,
        "PRINT_PROCESSES": int(os.environ.get("LMS_PRINT_PROCESSES") or min(os.cpu_count() or 1, 4)),
        "PRINT_STORAGE_DIR": Path(os.environ.get("LMS_PRINT_STORAGE_DIR") or instance_dir / "print-jobs"),
        # Public verification: lookups per address per minute.
        "VERIFY_RATE_LIMIT": 30,
        # Multi-factor sign-in (lms.auth.mfa): who must have it, the grace period, remembered devices.
        "MFA_REQUIRED_ROLES": ("admin", "coordinator", "coach"),
        "MFA_GRACE_DAYS": int(os.environ.get("LMS_MFA_GRACE_DAYS") or 14),
        "MFA_REMEMBER_DAYS": int(os.environ.get("LMS_MFA_REMEMBER_DAYS") or 30),
        # Database faults answer 503 in bounded time (lms.db.DatabaseSettings).
        "DB_CONNECT_TIMEOUT": _env_int("LMS_DB_CONNECT_TIMEOUT", 5),
        "DB_STATEMENT_TIMEOUT_MS": _env_int("LMS_DB_STATEMENT_TIMEOUT_MS", 20_000),
        "DB_LOCK_TIMEOUT_MS": _env_int("LMS_DB_LOCK_TIMEOUT_MS", 5_000),
        "DB_BACKGROUND_STATEMENT_TIMEOUT_MS": _env_int("LMS_DB_BACKGROUND_STATEMENT_TIMEOUT_MS", 0),
        "SQLITE_BUSY_TIMEOUT_MS": _env_int("LMS_SQLITE_BUSY_TIMEOUT_MS", 15_000),
    }
    config.update(override)
    config["LMS_ENV"] = env
    if not 0 <= config["MFA_REMEMBER_DAYS"] <= MAX_MFA_REMEMBER_DAYS or config["MFA_GRACE_DAYS"] < 0:
        raise ConfigError(f"LMS_MFA_REMEMBER_DAYS must be 0 to {MAX_MFA_REMEMBER_DAYS}; LMS_MFA_GRACE_DAYS at least 0")
    config["PUBLIC_URL"] = str(config.get("PUBLIC_URL") or "").rstrip("/")
    _check_public_url(config["PUBLIC_URL"])

    if production:
        _check_production(config)
        if config.get("TRUSTED_HOSTS") is None:
            config["TRUSTED_HOSTS"] = trusted_hosts(config["PUBLIC_URL"], os.environ.get("LMS_TRUSTED_HOSTS", ""))
    elif not config.get("SECRET_KEY"):
        config["SECRET_KEY"] = _development_secret(instance_dir)
    return config


def _check_public_url(value: str) -> None:
    if not value:
        return
    try:
        parts = urlsplit(value)
        plain = parts.scheme in {"http", "https"} and bool(parts.hostname) and parts.port != 0
        plain = plain and parts.username is None and not parts.query and not parts.fragment
    except ValueError:  # e.g. a port that is not a number
        plain = False
    if not plain:
        raise ConfigError(f"LMS_PUBLIC_URL must be an address such as https://lms.example.org, not {value!r}")


def trusted_hosts(public_url: str, extra: str = "") -> list[str]:
    """The host names requests may be addressed to: ``public_url``'s, then ``extra``'s."""
    hosts = [urlsplit(public_url).hostname or ""]
    hosts += [host.strip().lower() for host in extra.split(",") if host.strip()]
    return list(dict.fromkeys(host for host in hosts if host))


def _check_production(config: dict[str, Any]) -> None:
    """Fail closed: refuse to start production with an unsafe configuration (R9)."""
    secret = config.get("SECRET_KEY") or ""
    if len(secret) < MIN_SECRET_LENGTH:
        raise ConfigError(
            f"LMS_SECRET_KEY must be set to a random value of at least {MIN_SECRET_LENGTH} "
            "characters in production, e.g. "
            "python -c 'import secrets; print(secrets.token_urlsafe(48))'"
        )
    if not config.get("SESSION_COOKIE_SECURE"):
        raise ConfigError("Production requires secure cookies: do not set LMS_SESSION_COOKIE_SECURE=0")
    if config.get("DEBUG"):
        raise ConfigError("Production must not run with DEBUG on")
    if not str(config.get("PUBLIC_URL") or "").startswith("https://"):
        raise ConfigError("Production requires LMS_PUBLIC_URL, the https:// address printed on certificates")
