"""Login throttling: too many recent failures for an account, or from one address.

Failures are counted from the audit log itself, so every worker process (and every
server) sees the same numbers without another store. For an account, only failures
since its last successful login count, so one typo after a good login does not add to
an old streak. An address gets a higher limit because a whole classroom or ministry may
sit behind one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from lms import db
from lms.audit.service import Action
from lms.models import AuditEvent, User


@dataclass(frozen=True)
class Throttle:
    retry_after_seconds: int

    @property
    def minutes(self) -> int:
        return max(1, math.ceil(self.retry_after_seconds / 60))


def _limit_reached_at(
    session: Session, column: sa.ColumnElement[str | None], value: str, since: datetime, limit: int
) -> datetime | None:
    """The time of the ``limit``-th newest failure since ``since``, if there are that many.

    Once that failure leaves the window, fewer than ``limit`` remain: the throttle lifts.
    """
    times = session.scalars(
        sa.select(AuditEvent.occurred_at)
        .where(AuditEvent.action == Action.LOGIN_FAILED, column == value, AuditEvent.occurred_at > since)
        .order_by(AuditEvent.occurred_at.desc())
        .limit(limit)
    ).all()
    return times[-1] if len(times) >= limit else None


def check(session: Session, email: str, ip: str | None) -> Throttle | None:
    """The throttle on a login attempt for ``email`` from ``ip``, or ``None`` when free."""
    config = current_app.config
    now = db.utcnow()
    window = config["LOGIN_FAILURE_WINDOW"]
    since = now - window
    limits: list[tuple[sa.ColumnElement[str | None], str, datetime, int]] = []
    user = session.scalar(sa.select(User).where(User.email == email))
    account_since = max(since, user.last_login_at) if user and user.last_login_at else since
    limits.append((AuditEvent.subject, email, account_since, config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]))
    if ip:
        limits.append((AuditEvent.ip, ip, since, config["LOGIN_MAX_FAILURES_PER_ADDRESS"]))
    for column, value, start, limit in limits:
        reached = _limit_reached_at(session, column, value, start, limit)
        if reached is not None:
            seconds = (reached + window - now).total_seconds()
            return Throttle(max(1, math.ceil(seconds)))
    return None
