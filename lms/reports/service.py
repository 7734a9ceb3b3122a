"""Staff trained: who counts, and the figures disaggregated by sex.

**The rule.** A person counts once, however many trainings they took, from the moment
they first completed a course (a completed enrolment) or first received a valid
certificate (of a course, a learning track or a coaching cycle). Revoked certificates do
not count. Filters narrow the events that count: a date range, a track, a course; the
country and institution breakdowns are those of the person.

**The queries.** Every figure of the dashboard comes from one grouped query over the
people trained (person's country, institution, category, sex, and the month they first
counted), whatever the number of people: the breakdowns and the trend are sums over its
rows. Listing the people behind a number uses the same events, with the group's values.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lms import access
from lms.models import (
    Category,
    Certificate,
    CertificateStatus,
    Course,
    CourseTrainer,
    Enrolment,
    EnrolmentStatus,
    Role,
    Sex,
    User,
)

MILITARY = frozenset({Category.CADET, Category.COMMANDER, Category.MILITARY_STAFF})
BRANCHES = ("military", "civilian", None)


@dataclass(frozen=True)
class Filters:
    start: date | None = None
    end: date | None = None
    country_id: int | None = None
    track_id: int | None = None
    course_id: int | None = None


@dataclass(frozen=True)
class Scope:
    """What an actor may count: people of some countries (``None``: all), or only the
    trainings of some courses (trainers: their own)."""

    country_ids: set[int] | None
    course_ids: set[int] | None = None


def scope_for(session: Session, actor: User) -> Scope | None:
    """Admins and coordinators see people in their countries; trainers the people of
    their own courses; anyone else nothing (None)."""
    if actor.has_role(Role.ADMIN, Role.COORDINATOR):
        return Scope(access.managed_country_ids(actor))
    if actor.has_role(Role.TRAINER):
        own = set(session.scalars(sa.select(CourseTrainer.course_id).where(CourseTrainer.user_id == actor.id)))
        return Scope(None, own)
    return None


def _moment(day: date, *, end: bool = False) -> datetime:
    # The window is in whole days; an end date includes its day.
    return datetime.combine(day + timedelta(days=1) if end else day, time(), tzinfo=UTC)


def events(filters: Filters, scope: Scope) -> sa.Subquery:
    """(user_id, at): every completed enrolment and valid certificate that counts."""
    completions = (
        sa.select(Enrolment.user_id.label("user_id"), Enrolment.completed_at.label("at"))
        .join(Course, Course.id == Enrolment.course_id)
        .where(Enrolment.status == EnrolmentStatus.ENROLLED, Enrolment.is_completed)
    )
    certificates = (
        sa.select(Certificate.holder_id.label("user_id"), Certificate.issued_at.label("at"))
        .outerjoin(Course, Course.id == Certificate.course_id)
        .where(Certificate.status == CertificateStatus.VALID)
    )
    parts = []
    certificate_track = sa.func.coalesce(Certificate.track_id, Course.track_id)
    for query, at, course_column, track_column in (
        (completions, Enrolment.completed_at, Enrolment.course_id, Course.track_id),
        (certificates, Certificate.issued_at, Certificate.course_id, certificate_track),
    ):
        if filters.start is not None:
            query = query.where(at >= _moment(filters.start))
        if filters.end is not None:
            query = query.where(at < _moment(filters.end, end=True))
        if filters.course_id is not None:
            query = query.where(course_column == filters.course_id)
        if filters.track_id is not None:
            query = query.where(track_column == filters.track_id)
        if scope.course_ids is not None:
            query = query.where(course_column.in_(scope.course_ids or {-1}))
        parts.append(query)
    return sa.union_all(*parts).subquery("events")


def trained(filters: Filters, scope: Scope) -> sa.Subquery:
    """(user_id, first_at): each person who counts, once, with the moment they first did."""
    happened = events(filters, scope)
    return (
        sa.select(happened.c.user_id, sa.func.min(happened.c.at).label("first_at"))
        .group_by(happened.c.user_id)
        .subquery("trained")
    )


def _month(column: Any, dialect: str) -> Any:
    if dialect == "postgresql":
        return sa.func.to_char(column, "YYYY-MM")
    return sa.func.strftime("%Y-%m", column)


def _people(filters: Filters, scope: Scope) -> tuple[sa.Subquery, list[Any]]:
    people = trained(filters, scope)
    conditions: list[Any] = []
    if scope.country_ids is not None:
        conditions.append(User.country_id.in_(scope.country_ids or {-1}))
    if filters.country_id is not None:
        conditions.append(User.country_id == filters.country_id)
    return people, conditions


# --- The figures ------------------------------------------------------------------------------


def sex_counts() -> dict[Sex, int]:
    return dict.fromkeys(Sex, 0)


@dataclass
class Tally:
    """Counts by sex; "not recorded" is always there, never dropped."""

    by_sex: dict[Sex, int] = field(default_factory=sex_counts)

    @property
    def total(self) -> int:
        return sum(self.by_sex.values())

    def share(self, sex: Sex) -> float:
        return self.by_sex[sex] / self.total if self.total else 0.0

    def add(self, sex: Sex, count: int) -> None:
        self.by_sex[sex] += count


@dataclass
class Figures:
    total: Tally
    by_country: dict[int, Tally]
    by_institution: dict[int | None, Tally]
    by_category: dict[Category | None, Tally]
    by_branch: dict[str | None, Tally]
    by_month: dict[str, Tally]  # people who first counted in the month

    def cumulative(self) -> list[tuple[str, int, Tally]]:
        """(month, running total, that month's new people), every month from the first."""
        months = sorted(self.by_month)
        if not months:
            return []
        out = []
        running = 0
        for month in _month_range(months[0], months[-1]):
            tally = self.by_month.get(month, Tally())
            running += tally.total
            out.append((month, running, tally))
        return out


def _month_range(first: str, last: str) -> Iterable[str]:
    year, month = int(first[:4]), int(first[5:7])
    while f"{year:04d}-{month:02d}" <= last:
        yield f"{year:04d}-{month:02d}"
        month += 1
        if month > 12:
            year, month = year + 1, 1


def branch_of(category: Category | None) -> str | None:
    if category is None:
        return None
    return "military" if category in MILITARY else "civilian"


def figures(session: Session, filters: Filters, scope: Scope) -> Figures:
    """Everything the dashboard shows, from one grouped query."""
    people, conditions = _people(filters, scope)
    month = _month(people.c.first_at, session.get_bind().dialect.name)
    grouped = (
        sa.select(User.country_id, User.institution_id, User.category, User.sex, month.label("month"), sa.func.count())
        .join(people, people.c.user_id == User.id)
        .where(*conditions)
        .group_by(User.country_id, User.institution_id, User.category, User.sex, month)
    )
    result = Figures(Tally(), {}, {}, {}, {}, {})
    for country_id, institution_id, category, sex, month_text, count in session.execute(grouped):
        result.total.add(sex, count)
        for table, key in (
            (result.by_country, country_id),
            (result.by_institution, institution_id),
            (result.by_category, category),
            (result.by_branch, branch_of(category)),
            (result.by_month, month_text),
        ):
            table.setdefault(key, Tally()).add(sex, count)
    return result


# --- The people behind a number ---------------------------------------------------------------


@dataclass(frozen=True)
class Group:
    """One cell of a table: the people of a country, an institution, a category, a
    branch, a sex, or who first counted in a month (``""`` for "not recorded")."""

    country_id: int | None = None
    institution_id: int | None = None
    institution_missing: bool = False
    category: Category | None = None
    category_missing: bool = False
    branch: str | None = None
    branch_missing: bool = False
    sex: Sex | None = None
    month: str | None = None


@dataclass
class PeoplePage:
    rows: list[tuple[User, datetime]]
    number: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages


def _group_conditions(group: Group, people: sa.Subquery, dialect: str) -> list[Any]:
    conditions: list[Any] = []
    if group.country_id is not None:
        conditions.append(User.country_id == group.country_id)
    if group.institution_missing:
        conditions.append(User.institution_id.is_(None))
    elif group.institution_id is not None:
        conditions.append(User.institution_id == group.institution_id)
    if group.category_missing:
        conditions.append(User.category.is_(None))
    elif group.category is not None:
        conditions.append(User.category == group.category)
    if group.branch_missing:
        conditions.append(User.category.is_(None))
    elif group.branch == "military":
        conditions.append(User.category.in_(MILITARY))
    elif group.branch == "civilian":
        conditions.append(User.category.is_not(None) & User.category.not_in(MILITARY))
    if group.sex is not None:
        conditions.append(User.sex == group.sex)
    if group.month is not None:
        conditions.append(_month(people.c.first_at, dialect) == group.month)
    return conditions


def people_in(
    session: Session, filters: Filters, scope: Scope, group: Group, *, page: int = 1, per_page: int = 50
) -> PeoplePage:
    people, conditions = _people(filters, scope)
    conditions += _group_conditions(group, people, session.get_bind().dialect.name)
    base = sa.select(User, people.c.first_at).join(people, people.c.user_id == User.id).where(*conditions)
    total = session.scalar(sa.select(sa.func.count()).select_from(base.subquery())) or 0
    number = max(1, min(page, max(1, math.ceil(total / per_page))))
    rows = session.execute(base.order_by(User.sort_name, User.id).offset((number - 1) * per_page).limit(per_page))
    return PeoplePage([(user, first_at) for user, first_at in rows], number, per_page, total)


def all_people(session: Session, filters: Filters, scope: Scope) -> list[tuple[User, datetime]]:
    """Everyone who counts (for the person-level export), alphabetically."""
    people, conditions = _people(filters, scope)
    rows = session.execute(
        sa.select(User, people.c.first_at)
        .join(people, people.c.user_id == User.id)
        .where(*conditions)
        .order_by(User.sort_name, User.id)
    )
    return [(user, first_at) for user, first_at in rows]
