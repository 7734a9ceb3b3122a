"""The Gender Coach Programme: coach–commander pairings, their plans, sessions and notes.

What is said in coaching stays between the coach and the commander. The tables are laid
out so that the shared record (summaries, goals, action items) and the coach's private
notes are separate rows: nothing that lists sessions ever loads a note.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.db import Base, UTCDateTime, enum_column, utcnow
from lms.models.people import User


class CoachingLevel(enum.StrEnum):
    BASIC = "basic"
    ADVANCED = "advanced"


class PairingStatus(enum.StrEnum):
    ACTIVE = "active"
    COMPLETED = "completed"
    ENDED = "ended"  # ended early, with a reason


class GoalStatus(enum.StrEnum):
    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    ACHIEVED = "achieved"
    NOT_ACHIEVED = "not_achieved"


class SessionFormat(enum.StrEnum):
    IN_PERSON = "in_person"
    ONLINE = "online"


class CoachingSessionStatus(enum.StrEnum):
    PLANNED = "planned"
    HELD = "held"
    CANCELLED = "cancelled"


class ActionOwner(enum.StrEnum):
    COMMANDER = "commander"
    COACH = "coach"


class ActionStatus(enum.StrEnum):
    OPEN = "open"
    DONE = "done"


class CoachingPairing(Base):
    __tablename__ = "coaching_pairings"
    __table_args__ = (
        sa.CheckConstraint("end_date >= start_date", name="dates_in_order"),
        sa.CheckConstraint("planned_sessions BETWEEN 1 AND 24", name="planned_sessions_range"),
        sa.CheckConstraint("min_sessions BETWEEN 1 AND planned_sessions", name="min_sessions_range"),
        sa.CheckConstraint("coach_id <> commander_id", name="two_people"),
        # A commander has at most one active pairing, whatever happens concurrently.
        sa.Index(
            "uq_coaching_pairings_active_commander",
            "commander_id",
            unique=True,
            sqlite_where=sa.text("status = 'active'"),
            postgresql_where=sa.text("status = 'active'"),
        ),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    coach_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    commander_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    level: Mapped[CoachingLevel] = mapped_column(enum_column(CoachingLevel, "coaching_level"))
    start_date: Mapped[date]
    end_date: Mapped[date]
    planned_sessions: Mapped[int] = mapped_column(default=6)
    # The completion rule: at least this many sessions held, and every goal reviewed.
    min_sessions: Mapped[int] = mapped_column(default=5)
    status: Mapped[PairingStatus] = mapped_column(
        enum_column(PairingStatus, "pairing_status"), default=PairingStatus.ACTIVE
    )
    ended_reason: Mapped[str | None] = mapped_column(sa.String(500))
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    coach: Mapped[User] = relationship(foreign_keys=[coach_id], lazy="joined")
    commander: Mapped[User] = relationship(foreign_keys=[commander_id], lazy="joined")

    def is_member(self, user: User) -> bool:
        return user.id in (self.coach_id, self.commander_id)


class CoachingGoal(Base):
    __tablename__ = "coaching_goals"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(primary_key=True)
    pairing_id: Mapped[int] = mapped_column(sa.ForeignKey("coaching_pairings.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(sa.String(300))
    indicator: Mapped[str] = mapped_column(sa.String(500))
    target_date: Mapped[date]
    status: Mapped[GoalStatus] = mapped_column(enum_column(GoalStatus, "goal_status"), default=GoalStatus.NOT_STARTED)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    reviews: Mapped[list[GoalReview]] = relationship(
        back_populates="goal", order_by="GoalReview.reviewed_on", cascade="all, delete-orphan"
    )


class GoalReview(Base):
    """A look at a goal's progress together: when, the status then, and what was said."""

    __tablename__ = "coaching_goal_reviews"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(primary_key=True)
    goal_id: Mapped[int] = mapped_column(sa.ForeignKey("coaching_goals.id", ondelete="CASCADE"), index=True)
    reviewed_on: Mapped[date]
    status: Mapped[GoalStatus] = mapped_column(enum_column(GoalStatus, "goal_status"))
    comment: Mapped[str | None] = mapped_column(sa.Text)
    reviewed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    goal: Mapped[CoachingGoal] = relationship(back_populates="reviews")


class CoachingSession(Base):
    """One coaching meeting. Its summary is shared by the pair; notes are elsewhere."""

    __tablename__ = "coaching_sessions"
    __table_args__ = (
        sa.CheckConstraint("duration_minutes BETWEEN 15 AND 480", name="duration_range"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    pairing_id: Mapped[int] = mapped_column(sa.ForeignKey("coaching_pairings.id", ondelete="CASCADE"), index=True)
    date: Mapped[date] = mapped_column(index=True)
    duration_minutes: Mapped[int]
    format: Mapped[SessionFormat] = mapped_column(enum_column(SessionFormat, "coaching_format"))
    status: Mapped[CoachingSessionStatus] = mapped_column(enum_column(CoachingSessionStatus, "coaching_session_status"))
    topics: Mapped[str] = mapped_column(sa.String(300), default="")  # comma-separated topic codes
    summary: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    pairing: Mapped[CoachingPairing] = relationship()

    @property
    def topic_codes(self) -> list[str]:
        return [code for code in self.topics.split(",") if code]


class CoachingNote(Base):
    """The coach's private note on a session: shown to its author and nobody else."""

    __tablename__ = "coaching_notes"
    __table_args__ = (sa.UniqueConstraint("session_id", "author_id"), {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(sa.ForeignKey("coaching_sessions.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    text: Mapped[str] = mapped_column(sa.Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class ActionItem(Base):
    __tablename__ = "coaching_action_items"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(sa.ForeignKey("coaching_sessions.id", ondelete="CASCADE"), index=True)
    description: Mapped[str] = mapped_column(sa.String(500))
    owner: Mapped[ActionOwner] = mapped_column(enum_column(ActionOwner, "action_owner"))
    due_date: Mapped[date]
    status: Mapped[ActionStatus] = mapped_column(enum_column(ActionStatus, "action_status"), default=ActionStatus.OPEN)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    session: Mapped[CoachingSession] = relationship()
