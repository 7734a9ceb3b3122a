"""The append-only audit log.

Rows are only ever inserted: the migration adds triggers that make UPDATE and DELETE
fail on both engines, and no route changes or removes an entry (SECURITY.md, R8).
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from lms.db import Base, UTCDateTime, utcnow


class AuditEvent(Base):
    __tablename__ = "audit_events"
    __table_args__ = (
        # Login throttling counts recent failures per account and per address.
        sa.Index("ix_audit_events_action_subject_time", "action", "subject", "occurred_at"),
        sa.Index("ix_audit_events_action_ip_time", "action", "ip", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # No foreign key: the log must outlive (and never block) changes to people.
    actor_id: Mapped[int | None] = mapped_column(index=True)
    actor_email: Mapped[str | None] = mapped_column(sa.String(254))
    action: Mapped[str] = mapped_column(sa.String(64))
    # What the event is about: an account's email, a URL, an object.
    subject: Mapped[str | None] = mapped_column(sa.String(254))
    target_type: Mapped[str | None] = mapped_column(sa.String(40))
    target_id: Mapped[str | None] = mapped_column(sa.String(40))
    ip: Mapped[str | None] = mapped_column(sa.String(45))
    method: Mapped[str | None] = mapped_column(sa.String(10))
    path: Mapped[str | None] = mapped_column(sa.String(300))
    details: Mapped[str | None] = mapped_column(sa.Text)

    def __repr__(self) -> str:
        return f"<AuditEvent {self.id} {self.action} actor={self.actor_id}>"
