"""Courses: scheduled deliveries of the curriculum, their sessions, enrolments and attendance."""

from __future__ import annotations

import enum
import secrets
from datetime import date, datetime, time

import sqlalchemy as sa
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.db import Base, UTCDateTime, enum_column, utcnow
from lms.models.curriculum import Module, Track
from lms.models.people import Country, Institution, User


class CourseMode(enum.StrEnum):
    IN_PERSON = "in_person"
    ONLINE = "online"
    BLENDED = "blended"


class EnrolmentMode(enum.StrEnum):
    TRAINER_ONLY = "trainer_only"
    OPEN_WITH_APPROVAL = "open_with_approval"


class CourseStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class EnrolmentStatus(enum.StrEnum):
    REQUESTED = "requested"  # asked to join an open course; the trainer decides
    ENROLLED = "enrolled"
    WAITLISTED = "waitlisted"
    WITHDRAWN = "withdrawn"
    DECLINED = "declined"


class AttendanceMark(enum.StrEnum):
    PRESENT = "present"
    ABSENT = "absent"
    EXCUSED = "excused"


class Course(Base):
    __tablename__ = "courses"
    __table_args__ = (
        sa.CheckConstraint("end_date >= start_date", name="dates_in_order"),
        sa.CheckConstraint("capacity > 0", name="capacity_positive"),
        sa.CheckConstraint("attendance_threshold BETWEEN 0 AND 100", name="threshold_percent"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str | None] = mapped_column(sa.Text)
    track_id: Mapped[int | None] = mapped_column(sa.ForeignKey("tracks.id"), index=True)
    country_id: Mapped[int] = mapped_column(sa.ForeignKey("countries.id"), index=True)
    host_institution_id: Mapped[int | None] = mapped_column(sa.ForeignKey("institutions.id"))
    venue: Mapped[str | None] = mapped_column(sa.String(300))
    online_link: Mapped[str | None] = mapped_column(sa.String(500))
    mode: Mapped[CourseMode] = mapped_column(enum_column(CourseMode, "course_mode"))
    language: Mapped[str] = mapped_column(sa.String(16))
    start_date: Mapped[date]
    end_date: Mapped[date]
    capacity: Mapped[int]
    enrolment_mode: Mapped[EnrolmentMode] = mapped_column(enum_column(EnrolmentMode, "enrolment_mode"))
    status: Mapped[CourseStatus] = mapped_column(enum_column(CourseStatus, "course_status"), default=CourseStatus.DRAFT)
    # Completion rule: attendance of at least this share of sessions, and (optionally)
    # every module of the course completed.
    attendance_threshold: Mapped[int] = mapped_column(default=80)
    require_modules: Mapped[bool] = mapped_column(default=True)
    cancel_reason: Mapped[str | None] = mapped_column(sa.String(500))
    # Part of the secret address of the course's calendar feed; a new nonce revokes it.
    calendar_nonce: Mapped[str] = mapped_column(sa.String(32), default=lambda: secrets.token_hex(8))
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    track: Mapped[Track | None] = relationship()
    country: Mapped[Country] = relationship(lazy="joined", innerjoin=True)
    host_institution: Mapped[Institution | None] = relationship(lazy="joined")
    trainers: Mapped[list[CourseTrainer]] = relationship(
        back_populates="course", cascade="all, delete-orphan", lazy="selectin"
    )
    modules: Mapped[list[CourseModule]] = relationship(
        back_populates="course", cascade="all, delete-orphan", order_by="CourseModule.position", lazy="selectin"
    )
    sessions: Mapped[list[CourseSession]] = relationship(
        back_populates="course",
        cascade="all, delete-orphan",
        order_by="(CourseSession.date, CourseSession.start_time, CourseSession.id)",
    )

    def __repr__(self) -> str:
        return f"<Course {self.id} {self.title!r}>"

    @property
    def trainer_ids(self) -> set[int]:
        return {link.user_id for link in self.trainers}


class CourseTrainer(Base):
    __tablename__ = "course_trainers"
    __table_args__ = (sa.UniqueConstraint("course_id", "user_id"), {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(sa.ForeignKey("courses.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)

    course: Mapped[Course] = relationship(back_populates="trainers")
    user: Mapped[User] = relationship(lazy="joined")


class CourseModule(Base):
    __tablename__ = "course_modules"
    __table_args__ = (sa.UniqueConstraint("course_id", "module_id"), {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(sa.ForeignKey("courses.id", ondelete="CASCADE"))
    module_id: Mapped[int] = mapped_column(sa.ForeignKey("modules.id"), index=True)
    position: Mapped[int] = mapped_column(default=0)

    course: Mapped[Course] = relationship(back_populates="modules")
    module: Mapped[Module] = relationship(lazy="joined")


class CourseSession(Base):
    """One meeting of a course (called a session in the programme; not a login session)."""

    __tablename__ = "course_sessions"
    __table_args__ = (
        sa.CheckConstraint("end_time > start_time", name="times_in_order"),
        sa.Index("ix_course_sessions_trainer_date", "trainer_id", "date"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(sa.ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    date: Mapped[date] = mapped_column(index=True)
    start_time: Mapped[time]
    end_time: Mapped[time]
    topic: Mapped[str] = mapped_column(sa.String(200))
    trainer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancel_reason: Mapped[str | None] = mapped_column(sa.String(500))
    # RFC 5545 SEQUENCE: raised on every change so calendar programs take the update.
    sequence: Mapped[int] = mapped_column(default=0)

    course: Mapped[Course] = relationship(back_populates="sessions")
    trainer: Mapped[User | None] = relationship(lazy="joined")

    @property
    def is_cancelled(self) -> bool:
        return self.cancelled_at is not None


class Enrolment(Base):
    __tablename__ = "enrolments"
    # One enrolment per person per course, whatever happens concurrently.
    __table_args__ = (
        sa.UniqueConstraint("course_id", "user_id"),
        sa.Index("ix_enrolments_user_status", "user_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(sa.ForeignKey("courses.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    status: Mapped[EnrolmentStatus] = mapped_column(enum_column(EnrolmentStatus, "enrolment_status"))
    # When the completion takes effect: the end of the course when the rule (or an override)
    # finds the person complete before it, else when it first did (lms.courses.attendance).
    # A moment still to come is not a completion yet: ask is_completed.
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    # A trainer's decision that replaces the rule: True (completed) or False (not completed).
    override_completed: Mapped[bool | None]
    override_reason: Mapped[str | None] = mapped_column(sa.String(500))
    override_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    override_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    course: Mapped[Course] = relationship()
    user: Mapped[User] = relationship(foreign_keys=[user_id], lazy="joined")
    override_by: Mapped[User | None] = relationship(foreign_keys=[override_by_id])

    @hybrid_property
    def is_completed(self) -> bool:
        """Completed, as of now: never before the course has ended."""
        return self.completed_at is not None and self.completed_at <= utcnow()

    @is_completed.inplace.expression
    @classmethod
    def _is_completed_expression(cls) -> sa.ColumnElement[bool]:
        return sa.and_(cls.completed_at.is_not(None), cls.completed_at <= utcnow())


class Attendance(Base):
    __tablename__ = "attendance"
    __table_args__ = (sa.UniqueConstraint("session_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(sa.ForeignKey("course_sessions.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    mark: Mapped[AttendanceMark] = mapped_column(enum_column(AttendanceMark, "attendance_mark"))
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class RosterImport(Base):
    """A checked roster waiting for the trainer's confirmation: nothing is enrolled yet."""

    __tablename__ = "roster_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(sa.ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    filename: Mapped[str] = mapped_column(sa.String(200))
    rows: Mapped[str] = mapped_column(sa.Text)  # JSON: the cleaned rows
    row_count: Mapped[int]
    problem_count: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    imported_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Notification(Base):
    """A notice on a person's dashboard, e.g. that a course or session was cancelled."""

    __tablename__ = "notifications"
    __table_args__ = (sa.Index("ix_notifications_user_unread", "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(sa.String(40))
    course_id: Mapped[int | None] = mapped_column(sa.ForeignKey("courses.id", ondelete="CASCADE"))
    session_id: Mapped[int | None] = mapped_column(sa.ForeignKey("course_sessions.id", ondelete="CASCADE"))
    reason: Mapped[str | None] = mapped_column(sa.String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    course: Mapped[Course | None] = relationship()
    session: Mapped[CourseSession | None] = relationship()


class TrainerProfile(Base):
    """What the network's directory says about a trainer."""

    __tablename__ = "trainer_profiles"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), primary_key=True)
    languages: Mapped[str] = mapped_column(sa.String(200), default="")  # comma-separated codes
    topics: Mapped[str] = mapped_column(sa.String(1000), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
