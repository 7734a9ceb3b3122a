"""Multi-factor sign-in (TOTP, RFC 6238): who needs it, what follows the password,
enrolment, checking codes, turning it off and the administrator's reset.

Administrators, coordinators and coaches see personal data or confidential coaching
records, so their accounts need a second factor (``MFA_REQUIRED_ROLES``). In production a
person holding such a role gets ``MFA_GRACE_DAYS`` from their first sign-in to set one up,
and is refused after that; elsewhere (the demo) they are only invited to.

Codes are checked with pyotp. A code is accepted one time step either side of now (clocks
drift) and only for a step later than the last accepted one, so no code works twice.
How the secrets are kept (encrypted key, hashed recovery codes and device tokens) is in
``lms.auth.mfa_secrets``. Functions take the person explicitly and only flush; the caller
commits.
"""

from __future__ import annotations

import enum
import hmac
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyotp
import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext
from sqlalchemy.orm import Session

from lms import db
from lms.audit.service import Action, record, record_now
from lms.auth import mfa_secrets, sessions
from lms.models import AuditEvent, MfaState, Role, User

ISSUER = "RNGT LMS"
#: How long the code may be asked for after the password was accepted.
PENDING_LIFETIME = timedelta(minutes=5)
#: Wrong codes allowed per account within the window before it must wait.
MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=15)


class MfaError(Exception):
    """A second-factor operation was refused; ``message`` says why, for the person."""

    def __init__(self, message: object) -> None:
        super().__init__(str(message))
        self.message = str(message)


class MfaThrottled(MfaError):
    """Too many wrong codes lately; try again in ``retry_after`` seconds."""

    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after
        self.minutes = max(1, math.ceil(retry_after / 60))
        super().__init__(
            lazy_ngettext(
                "Too many wrong codes. Try again in %(num)d minute.",
                "Too many wrong codes. Try again in %(num)d minutes.",
                self.minutes,
            )
        )


class Method(enum.StrEnum):
    TOTP = "totp"
    RECOVERY_CODE = "recovery_code"


class Next(enum.Enum):
    """What follows a correct password."""

    SIGN_IN = "sign_in"
    CHALLENGE = "challenge"  # enrolled: ask for the code before signing in
    INVITE = "invite"  # required but outside production: sign in and offer the set-up
    SET_UP = "set_up"  # production, within the grace period: sign in, straight to the set-up
    REFUSE = "refuse"  # production, grace period over: not signed in


@dataclass(frozen=True)
class Decision:
    next: Next
    deadline: datetime | None = None


@dataclass(frozen=True)
class Status:
    """What the account pages show about a person's second factor."""

    enrolled: bool
    enrolled_at: datetime | None
    recovery_codes_left: int
    required: bool
    # Production only: when signing in without a second factor stops being possible.
    deadline: datetime | None


# --- Who needs a second factor -----------------------------------------------------------


def required_for(user: User) -> bool:
    """Whether ``user``'s roles require a second factor."""
    wanted = {Role(name) for name in current_app.config["MFA_REQUIRED_ROLES"]}
    return user.has_role(*wanted)


def _production() -> bool:
    return current_app.config["LMS_ENV"] == "production"


def _grace() -> timedelta:
    return timedelta(days=current_app.config["MFA_GRACE_DAYS"])


def get_state(session: Session, user: User) -> MfaState | None:
    return session.get(MfaState, user.id)


def _state(session: Session, user: User) -> MfaState:
    state = get_state(session, user)
    if state is None:
        state = MfaState(user_id=user.id)
        session.add(state)
    return state


def is_enrolled(session: Session, user: User) -> bool:
    state = get_state(session, user)
    return state is not None and state.enrolled


def status(session: Session, user: User) -> Status:
    state = get_state(session, user)
    enrolled = state is not None and state.enrolled
    required = required_for(user)
    deadline = None
    if required and not enrolled and _production() and state is not None and state.required_since is not None:
        deadline = state.required_since + _grace()
    return Status(
        enrolled=enrolled,
        enrolled_at=state.enrolled_at if enrolled and state is not None else None,
        recovery_codes_left=mfa_secrets.recovery_codes_left(session, user) if enrolled else 0,
        required=required,
        deadline=deadline,
    )


