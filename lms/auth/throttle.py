"""Login throttling that slows guessing down without letting anyone lock others out.

Failures are counted from the audit log itself, so every worker process (and every
server) sees the same numbers without another store. Three rules, numbers in
``lms.config`` (the defaults are given here):

1. **The pair (account, address).** After 5 failures for an account from one address
   within 15 minutes, that address is refused for that account until the oldest of those
   failures is 15 minutes old. A successful login from the pair starts its count afresh.
   Nobody else is affected: the same account from another address, or another account
   from the same address, signs in as usual.
2. **The account, from everywhere.** Guessing spread over several addresses slows the
   account down. Once its failures of the last 24 hours reach 10, counting at most 5 per
   address (so one address alone never gets there), each attempt must wait after the
   account's latest failure: 1 second, doubling with each further failure, at most 5
   minutes. It is a wait, never a lockout, and it does not apply at an address the
   account has logged in from in the last 90 days: the owner at their usual desk signs in
   whatever happens elsewhere. An account thus sees at most 5 guesses every 15 minutes
   from one address (480 a day), and about 300 a day in all once several take part,
   however many.
3. **The address, across accounts.** An address whose failures name 50 nonexistent
   accounts within 15 minutes (a scanner, or password spraying with a guessed list) is
   refused for every account that has not logged in from it lately. Failures of real
   accounts never count here, so colleagues behind a ministry's proxy who mistype their
   own passwords do not stop anyone else.

Addresses are compared as IPv4 addresses or IPv6 /64 networks (one subscriber, whose
device picks a new address in it every day); rule 3 compares the exact address.
"""

from __future__ import annotations

import functools
import ipaddress
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from lms import db
from lms.audit.service import Action
from lms.models import AuditEvent, User

#: The first wait of the account slow-down; it doubles with each further failure.
FIRST_DELAY = timedelta(seconds=1)


@dataclass(frozen=True)
class Throttle:
    retry_after_seconds: int
    #: Which rule refused: ``account_and_address``, ``account`` or ``address``.
    rule: str = "account_and_address"

    @property
    def minutes(self) -> int:
        return max(1, math.ceil(self.retry_after_seconds / 60))


@functools.lru_cache(maxsize=4096)
def network(ip: str | None) -> str:
    """What an address is throttled as: an IPv4 address, or the IPv6 /64 holding it."""
    if not ip:
        return ""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def _until(moment: datetime, now: datetime, rule: str) -> Throttle:
    return Throttle(max(1, math.ceil((moment - now).total_seconds())), rule)


def _pair_throttle(session: Session, email: str, here: str, now: datetime, config: Any) -> Throttle | None:
    """Rule 1: the failures of this account from this address since its last success here."""
    window: timedelta = config["LOGIN_FAILURE_WINDOW"]
    limit: int = config["LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS"]
    # The account's own recent events: few, as rule 2 bounds its failures from elsewhere.
    rows = session.execute(
        sa.select(AuditEvent.action, AuditEvent.ip, AuditEvent.occurred_at)
        .where(
            AuditEvent.action.in_([Action.LOGIN_FAILED, Action.LOGIN]),
            AuditEvent.subject == email,
            AuditEvent.occurred_at > now - window,
        )
        .order_by(AuditEvent.occurred_at.desc())
    ).all()
    failures = 0
    for action, ip, occurred_at in rows:
        if network(ip) != here:
            continue
        if action == Action.LOGIN:
            return None
        failures += 1
        if failures == limit:
            # When this one leaves the window, fewer than ``limit`` remain.
            return _until(occurred_at + window, now, "account_and_address")
    return None


def _spread_reaches(rows: Sequence[Any], threshold: int, per_address: int) -> bool:
    """Whether failures (``ip, count, ...`` rows) reach ``threshold``, each address counting
    at most ``per_address`` of them.

    With a threshold above the pair limit, one address alone never reaches it, and so
    never slows the account down for anyone else.
    """
    per_network: Counter[str] = Counter()
    spread = 0
    for ip, count, *_rest in rows:
        key = network(ip)
        before = per_network[key]
        per_network[key] = before + count
        spread += min(before + count, per_address) - min(before, per_address)
        if spread >= threshold:
            return True
    return False


def _account_slowdown(session: Session, email: str, now: datetime, config: Any) -> Throttle | None:
    """Rule 2: a growing wait once the account's failures come from several addresses."""
    rows = session.execute(
        sa.select(AuditEvent.ip, sa.func.count(), sa.func.max(AuditEvent.occurred_at))
        .where(
            AuditEvent.action == Action.LOGIN_FAILED,
            AuditEvent.subject == email,
            AuditEvent.occurred_at > now - config["LOGIN_ACCOUNT_SLOWDOWN_WINDOW"],
        )
        .group_by(AuditEvent.ip)
    ).all()
    threshold: int = config["LOGIN_ACCOUNT_SLOWDOWN_AFTER"]
    if not _spread_reaches(rows, threshold, config["LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS"]):
        return None
    failures = sum(count for _ip, count, _latest in rows)
    latest = max(latest for _ip, _count, latest in rows)
    doublings = min(max(failures - threshold, 0), 30)
    delay = min(FIRST_DELAY * 2**doublings, config["LOGIN_ACCOUNT_MAX_DELAY"])
    if latest + delay <= now:
        return None
    return _until(latest + delay, now, "account")


def _address_throttle(session: Session, ip: str | None, now: datetime, config: Any) -> Throttle | None:
    """Rule 3: an address naming many nonexistent accounts."""
    if not ip:
        return None
    window: timedelta = config["LOGIN_FAILURE_WINDOW"]
    limit: int = config["LOGIN_MAX_UNKNOWN_ACCOUNT_FAILURES_PER_ADDRESS"]
    times = session.scalars(
        sa.select(AuditEvent.occurred_at)
        .outerjoin(User, User.email == AuditEvent.subject)
        .where(
            AuditEvent.action == Action.LOGIN_FAILED,
            AuditEvent.ip == ip,
            AuditEvent.occurred_at > now - window,
            User.id.is_(None),
        )
        .order_by(AuditEvent.occurred_at.desc())
        .limit(limit)
    ).all()
    if len(times) < limit:
        return None
    return _until(times[-1] + window, now, "address")


def _is_familiar(session: Session, email: str, here: str, now: datetime, config: Any) -> bool:
    """Whether the account has logged in from this address lately."""
    if not here:
        return False
    addresses = session.scalars(
        sa.select(AuditEvent.ip)
        .where(
            AuditEvent.action == Action.LOGIN,
            AuditEvent.subject == email,
            AuditEvent.occurred_at > now - config["LOGIN_FAMILIAR_ADDRESS_AGE"],
        )
        .distinct()
    ).all()
    return any(network(address) == here for address in addresses)


def check(session: Session, email: str, ip: str | None) -> Throttle | None:
    """The throttle on a login attempt for ``email`` from ``ip``, or ``None`` when free.

    Keyed on the email as typed (normalised), never on whether the account exists, so
    refusals look the same for real and made-up accounts.
    """
    config = current_app.config
    now = db.utcnow()
    here = network(ip)
    pair = _pair_throttle(session, email, here, now, config)
    if pair is not None:
        return pair
    others = [
        throttle
        for throttle in (_account_slowdown(session, email, now, config), _address_throttle(session, ip, now, config))
        if throttle is not None
    ]
    if not others or _is_familiar(session, email, here, now, config):
        return None
    return max(others, key=lambda throttle: throttle.retry_after_seconds)
