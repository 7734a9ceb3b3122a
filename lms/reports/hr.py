"""The human resources report: participants and completion by sex, per course, track and
country; women's share among commanders trained and among trainers.

Participants are the people enrolled on a course (not the waitlist, not those who
withdrew); completion is the course's own rule. The figures come from two grouped
queries whatever the number of courses.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from lms.i18n import COUNTRY_LABELS, SEX_LABELS, label
from lms.models import Country, Course, Enrolment, EnrolmentStatus, Role, RoleGrant, Sex, Track, User
from lms.reports.service import Filters, Scope, Tally
from lms.reports.tables import SEX_ORDER


@dataclass
class Completion:
    """Participants and completions, by sex."""

    participants: Tally = field(default_factory=Tally)
    completed: Tally = field(default_factory=Tally)

    def rate(self, sex: Sex | None = None) -> float | None:
        enrolled = self.participants.total if sex is None else self.participants.by_sex[sex]
        done = self.completed.total if sex is None else self.completed.by_sex[sex]
        return done / enrolled if enrolled else None

    def add(self, sex: Sex, participants: int, completed: int) -> None:
        self.participants.add(sex, participants)
        self.completed.add(sex, completed)


@dataclass
class HRReport:
    by_course: list[tuple[Course, Completion]]
    by_track: list[tuple[str, Completion]]
    by_country: list[tuple[str, Completion]]
    total: Completion
    trainers: Tally


def _courses(filters: Filters, scope: Scope) -> sa.Select[Any]:
    query = sa.select(Course.id)
    if filters.start is not None:
        query = query.where(Course.end_date >= filters.start)
    if filters.end is not None:
        query = query.where(Course.start_date <= filters.end)
    if filters.course_id is not None:
        query = query.where(Course.id == filters.course_id)
    if filters.track_id is not None:
        query = query.where(Course.track_id == filters.track_id)
    if filters.country_id is not None:
        query = query.where(Course.country_id == filters.country_id)
    if scope.course_ids is not None:
        query = query.where(Course.id.in_(scope.course_ids or {-1}))
    if scope.country_ids is not None:
        query = query.where(Course.country_id.in_(scope.country_ids or {-1}))
    return query


def report(session: Session, filters: Filters, scope: Scope) -> HRReport:
    grouped = session.execute(
        sa.select(Enrolment.course_id, User.sex, sa.func.count(), sa.func.count(Enrolment.completed_at))
        .join(User, User.id == Enrolment.user_id)
        .where(Enrolment.status == EnrolmentStatus.ENROLLED, Enrolment.course_id.in_(_courses(filters, scope)))
        .group_by(Enrolment.course_id, User.sex)
    ).all()
    course_ids = {row[0] for row in grouped}
    courses = {
        course.id: course for course in session.scalars(sa.select(Course).where(Course.id.in_(course_ids or {-1})))
    }
    tracks = {track.id: track.title for track in session.scalars(sa.select(Track))}
    countries = {country.id: country for country in session.scalars(sa.select(Country))}
    per_course: dict[int, Completion] = {}
    per_track: dict[str, Completion] = {}
    per_country: dict[str, Completion] = {}
    total = Completion()
    for course_id, sex, participants, completed in grouped:
        course = courses[course_id]
        track = tracks.get(course.track_id) if course.track_id else None
        country = label(COUNTRY_LABELS, countries[course.country_id].code)
        for completion in (
            per_course.setdefault(course_id, Completion()),
            per_track.setdefault(track or str(_l("No track")), Completion()),
            per_country.setdefault(country, Completion()),
            total,
        ):
            completion.add(sex, participants, completed)
    order = sorted(per_course, key=lambda cid: (courses[cid].start_date, cid), reverse=True)
    return HRReport(
        by_course=[(courses[cid], per_course[cid]) for cid in order],
        by_track=sorted(per_track.items()),
        by_country=sorted(per_country.items()),
        total=total,
        trainers=_trainers(session, filters, scope),
    )


def _trainers(session: Session, filters: Filters, scope: Scope) -> Tally:
    """The network's trainers (people with the trainer role), by sex."""
    query = (
        sa.select(User.sex, sa.func.count())
        .where(User.role_grants.any(RoleGrant.role == Role.TRAINER), User.is_active)
        .group_by(User.sex)
    )
    if scope.country_ids is not None:
        query = query.where(User.country_id.in_(scope.country_ids or {-1}))
    if filters.country_id is not None:
        query = query.where(User.country_id == filters.country_id)
    tally = Tally()
    for sex, count in session.execute(query):
        tally.add(sex, count)
    return tally


def header(first: str) -> list[str]:
    sexes = [label(SEX_LABELS, sex) for sex in SEX_ORDER]
    return [
        first,
        *(f"{_l('Participants')!s}: {name}" for name in sexes),
        str(_l("Participants")),
        *(f"{_l('Completed')!s}: {name}" for name in sexes),
        str(_l("Completed")),
        str(_l("Completion rate, women (%)")),
        str(_l("Completion rate, men (%)")),
        str(_l("Completion rate (%)")),
    ]


def _percent(value: float | None) -> Any:
    return "" if value is None else round(100 * value, 1)


def row(first: str, completion: Completion) -> list[Any]:
    return [
        first,
        *(completion.participants.by_sex[sex] for sex in SEX_ORDER),
        completion.participants.total,
        *(completion.completed.by_sex[sex] for sex in SEX_ORDER),
        completion.completed.total,
        _percent(completion.rate(Sex.FEMALE)),
        _percent(completion.rate(Sex.MALE)),
        _percent(completion.rate()),
    ]


def sheets(hr: HRReport) -> list[tuple[str, list[str], Iterable[list[Any]]]]:
    """The report's tables for CSV and XLSX, each with its total last."""
    total = row(str(_l("Total")), hr.total)
    return [
        (
            str(_l("By course")),
            header(str(_l("Course"))),
            [*(row(f"{course.title} ({course.start_date.isoformat()})", c) for course, c in hr.by_course), total],
        ),
        (str(_l("By track")), header(str(_l("Learning track"))), [*(row(name, c) for name, c in hr.by_track), total]),
        (str(_l("By country")), header(str(_l("Country"))), [*(row(name, c) for name, c in hr.by_country), total]),
    ]