def after_password(session: Session, user: User, *, device_token: str | None) -> Decision:
    """What happens once ``user`` has given the right password.

    The grace period starts at the first sign-in in production with a role that requires
    a second factor (not when the role was granted: a person who has not signed in since
    has had no chance to set one up).
    """
    state = get_state(session, user)
    if state is not None and state.enrolled:
        if device_token and mfa_secrets.use_remembered_device(session, user, device_token):
            return Decision(Next.SIGN_IN)
        return Decision(Next.CHALLENGE)
    if not required_for(user):
        return Decision(Next.SIGN_IN)
    if not _production():
        return Decision(Next.INVITE)
    now = db.utcnow()
    state = _state(session, user)
    if state.required_since is None:
        state.required_since = now
        session.flush()
    deadline = state.required_since + _grace()
    if now < deadline:
        return Decision(Next.SET_UP, deadline)
    record(session, Action.MFA_REFUSED, actor=user, target=user, subject=user.email)
    return Decision(Next.REFUSE, deadline)


# --- Enrolment ---------------------------------------------------------------------------


def begin_enrolment(session: Session, user: User) -> None:
    """Make a new authenticator secret for ``user``, to be confirmed with a code from it."""
    state = _state(session, user)
    if state.enrolled:
        raise MfaError(_l("Your second factor is already set up."))
    state.secret_encrypted = mfa_secrets.encrypt_key(pyotp.random_base32())
    state.last_step = None
    session.flush()


def pending_secret(session: Session, user: User) -> str | None:
    """The secret of an enrolment begun but not confirmed; never that of a confirmed one."""
    state = get_state(session, user)
    if state is None or state.enrolled:
        return None
    return mfa_secrets.decrypt_key(state.secret_encrypted)


