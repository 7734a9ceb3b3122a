"""The human resources report: participants and completion by sex, per course, track and
country; women's share among commanders trained and among trainers.

Participants are the people enrolled on a course (not the waitlist, not those who
withdrew); completion is the course's own rule, decided when the course ends
(``lms.courses.schedule``). So:

- courses not held yet (no session started) and cancelled courses are left out, and the
  report says how many, with how many participants;
- courses under way are listed and marked: their participants count as participants, but
  neither as completed nor in the completion rates, whose base is the participants of the
  courses that have ended. The participants of courses under way have their own columns,
  by sex, so every total can be checked.

The figures come from two grouped queries whatever the number of courses.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session, selectinload

from lms import db
from lms.courses import schedule
from lms.courses.schedule import Stage
from lms.i18n import COUNTRY_LABELS, SEX_LABELS, label
from lms.models import Country, Course, Enrolment, EnrolmentStatus, Role, RoleGrant, Sex, Track, User
from lms.reports.service import Filters, Scope, Tally
from lms.reports.tables import SEX_ORDER


@dataclass
class Completion:
    """Participants and completions, by sex. Completion is counted on the courses that have
    ended; ``under_way`` holds the participants of courses not over yet."""

    participants: Tally = field(default_factory=Tally)
    completed: Tally = field(default_factory=Tally)
    under_way: Tally = field(default_factory=Tally)

    def rate(self, sex: Sex | None = None) -> float | None:
        """Completed among the participants of the courses that have ended."""
        if sex is None:
            decided = self.participants.total - self.under_way.total
            done = self.completed.total
        else:
            decided = self.participants.by_sex[sex] - self.under_way.by_sex[sex]
            done = self.completed.by_sex[sex]
        return done / decided if decided else None

    @property
    def all_under_way(self) -> bool:
        """No completion figure yet: every participant is on a course under way."""
        return self.participants.total > 0 and self.under_way.total == self.participants.total

    def add(self, sex: Sex, participants: int, completed: int, *, under_way: bool = False) -> None:
        self.participants.add(sex, participants)
        self.completed.add(sex, completed)
        if under_way:
            self.under_way.add(sex, participants)


@dataclass
class LeftOut:
    """Courses the report leaves out, and how many people were enrolled on them."""

    courses: int = 0
    participants: int = 0


@dataclass
class HRReport:
    by_course: list[tuple[Course, Completion]]
    by_track: list[tuple[str, Completion]]
    by_country: list[tuple[str, Completion]]
    total: Completion
    trainers: Tally
    under_way_ids: set[int] = field(default_factory=set)
    not_held: LeftOut = field(default_factory=LeftOut)
    cancelled: LeftOut = field(default_factory=LeftOut)


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
        sa.select(Enrolment.course_id, User.sex, sa.func.count(), sa.func.count(sa.case((Enrolment.is_completed, 1))))
        .join(User, User.id == Enrolment.user_id)
        .where(Enrolment.status == EnrolmentStatus.ENROLLED, Enrolment.course_id.in_(_courses(filters, scope)))
        .group_by(Enrolment.course_id, User.sex)
    ).all()
    course_ids = {row[0] for row in grouped}
    courses = {
        course.id: course
        for course in session.scalars(
            sa.select(Course).where(Course.id.in_(course_ids or {-1})).options(selectinload(Course.sessions))
        )
    }
    now = db.utcnow()
    stages = {course_id: schedule.stage(course, now) for course_id, course in courses.items()}
    left_out = {Stage.NOT_STARTED: LeftOut(), Stage.CANCELLED: LeftOut()}
    for stage in stages.values():
        if stage in left_out:
            left_out[stage].courses += 1
    tracks = {track.id: track.title for track in session.scalars(sa.select(Track))}
    countries = {country.id: country for country in session.scalars(sa.select(Country))}
    per_course: dict[int, Completion] = {}
    per_track: dict[str, Completion] = {}
    per_country: dict[str, Completion] = {}
    total = Completion()
    for course_id, sex, participants, completed in grouped:
        course, stage = courses[course_id], stages[course_id]
        if stage in left_out:
            left_out[stage].participants += participants
            continue
        track = tracks.get(course.track_id) if course.track_id else None
        country = label(COUNTRY_LABELS, countries[course.country_id].code)
        for completion in (
            per_course.setdefault(course_id, Completion()),
            per_track.setdefault(track or str(_l("No track")), Completion()),
            per_country.setdefault(country, Completion()),
            total,
        ):
            completion.add(sex, participants, completed, under_way=stage == Stage.UNDER_WAY)
    order = sorted(per_course, key=lambda cid: (courses[cid].start_date, cid), reverse=True)
    return HRReport(
        by_course=[(courses[cid], per_course[cid]) for cid in order],
        by_track=sorted(per_track.items()),
        by_country=sorted(per_country.items()),
        total=total,
        trainers=_trainers(session, filters, scope),
        under_way_ids={course_id for course_id in per_course if stages[course_id] == Stage.UNDER_WAY},
        not_held=left_out[Stage.NOT_STARTED],
        cancelled=left_out[Stage.CANCELLED],
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
    """The columns of every table; those added later come last, so a sheet read by
    position keeps its meaning."""
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
        *(f"{_l('In courses under way')!s}: {name}" for name in sexes),
        str(_l("In courses under way")),
        str(_l("Course status")),
    ]


def _percent(value: float | None) -> Any:
    return "" if value is None else round(100 * value, 1)


def row(first: str, completion: Completion, status: str = "") -> list[Any]:
    """A table row; a course under way has no completion figures (empty cells, not zeros)."""
    pending = completion.all_under_way
    return [
        first,
        *(completion.participants.by_sex[sex] for sex in SEX_ORDER),
        completion.participants.total,
        *("" if pending else completion.completed.by_sex[sex] for sex in SEX_ORDER),
        "" if pending else completion.completed.total,
        _percent(completion.rate(Sex.FEMALE)),
        _percent(completion.rate(Sex.MALE)),
        _percent(completion.rate()),
        *(completion.under_way.by_sex[sex] for sex in SEX_ORDER),
        completion.under_way.total,
        status,
    ]


def sheets(hr: HRReport) -> list[tuple[str, list[str], Iterable[list[Any]]]]:
    """The report's tables for CSV and XLSX, each with its total last."""
    total = row(str(_l("Total")), hr.total)

    def course_row(course: Course, completion: Completion) -> list[Any]:
        status = _l("Under way") if course.id in hr.under_way_ids else _l("Ended")
        return row(f"{course.title} ({course.start_date.isoformat()})", completion, str(status))

    return [
        (
            str(_l("By course")),
            header(str(_l("Course"))),
            [*(course_row(course, c) for course, c in hr.by_course), total],
        ),
        (str(_l("By track")), header(str(_l("Learning track"))), [*(row(name, c) for name, c in hr.by_track), total]),
        (str(_l("By country")), header(str(_l("Country"))), [*(row(name, c) for name, c in hr.by_country), total]),
    ]
