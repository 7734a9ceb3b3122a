"""Issuing, reissuing and revoking certificates, and reading them back.

Issuing is idempotent: one certificate per person per achievement is a database unique
constraint, and issuers are serialized on the year's serial counter (a row lock on
PostgreSQL; SQLite's write transactions are serial already). Whoever gets the lock second
sees the certificates the first one issued and issues nothing twice. Serial numbers are
taken from the counter inside the same transaction, so a rolled-back issue leaves no gap
and no number is ever given twice.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from dateutil.relativedelta import relativedelta
from flask_babel import lazy_gettext as _l
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from lms import access, db
from lms.audit.service import record
from lms.certificates import codes
from lms.certificates.eligibility import Achievement, local_date
from lms.models import (
    Certificate,
    CertificateRevision,
    CertificateStatus,
    PrintJob,
    Role,
    SerialCounter,
    Signatory,
    User,
)

MAX_SIGNATORIES = 3
MAX_BATCH = 5000


class CertificateAction:
    ISSUED = "certificate.issued"
    REISSUED = "certificate.reissued"
    REVOKED = "certificate.revoked"
    DOWNLOADED = "certificate.downloaded"
    PRINTED = "certificate.printed"
    SIGNATORY_SAVED = "certificate.signatory_saved"
    SIGNATORY_REMOVED = "certificate.signatory_removed"


class CertificateError(Exception):
    def __init__(self, message: object, field: str | None = None) -> None:
        super().__init__(str(message))
        self.message = str(message)
        self.field = field


# --- Reading -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Standing:
    """What the public verification page says about a revision."""

    state: str  # "valid", "expired", "superseded" or "revoked"
    since: date | None


def standing_of(certificate: Certificate, revision: CertificateRevision, today: date) -> Standing:
    if certificate.status == CertificateStatus.REVOKED:
        return Standing("revoked", local_date(certificate.revoked_at) if certificate.revoked_at else None)
    if revision.superseded_at is not None:
        return Standing("superseded", local_date(revision.superseded_at))
    if certificate.valid_until is not None and certificate.valid_until < today:
        return Standing("expired", certificate.valid_until)
    return Standing("valid", None)


def find_revision(session: Session, typed_code: str) -> CertificateRevision | None:
    code = codes.normalize_code(typed_code)
    if code is None:
        return None
    return session.scalar(sa.select(CertificateRevision).where(CertificateRevision.code == code))


# The loaders below are the only ways a view obtains a certificate, print job or signatory
# by its id. A refusal is a 404 whether or not the thing exists, and is audited
# (access.deny), so that probing other people's ids shows in the log.


def certificate_for_manager(session: Session, certificate_id: int, actor: User) -> Certificate:
    """A certificate ``actor`` manages; 404 for anything else, existing or not (audited)."""
    certificate = session.get(Certificate, certificate_id)
    if certificate is None:
        access.deny(404, reason="no such certificate")
    scope = access.managed_country_ids(actor)
    if scope is not None and certificate.country_id not in scope:
        access.deny(404, reason="certificate outside the actor's country", target=certificate)
    return certificate


def certificate_for_holder(session: Session, certificate_id: int, holder: User) -> Certificate:
    """The holder's own certificate, unless revoked; 404 for anything else (audited)."""
    certificate = session.get(Certificate, certificate_id)
    if certificate is None:
        access.deny(404, reason="no such certificate")
    if certificate.holder_id != holder.id:
        access.deny(404, reason="certificate of another person", target=certificate)
    if certificate.status == CertificateStatus.REVOKED:
        access.deny(404, reason="revoked certificate", target=certificate)
    return certificate


def print_job_for(session: Session, job_id: int, actor: User) -> PrintJob:
    """A print job ``actor`` queued (admins: any); 404 for anything else (audited)."""
    job = session.get(PrintJob, job_id)
    if job is None:
        access.deny(404, reason="no such print job")
    if job.created_by_id != actor.id and not actor.has_role(Role.ADMIN):
        access.deny(404, reason="print job of another person", target=job)
    return job


def certificates_of(session: Session, holder: User) -> list[Certificate]:
    return list(
        session.scalars(
            sa.select(Certificate).where(Certificate.holder_id == holder.id).order_by(Certificate.issued_at.desc())
        )
    )