def provisioning_uri(user: User, secret: str) -> str:
    """The ``otpauth://`` address the authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)


def confirm_enrolment(session: Session, user: User, code: str) -> list[str]:
    """Turn the second factor on once a code from the new secret is right; returns the
    recovery codes, which exist only in this return value from now on."""
    state = get_state(session, user)
    if state is None or state.enrolled or not state.secret_encrypted:
        raise MfaError(_l("Start the set-up again."))
    if not _accept_totp(session, state, code):
        raise MfaError(_l("This code is not correct. Check the time on your phone and type the code shown now."))
    state.enrolled_at = db.utcnow()
    codes = mfa_secrets.new_recovery_codes(session, user)
    record(session, Action.MFA_ENROLLED, actor=user, target=user, subject=user.email)
    return codes


# --- Checking codes ----------------------------------------------------------------------


def _digits(code: str) -> str | None:
    value = "".join(code.split())
    return value if len(value) == 6 and value.isascii() and value.isdigit() else None


def _accept_totp(session: Session, state: MfaState, code: str) -> bool:
    """Whether ``code`` is current for the secret and newer than the last one accepted."""
    digits = _digits(code)
    secret = mfa_secrets.decrypt_key(state.secret_encrypted)
    if digits is None or secret is None:
        return False
    totp = pyotp.TOTP(secret)
    now = db.utcnow()
    current = totp.timecode(now)
    for step in (current - 1, current, current + 1):
        if state.last_step is not None and step <= state.last_step:
            continue
        if hmac.compare_digest(totp.generate_otp(step), digits):
            # Conditional, so two requests racing with one code cannot both succeed.
            claimed = session.execute(
                sa.update(MfaState)
                .where(
                    MfaState.user_id == state.user_id,
                    sa.or_(MfaState.last_step.is_(None), MfaState.last_step < step),
                )
                .values(last_step=step, last_verified_at=now)
                .execution_options(synchronize_session="fetch")
            )
            return claimed.rowcount == 1
    return False


def _failures_throttle(session: Session, user: User, state: MfaState) -> int | None:
    """Seconds to wait when the account has too many recent wrong codes, else ``None``.

    Only the person's own failures since their last accepted code count. Whoever reaches
    this step already knows the password, so the limit is per account and strict: with 3
    codes valid at a time, 5 guesses per 15 minutes take about two years to hit one.
    """
    now = db.utcnow()
    window, limit = FAILURE_WINDOW, MAX_FAILURES
    since = max(now - window, state.last_verified_at) if state.last_verified_at else now - window
    times = session.scalars(
        sa.select(AuditEvent.occurred_at)
        .where(AuditEvent.action == Action.MFA_FAILED, AuditEvent.subject == user.email, AuditEvent.occurred_at > since)
        .order_by(AuditEvent.occurred_at.desc())
        .limit(limit)
    ).all()
    if len(times) < limit:
        return None
    return max(1, math.ceil((times[-1] + window - now).total_seconds()))


def check_code(session: Session, user: User, code: str, *, allow_recovery: bool = True) -> Method:
    """Check a code from ``user``'s authenticator, or one of their recovery codes.

    :raise MfaThrottled: after too many wrong codes; the code is not even looked at.
    :raise MfaError: the code is wrong (audited at once, and counted for the throttle).
    """
    state = get_state(session, user)
    if state is None or not state.enrolled:
        raise MfaError(_l("No second factor is set up for this account."))
    wait = _failures_throttle(session, user, state)
    if wait is not None:
        raise MfaThrottled(wait)
    if _accept_totp(session, state, code):
        return Method.TOTP
    if allow_recovery and _digits(code) is None and mfa_secrets.use_recovery_code(session, user, code):
        state.last_verified_at = db.utcnow()
        left = mfa_secrets.recovery_codes_left(session, user)
        record(session, Action.MFA_RECOVERY_CODE_USED, actor=user, target=user, details={"left": left})
        return Method.RECOVERY_CODE
    # Committed on its own, like a wrong password: it must count whatever else happens.
    record_now(Action.MFA_FAILED, actor=user, target=user, subject=user.email)
    if allow_recovery:
        raise MfaError(_l("This code is not correct, or was already used."))
    raise MfaError(_l("This code is not correct, or was already used. Type the code your app shows now."))


def renew_recovery_codes(session: Session, user: User, code: str) -> list[str]:
    """New recovery codes in place of the old ones, given a current code from the app."""
    check_code(session, user, code, allow_recovery=False)
    codes = mfa_secrets.new_recovery_codes(session, user)
    record(session, Action.MFA_RECOVERY_CODES_RENEWED, actor=user, target=user)
    return codes


# --- Turning it off ----------------------------------------------------------------------


def _remove_factor(session: Session, user: User) -> MfaState:
    state = _state(session, user)
    state.secret_encrypted = None
    state.enrolled_at = None
    state.last_step = None
    state.last_verified_at = None
    mfa_secrets.delete_recovery_codes(session, user)
    mfa_secrets.forget_devices(session, user)
    return state


def disable(session: Session, user: User, code: str) -> None:
    """Turn ``user``'s own second factor off, given a current code (or a recovery code)."""
    if required_for(user):
        raise MfaError(_l("Your roles require a second factor: it cannot be turned off."))
    check_code(session, user, code)
    _remove_factor(session, user)
    record(session, Action.MFA_DISABLED, actor=user, target=user, subject=user.email)
    session.flush()


def reset(session: Session, person: User, *, actor: User | None) -> None:
    """An administrator removes ``person``'s second factor (lost phone and recovery codes).

    Also forgets their remembered devices, ends their sessions and starts their grace
    period again, so that they can sign in and set up a new one.
    """
    if actor is not None and not actor.has_role(Role.ADMIN):
        raise MfaError(_l("Only an administrator can reset a second factor."))
    if actor is not None and actor.id == person.id:
        raise MfaError(_l("To change your own second factor, use your account page."))
    was_enrolled = is_enrolled(session, person)
    state = _remove_factor(session, person)
    state.required_since = None
    sessions.end_all_sessions(person)
    record(
        session, Action.MFA_RESET, actor=actor, target=person, subject=person.email,
        details={"was_enrolled": was_enrolled},
    )  # fmt: skip
    session.flush()
