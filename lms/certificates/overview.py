"""What the coordinators' certificates page lists: courses with people to certify, tracks,
and recent print jobs."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lms.certificates import eligibility
from lms.models import Certificate, Course, CourseStatus, Enrolment, EnrolmentStatus, PrintJob, Track, User


@dataclass(frozen=True)
class CourseRow:
    course: Course
    completed: int
    certified: int

    @property
    def eligible(self) -> int:
        return max(self.completed - self.certified, 0)


def course_rows(session: Session, country_ids: set[int] | None) -> list[CourseRow]:
    """Courses with at least one person who completed them (so courses that have ended), newest first."""
    completed = (
        sa.select(Enrolment.course_id, sa.func.count().label("n"))
        .where(Enrolment.status == EnrolmentStatus.ENROLLED, Enrolment.is_completed)
        .group_by(Enrolment.course_id)
        .subquery()
    )
    # Certificates of people whose completion still stands (not those revoked).
    certified = (
        sa.select(Certificate.course_id, sa.func.count().label("n"))
        .join(
            Enrolment,
            sa.and_(Enrolment.course_id == Certificate.course_id, Enrolment.user_id == Certificate.holder_id),
        )
        .where(Enrolment.is_completed, Enrolment.status == EnrolmentStatus.ENROLLED)
        .group_by(Certificate.course_id)
        .subquery()
    )
    query = (
        sa.select(Course, completed.c.n, sa.func.coalesce(certified.c.n, 0))
        .join(completed, completed.c.course_id == Course.id)
        .outerjoin(certified, certified.c.course_id == Course.id)
        .where(Course.status != CourseStatus.CANCELLED)
        .order_by(Course.end_date.desc(), Course.id.desc())
    )
    if country_ids is not None:
        query = query.where(Course.country_id.in_(country_ids))
    return [CourseRow(course, done, certs) for course, done, certs in session.execute(query)]


@dataclass(frozen=True)
class TrackRow:
    track: Track
    eligible: int


def track_rows(session: Session, country_ids: set[int] | None) -> list[TrackRow]:
    tracks = session.scalars(sa.select(Track).where(Track.archived_at.is_(None)).order_by(Track.position)).all()
    return [
        TrackRow(track, len(eligibility.track_achievements(session, track, country_ids=country_ids)))
        for track in tracks
    ]


def recent_jobs(session: Session, actor: User, limit: int = 10) -> list[PrintJob]:
    return list(
        session.scalars(
            sa.select(PrintJob).where(PrintJob.created_by_id == actor.id).order_by(PrintJob.id.desc()).limit(limit)
        )
    )