# --- Signatories ---------------------------------------------------------------------------


def signatories_for(session: Session, country_id: int) -> list[Signatory]:
    """Who signs a certificate of ``country_id``: the country's own signatories first,
    then the regional ones, at most three."""
    rows = session.scalars(
        sa.select(Signatory)
        .where(Signatory.active, sa.or_(Signatory.country_id == country_id, Signatory.country_id.is_(None)))
        .order_by(Signatory.country_id.is_(None), Signatory.position, Signatory.id)
    ).all()
    return list(rows[:MAX_SIGNATORIES])


def signatories_in_scope(session: Session, actor: User) -> list[Signatory]:
    query = sa.select(Signatory).where(Signatory.active).order_by(Signatory.position, Signatory.id)
    scope = access.managed_country_ids(actor)
    if scope is not None:
        query = query.where(sa.or_(Signatory.country_id.in_(scope), Signatory.country_id.is_(None)))
    return list(session.scalars(query))


def signatory_for_manager(session: Session, signatory_id: int, actor: User) -> Signatory:
    """A signatory ``actor`` may change: regional ones are for regional coordinators only."""
    signatory = session.get(Signatory, signatory_id)
    if signatory is None or not signatory.active:
        access.deny(404, reason="no such signatory", target=signatory)
    scope = access.managed_country_ids(actor)
    if scope is not None and signatory.country_id not in scope:
        access.deny(404, reason="signatory outside the actor's country", target=signatory)
    return signatory


def save_signatory(
    session: Session,
    signatory: Signatory | None,
    *,
    name: str,
    function: str,
    country_id: int | None,
    position: int,
    actor: User,
) -> Signatory:
    scope = access.managed_country_ids(actor)
    if scope is not None and country_id not in scope:
        raise CertificateError(_l("You can only set signatories for your own country."), "country_id")
    if signatory is None:
        signatory = Signatory(created_by_id=actor.id)
        session.add(signatory)
    signatory.name, signatory.function = name, function
    signatory.country_id, signatory.position = country_id, position
    session.flush()
    record(
        session,
        CertificateAction.SIGNATORY_SAVED,
        actor=actor,
        target=signatory,
        details={"name": name, "function": function, "country_id": country_id},
    )
    return signatory


def remove_signatory(session: Session, signatory: Signatory, *, actor: User) -> None:
    # Kept, inactive: certificates already issued carry their own copy of the names.
    signatory.active = False
    record(session, CertificateAction.SIGNATORY_REMOVED, actor=actor, target=signatory)
    session.flush()


# --- Issuing -------------------------------------------------------------------------------


def holder_names(holder: User) -> tuple[str, str | None]:
    """The holder's name as recorded, and the same name in the other script when known."""
    return holder.full_name, holder.full_name_alt


def _lock_counter(session: Session, year: int) -> None:
    """Create the year's counter if needed and hold its row lock until commit."""
    dialect = session.get_bind().dialect.name
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(SerialCounter)
    session.execute(insert.values(year=year, last_number=0).on_conflict_do_nothing(index_elements=["year"]))
    session.execute(sa.select(SerialCounter.year).where(SerialCounter.year == year).with_for_update())


