"""Certificates, their revisions and signatories, the print jobs that render them in
batches, and the counters behind serial numbers and rate limits."""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.db import Base, UTCDateTime, enum_column, utcnow
from lms.models.people import NAME_MAX, Country, User


class AchievementKind(enum.StrEnum):
    COURSE = "course"
    TRACK = "track"
    COACHING = "coaching"


class CertificateStatus(enum.StrEnum):
    # "Expired" and "superseded" are read from the validity date and the revision.
    VALID = "valid"
    REVOKED = "revoked"


class SerialCounter(Base):
    """The last serial number given in a year: serials are sequential and never reused."""

    __tablename__ = "certificate_serials"

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last_number: Mapped[int] = mapped_column(default=0)


class Signatory(Base):
    """A person who signs certificates, configured by coordinators: regional (no country)
    or for the certificates of one country."""

    __tablename__ = "certificate_signatories"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(NAME_MAX))
    function: Mapped[str] = mapped_column(sa.String(200))
    country_id: Mapped[int | None] = mapped_column(sa.ForeignKey("countries.id"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    country: Mapped[Country | None] = relationship(lazy="joined")


class Certificate(Base):
    """One person's certificate for one achievement. What it says is a snapshot taken when
    it was issued, so it reads the same years later whatever changes in the courses."""

    __tablename__ = "certificates"
    __table_args__ = (
        # One certificate per person per achievement, whatever happens concurrently.
        sa.UniqueConstraint("holder_id", "achievement_key", name="uq_certificates_holder_achievement"),
        sa.UniqueConstraint("year", "number", name="uq_certificates_year_number"),
        sa.CheckConstraint("number > 0", name="number_positive"),
        sa.CheckConstraint("minutes >= 0", name="minutes_not_negative"),
        sa.CheckConstraint("end_date >= start_date", name="dates_in_order"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    serial: Mapped[str] = mapped_column(sa.String(20), unique=True)
    year: Mapped[int]
    number: Mapped[int]
    holder_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    kind: Mapped[AchievementKind] = mapped_column(enum_column(AchievementKind, "achievement_kind"))
    # "course:12", "track:3" or "coaching:7": what the unique constraint is about.
    achievement_key: Mapped[str] = mapped_column(sa.String(60))
    course_id: Mapped[int | None] = mapped_column(sa.ForeignKey("courses.id"), index=True)
    track_id: Mapped[int | None] = mapped_column(sa.ForeignKey("tracks.id"), index=True)
    pairing_id: Mapped[int | None] = mapped_column(sa.ForeignKey("coaching_pairings.id"), index=True)
    # The country whose coordinators manage the certificate (the course's or the holder's).
    country_id: Mapped[int] = mapped_column(sa.ForeignKey("countries.id"), index=True)

    title: Mapped[str] = mapped_column(sa.String(300))
    minutes: Mapped[int] = mapped_column(default=0)
    start_date: Mapped[date]
    end_date: Mapped[date]
    issuers: Mapped[str] = mapped_column(sa.Text)  # JSON list of institution names
    signatories: Mapped[str] = mapped_column(sa.Text)  # JSON list of {"name", "function"}
    modules: Mapped[str] = mapped_column(sa.Text)  # JSON list of {"title", "version"}
    # The optional second language printed beside English (e.g. "mk", "sr-Cyrl").
    language: Mapped[str | None] = mapped_column(sa.String(16))
    valid_until: Mapped[date | None]

    status: Mapped[CertificateStatus] = mapped_column(
        enum_column(CertificateStatus, "certificate_status"), default=CertificateStatus.VALID
    )
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_reason: Mapped[str | None] = mapped_column(sa.String(500))
    revoked_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    issued_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    holder: Mapped[User] = relationship(foreign_keys=[holder_id], lazy="joined", innerjoin=True)
    revisions: Mapped[list[CertificateRevision]] = relationship(
        back_populates="certificate", order_by="CertificateRevision.number", lazy="selectin"
    )

    @property
    def current(self) -> CertificateRevision:
        return next(revision for revision in reversed(self.revisions) if revision.superseded_at is None)


class CertificateRevision(Base):
    """A printing of a certificate, with its own verification code. A reissue (after a
    name correction) supersedes the previous revision; the serial number stays."""

    __tablename__ = "certificate_revisions"
    __table_args__ = (
        sa.UniqueConstraint("certificate_id", "number"),
        # Exactly one current revision per certificate.
        sa.Index(
            "uq_certificate_revisions_current",
            "certificate_id",
            unique=True,
            sqlite_where=sa.text("superseded_at IS NULL"),
            postgresql_where=sa.text("superseded_at IS NULL"),
        ),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    certificate_id: Mapped[int] = mapped_column(sa.ForeignKey("certificates.id"))
    number: Mapped[int]
    # 80 random bits in Crockford's base32, stored without dashes in upper case.
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    holder_name: Mapped[str] = mapped_column(sa.String(NAME_MAX))
    holder_name_alt: Mapped[str | None] = mapped_column(sa.String(NAME_MAX))
    reason: Mapped[str | None] = mapped_column(sa.String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    superseded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    certificate: Mapped[Certificate] = relationship(back_populates="revisions")


class PrintFormat(enum.StrEnum):
    PDF = "pdf"  # one document, one page per certificate, for the printer
    ZIP = "zip"  # one PDF per person


class PrintJobStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class PrintJob(Base):
    """A batch of certificates rendered by the worker (``flask lms worker``), outside any
    web request. Its certificates are fixed when it is queued; progress is kept per chunk,
    so a job interrupted by a restart resumes where it stopped."""

    __tablename__ = "print_jobs"
    __table_args__ = (
        sa.Index("ix_print_jobs_status", "status", "id"),
        sa.CheckConstraint("done <= total", name="done_within_total"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(300))
    format: Mapped[PrintFormat] = mapped_column(enum_column(PrintFormat, "print_format"))
    course_id: Mapped[int | None] = mapped_column(sa.ForeignKey("courses.id"), index=True)
    certificate_ids: Mapped[str] = mapped_column(sa.Text)  # JSON list, in printing order
    total: Mapped[int]
    done: Mapped[int] = mapped_column(default=0)
    status: Mapped[PrintJobStatus] = mapped_column(
        enum_column(PrintJobStatus, "print_job_status"), default=PrintJobStatus.QUEUED
    )
    error: Mapped[str | None] = mapped_column(sa.String(500))
    worker: Mapped[str | None] = mapped_column(sa.String(100))
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def percent(self) -> int:
        return 100 * self.done // self.total if self.total else 100


class RateCounter(Base):
    """Requests per key (e.g. an address) in a fixed window, for public pages' rate limits."""

    __tablename__ = "rate_counters"

    key: Mapped[str] = mapped_column(sa.String(120), primary_key=True)
    window: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    hits: Mapped[int] = mapped_column(default=0)
