"""The curriculum's registry and each learner's progress.

The words of a module live in ``content/``; the database keeps what must stay stable and
searchable: one row per track and module (their ids never change, so progress refers to
them), one revision per distinct content, and every attempt and completion. Modules taken
out of ``content/`` are archived, never deleted, and nobody's history is lost.
"""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.db import Base, UTCDateTime, enum_column, utcnow


class Track(Base):
    __tablename__ = "tracks"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(100), unique=True)
    title: Mapped[str] = mapped_column(sa.String(300))
    position: Mapped[int] = mapped_column(default=0)
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    modules: Mapped[list[Module]] = relationship(back_populates="track", order_by="Module.position")

    def __repr__(self) -> str:
        return f"<Track {self.slug}>"


class Module(Base):
    __tablename__ = "modules"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(100), unique=True)
    track_id: Mapped[int] = mapped_column(sa.ForeignKey("tracks.id"), index=True)
    title: Mapped[str] = mapped_column(sa.String(300))
    position: Mapped[int] = mapped_column(default=0)
    # Comma-separated audiences (cadet, commander, staff, trainer, all).
    audience: Mapped[str] = mapped_column(sa.String(100), default="all")
    estimated_minutes: Mapped[int] = mapped_column(default=0)
    # The author's version number (front matter), and our revision of the exact text.
    version: Mapped[int] = mapped_column(default=1)
    revision: Mapped[int] = mapped_column(default=1)
    content_hash: Mapped[str] = mapped_column(sa.String(64))
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    track: Mapped[Track] = relationship(back_populates="modules")

    def __repr__(self) -> str:
        return f"<Module {self.slug} v{self.version} r{self.revision}>"

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None


class ModuleRevision(Base):
    """One distinct text of a module: an edit gives a new revision, the id stays."""

    __tablename__ = "module_revisions"
    __table_args__ = (sa.UniqueConstraint("module_id", "number"), sa.UniqueConstraint("module_id", "content_hash"))

    id: Mapped[int] = mapped_column(primary_key=True)
    module_id: Mapped[int] = mapped_column(sa.ForeignKey("modules.id"))
    number: Mapped[int]
    version: Mapped[int]
    content_hash: Mapped[str] = mapped_column(sa.String(64))
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class QuizAttempt(Base):
    """One submitted knowledge check, graded on the server."""

    __tablename__ = "quiz_attempts"
    # The nonce is issued with the form: a repeated submit of the same form is refused.
    __table_args__ = (
        sa.UniqueConstraint("user_id", "nonce"),
        sa.Index("ix_quiz_attempts_user_module", "user_id", "module_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    module_id: Mapped[int] = mapped_column(sa.ForeignKey("modules.id"), index=True)
    revision_id: Mapped[int] = mapped_column(sa.ForeignKey("module_revisions.id"))
    language: Mapped[str] = mapped_column(sa.String(16))
    nonce: Mapped[str] = mapped_column(sa.String(64))
    correct: Mapped[int]
    total: Mapped[int]
    score: Mapped[int]  # percent, rounded down
    passed: Mapped[bool]
    answers: Mapped[str] = mapped_column(sa.Text)  # JSON: question id -> chosen option ids
    # JSON: the questions drawn for this attempt, in the order shown, each with its options
    # in the order shown ([[question id, [option ids]], ...]). NULL for attempts made before
    # pools were drawn, which asked every question of the module.
    shown: Mapped[str | None] = mapped_column(sa.Text)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    revision: Mapped[ModuleRevision] = relationship(lazy="joined")


class AttemptAllowance(Base):
    """A trainer's or coordinator's decision to give a learner more attempts at a module's
    knowledge check: attempts are counted again from ``granted_at``."""

    __tablename__ = "attempt_allowances"
    __table_args__ = (sa.Index("ix_attempt_allowances_user_module", "user_id", "module_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    module_id: Mapped[int] = mapped_column(sa.ForeignKey("modules.id"))
    granted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(sa.String(500))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ModuleCompletion(Base):
    """The first pass of a module's knowledge check, with the revision it was taken on."""

    __tablename__ = "module_completions"
    __table_args__ = (sa.UniqueConstraint("user_id", "module_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    module_id: Mapped[int] = mapped_column(sa.ForeignKey("modules.id"), index=True)
    revision_id: Mapped[int] = mapped_column(sa.ForeignKey("module_revisions.id"))
    attempt_id: Mapped[int] = mapped_column(sa.ForeignKey("quiz_attempts.id"))
    language: Mapped[str] = mapped_column(sa.String(16))
    completed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    revision: Mapped[ModuleRevision] = relationship(lazy="joined")


class ModuleVisit(Base):
    """When a person last opened a module: for "continue where you left off"."""

    __tablename__ = "module_visits"
    __table_args__ = (sa.UniqueConstraint("user_id", "module_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    module_id: Mapped[int] = mapped_column(sa.ForeignKey("modules.id"))
    visited_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AssessmentPhase(enum.StrEnum):
    PRE = "pre"
    POST = "post"


class TrackAssessment(Base):
    """A track's pre-test (before starting) or post-test (after finishing): once each. A
    pre-test the learner chose to skip is kept as ``skipped`` (no score), so it is no longer
    offered; they may still take it later, while no module of the track is complete."""

    __tablename__ = "track_assessments"
    __table_args__ = (sa.UniqueConstraint("user_id", "track_id", "phase"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    track_id: Mapped[int] = mapped_column(sa.ForeignKey("tracks.id"), index=True)
    phase: Mapped[AssessmentPhase] = mapped_column(enum_column(AssessmentPhase, "assessment_phase"))
    language: Mapped[str] = mapped_column(sa.String(16))
    correct: Mapped[int]
    total: Mapped[int]
    score: Mapped[int]
    answers: Mapped[str] = mapped_column(sa.Text)
    skipped: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