def issue(
    session: Session,
    achievements: Sequence[Achievement],
    *,
    actor: User | None,
    valid_months: int | None = None,
    language: str | None = None,
) -> list[Certificate]:
    """Issue a certificate for each achievement whose holder has none yet; returns the new
    ones. All or nothing: the caller commits."""
    if len(achievements) > MAX_BATCH:
        raise CertificateError(_l("Issue at most %(max)s certificates at once.", max=MAX_BATCH))
    if not achievements:
        return []
    now = db.utcnow()
    year = local_date(now).year
    _lock_counter(session, year)
    # Read after the lock: whatever a concurrent issuer committed is visible now.
    keys = {achievement.key for achievement in achievements}
    existing = set(
        session.execute(
            sa.select(Certificate.holder_id, Certificate.achievement_key).where(
                Certificate.achievement_key.in_(keys),
                Certificate.holder_id.in_({achievement.holder.id for achievement in achievements}),
            )
        ).tuples()
    )
    todo: list[Achievement] = []
    for achievement in achievements:
        pair = (achievement.holder.id, achievement.key)
        if pair not in existing:
            existing.add(pair)  # the same person twice in one request counts once
            todo.append(achievement)
    if not todo:
        return []
    last = session.scalar(sa.select(SerialCounter.last_number).where(SerialCounter.year == year)) or 0
    signers: dict[int, list[Signatory]] = {}
    issued = []
    for offset, achievement in enumerate(todo, start=1):
        number = last + offset
        if achievement.country_id not in signers:
            signers[achievement.country_id] = signatories_for(session, achievement.country_id)
        valid_until = achievement.end_date + relativedelta(months=valid_months) if valid_months else None
        certificate = Certificate(
            serial=codes.format_serial(year, number),
            year=year,
            number=number,
            holder_id=achievement.holder.id,
            kind=achievement.kind,
            achievement_key=achievement.key,
            course_id=achievement.course_id,
            track_id=achievement.track_id,
            pairing_id=achievement.pairing_id,
            country_id=achievement.country_id,
            title=achievement.title,
            minutes=achievement.minutes,
            start_date=achievement.start_date,
            end_date=achievement.end_date,
            issuers=json.dumps(achievement.issuers, ensure_ascii=False),
            signatories=json.dumps(
                [{"name": s.name, "function": s.function} for s in signers[achievement.country_id]],
                ensure_ascii=False,
            ),
            modules=json.dumps(achievement.modules, ensure_ascii=False),
            # None: the achievement's own default; "": English only.
            language=achievement.language if language is None else (language or None),
            valid_until=valid_until,
            issued_at=now,
            issued_by_id=actor.id if actor else None,
        )
        name, name_alt = holder_names(achievement.holder)
        certificate.revisions.append(
            CertificateRevision(
                number=1,
                code=codes.new_code(),
                holder_name=name,
                holder_name_alt=name_alt,
                created_at=now,
                created_by_id=actor.id if actor else None,
            )
        )
        session.add(certificate)
        issued.append(certificate)
    session.execute(sa.update(SerialCounter).where(SerialCounter.year == year).values(last_number=last + len(todo)))
    session.flush()
    record(
        session,
        CertificateAction.ISSUED,
        actor=actor,
        details={
            "achievement": sorted(keys)[:20],
            "serials": [certificate.serial for certificate in issued][:200],
            "count": len(issued),
        },
    )
    return issued


def reissue(session: Session, certificate: Certificate, reason: str, *, actor: User) -> CertificateRevision:
    """A new revision with the holder's name as now recorded: same serial, new code; the
    previous revision is superseded (its code then verifies as "superseded")."""
    if certificate.status == CertificateStatus.REVOKED:
        raise CertificateError(_l("A revoked certificate cannot be reissued."))
    # Serialize reissues of this certificate (two at once would both supersede one revision).
    session.execute(sa.select(Certificate.id).where(Certificate.id == certificate.id).with_for_update())
    session.refresh(certificate, ["revisions"])
    now = db.utcnow()
    previous = certificate.current
    previous.superseded_at = now
    session.flush()
    name, name_alt = holder_names(certificate.holder)
    revision = CertificateRevision(
        number=previous.number + 1,
        code=codes.new_code(),
        holder_name=name,
        holder_name_alt=name_alt,
        reason=reason,
        created_at=now,
        created_by_id=actor.id,
    )
    certificate.revisions.append(revision)
    session.flush()
    record(
        session,
        CertificateAction.REISSUED,
        actor=actor,
        target=certificate,
        details={
            "serial": certificate.serial,
            "revision": revision.number,
            "reason": reason,
            "name_before": previous.holder_name,
            "name_after": name,
        },
    )
    return revision


def revoke(session: Session, certificate: Certificate, reason: str, *, actor: User) -> None:
    if certificate.status == CertificateStatus.REVOKED:
        raise CertificateError(_l("This certificate is already revoked."))
    certificate.status = CertificateStatus.REVOKED
    certificate.revoked_at = db.utcnow()
    certificate.revoked_reason = reason
    certificate.revoked_by_id = actor.id
    session.flush()
    record(
        session,
        CertificateAction.REVOKED,
        actor=actor,
        target=certificate,
        details={"serial": certificate.serial, "reason": reason},
    )
