"""Writing and reading the audit log: who did what, when (UTC) and from where."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import g, has_app_context, has_request_context, request
from sqlalchemy.orm import Session

from lms import db
from lms.models import AuditEvent, User

DETAILS_MAX = 4000


class Action:
    """The audited actions, named ``area.verb``."""

    LOGIN = "auth.login"
    LOGIN_FAILED = "auth.login_failed"
    LOGIN_THROTTLED = "auth.login_throttled"
    LOGOUT = "auth.logout"
    PASSWORD_CHANGED = "auth.password_changed"  # noqa: S105 - an action name
    PASSWORD_SET = "auth.password_set_from_link"  # noqa: S105 - an action name
    SESSION_EXPIRED = "auth.session_expired"
    MFA_ENROLLED = "auth.mfa_enrolled"
    MFA_DISABLED = "auth.mfa_disabled"
    MFA_FAILED = "auth.mfa_failed"
    MFA_REFUSED = "auth.mfa_missing_refused"
    MFA_RECOVERY_CODE_USED = "auth.mfa_recovery_code_used"
    MFA_RECOVERY_CODES_RENEWED = "auth.mfa_recovery_codes_renewed"
    MFA_RESET = "auth.mfa_reset"
    ACCESS_DENIED = "access.denied"
    CSRF_REFUSED = "access.csrf_refused"
    PERSON_CREATED = "person.created"
    PERSON_UPDATED = "person.updated"
    PERSON_DISABLED = "person.disabled"
    PERSON_ENABLED = "person.enabled"
    ROLE_GRANTED = "role.granted"
    ROLE_CHANGED = "role.changed"
    ROLE_REVOKED = "role.revoked"
    LINK_CREATED = "account.link_created"
    DATABASE_BACKED_UP = "database.backed_up"
    DATABASE_RESTORED = "database.restored"
    ATTEMPTS_ALLOWED = "learning.attempts_allowed"


def _request_fields() -> dict[str, Any]:
    if not has_request_context():
        return {}
    return {
        "ip": (request.remote_addr or "")[:45] or None,
        "method": request.method[:10],
        "path": request.path[:300],
    }


def _truncate(value: str | None, length: int) -> str | None:
    return None if value is None else value[:length]


def build_event(
    action: str,
    *,
    actor: User | None,
    subject: str | None = None,
    target: Any = None,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """An audit row for ``action`` by ``actor``, with the request's address and path."""
    target_type = target_id = None
    if target is not None:
        target_type = type(target).__name__.lower()
        target_id = str(getattr(target, "id", "") or "")
    text = json.dumps(details, ensure_ascii=False, default=str)[:DETAILS_MAX] if details else None
    return AuditEvent(
        occurred_at=db.utcnow(),
        actor_id=actor.id if actor is not None else None,
        actor_email=actor.email if actor is not None else None,
        action=action,
        subject=_truncate(subject, 254),
        target_type=target_type,
        target_id=_truncate(target_id, 40) or None,
        details=text,
        **_request_fields(),
    )


def record(session: Session, action: str, **kwargs: Any) -> AuditEvent:
    """Add an audit row to ``session``: it commits or rolls back with the change it records."""
    event = build_event(action, **kwargs)
    session.add(event)
    return event


def record_now(action: str, **kwargs: Any) -> None:
    """Write an audit row in a transaction of its own, committed at once.

    For events that must be kept whatever happens to the request's own work: refused
    access, failed logins, exports made by a GET. The request's session is rolled back
    first: a refused request's work must not be kept, a GET has nothing to keep, and on
    SQLite its write lock would block this very write.
    """
    # Built first: the rollback below expires the actor's loaded attributes.
    event = build_event(action, **kwargs)
    request_session = g.get("db_session") if has_app_context() else None
    if request_session is not None:
        request_session.rollback()
    db.write_separately(lambda session: session.add(event))


@dataclass(frozen=True)
class AuditPage:
    events: list[AuditEvent]
    next_before_id: int | None


def list_events(
    session: Session,
    *,
    action: str | None = None,
    actor_email: str | None = None,
    since: datetime | None = None,
    before_id: int | None = None,
    limit: int = 50,
) -> AuditPage:
    """Newest events first, paged by id (keyset) because the log only grows."""
    query = sa.select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit + 1)
    if action:
        query = query.where(AuditEvent.action == action)
    if actor_email:
        query = query.where(AuditEvent.actor_email == actor_email.lower())
    if since is not None:
        query = query.where(AuditEvent.occurred_at >= since)
    if before_id is not None:
        query = query.where(AuditEvent.id < before_id)
    events = list(session.scalars(query))
    more = len(events) > limit
    events = events[:limit]
    return AuditPage(events, events[-1].id if more and events else None)


def known_actions() -> list[str]:
    """Every action the app records, for the filter (no scan of a large table)."""
    return sorted(value for name, value in vars(Action).items() if name.isupper())
