"""Figures for the home dashboard."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lms import access, db
from lms.models import (
    Country,
    Course,
    CourseSession,
    CourseStatus,
    CourseTrainer,
    Enrolment,
    EnrolmentStatus,
    Notification,
    Sex,
    User,
)


@dataclass
class PeopleFigures:
    """People an actor manages, by country and sex. Every sex value is present, so
    "not recorded" is shown rather than dropped."""

    by_country: list[tuple[Country, dict[Sex, int]]]
    with_login: int

    @property
    def totals(self) -> dict[Sex, int]:
        return {sex: sum(counts[sex] for _, counts in self.by_country) for sex in Sex}

    @property
    def total(self) -> int:
        return sum(self.totals.values())


def people_figures(session: Session, *, actor: User) -> PeopleFigures:
    scope = access.managed_country_ids(actor)
    countries = session.scalars(sa.select(Country).order_by(Country.position)).all()
    counts_query = sa.select(User.country_id, User.sex, sa.func.count()).group_by(User.country_id, User.sex)
    login_query = sa.select(sa.func.count()).where(User.password_hash.is_not(None), User.is_active)
    if scope is not None:
        counts_query = counts_query.where(User.country_id.in_(scope))
        login_query = login_query.where(User.country_id.in_(scope))
    counts: dict[int, dict[Sex, int]] = {}
    for country_id, sex, count in session.execute(counts_query):
        counts.setdefault(country_id, dict.fromkeys(Sex, 0))[sex] = count
    rows = [
        (country, counts.get(country.id, dict.fromkeys(Sex, 0)))
        for country in countries
        if scope is None or country.id in scope
    ]
    return PeopleFigures(rows, session.scalar(login_query) or 0)


@dataclass
class CourseLine:
    course: Course
    enrolment_status: EnrolmentStatus | None
    next_session: CourseSession | None


def my_courses(session: Session, user: User) -> list[CourseLine]:
    """Courses a person is on or delivers that have not ended long ago, soonest first."""
    since = db.utcnow().date() - timedelta(days=30)
    statuses = dict(
        session.execute(
            sa.select(Enrolment.course_id, Enrolment.status).where(
                Enrolment.user_id == user.id,
                Enrolment.status.in_([EnrolmentStatus.ENROLLED, EnrolmentStatus.WAITLISTED, EnrolmentStatus.REQUESTED]),
            )
        )
        .tuples()
        .all()
    )
    delivering = set(session.scalars(sa.select(CourseTrainer.course_id).where(CourseTrainer.user_id == user.id)))
    ids = set(statuses) | delivering
    if not ids:
        return []
    courses = session.scalars(
        sa.select(Course)
        .where(Course.id.in_(ids), Course.end_date >= since, Course.status != CourseStatus.DRAFT)
        .order_by(Course.start_date)
    ).all()
    today = db.utcnow().date()
    lines = []
    for course in courses:
        upcoming = [s for s in course.sessions if s.date >= today and not s.is_cancelled]
        lines.append(CourseLine(course, statuses.get(course.id), upcoming[0] if upcoming else None))
    return lines


def unread_notices(session: Session, user: User) -> list[Notification]:
    return list(
        session.scalars(
            sa.select(Notification)
            .where(Notification.user_id == user.id, Notification.read_at.is_(None))
            .order_by(Notification.created_at.desc())
            .limit(20)
        )
    )
