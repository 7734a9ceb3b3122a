"""Logging in: credentials, throttling and the audit trail around them."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import ngettext
from sqlalchemy.orm import Session

from lms import db
from lms.audit.service import Action, record, record_now
from lms.auth import throttle
from lms.auth.passwords import verify_password
from lms.models import User


@dataclass(frozen=True)
class LoginResult:
    user: User | None = None
    throttled: throttle.Throttle | None = None


def authenticate(session: Session, email: str, password: str, ip: str | None) -> LoginResult:
    """Check credentials for ``email`` from ``ip`` unless throttled. Every outcome is audited.

    A throttled attempt is refused before the password is looked at, so even the right
    password is refused and guessing learns nothing by continuing; the refusal is not a
    failure and extends nothing. What is throttled is narrow (``lms.auth.throttle``): this
    account from this address, so nobody can lock out the owner elsewhere or a colleague
    behind the same address.
    """
    email = email.strip().lower()
    blocked = throttle.check(session, email, ip)
    if blocked is not None:
        details = {"rule": blocked.rule, "retry_after_seconds": blocked.retry_after_seconds}
        record_now(Action.LOGIN_THROTTLED, actor=None, subject=email, details=details)
        return LoginResult(throttled=blocked)
    user = session.scalar(sa.select(User).where(User.email == email))
    password_ok = verify_password(user.password_hash if user else None, password)
    if user is None or not password_ok or not user.is_active:
        # Committed on its own: the failure must count even though nothing else is saved.
        record_now(Action.LOGIN_FAILED, actor=None, subject=email)
        return LoginResult()
    user.last_login_at = db.utcnow()
    record(session, Action.LOGIN, actor=user, subject=email)
    return LoginResult(user=user)


def confirm_password(session: Session, user: User, password: str, ip: str | None) -> LoginResult:
    """Ask a signed-in person for their password again before a sensitive change (a new
    password, a new second factor).

    Throttled and audited like a login, so that a session left open or taken over cannot
    be used to guess the password either. ``LoginResult.user`` is set when it is right.
    """
    blocked = throttle.check(session, user.email, ip)
    if blocked is not None:
        details = {"rule": blocked.rule, "retry_after_seconds": blocked.retry_after_seconds, "step": "confirm"}
        record_now(Action.LOGIN_THROTTLED, actor=user, subject=user.email, details=details)
        return LoginResult(throttled=blocked)
    if not verify_password(user.password_hash, password):
        record_now(Action.LOGIN_FAILED, actor=user, subject=user.email, details={"step": "confirm"})
        return LoginResult()
    return LoginResult(user=user)


def throttle_message(throttled: throttle.Throttle) -> str:
    return ngettext(
        "Too many failed attempts. Try again in %(num)d minute.",
        "Too many failed attempts. Try again in %(num)d minutes.",
        throttled.minutes,
    )
