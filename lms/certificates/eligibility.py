"""Who may receive a certificate, and what it will say.

Three achievements lead to a certificate: completing a course (the course's completion
rule, see ``lms.courses.attendance``; only once the course has ended, so a certificate never
speaks of a course still under way), completing every module of a track, and completing
a cycle of the Gender Coach Programme. Each is an :class:`Achievement`, a snapshot of
what the certificate prints; people who already hold a certificate for it are not eligible.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lms.courses import schedule
from lms.courses.schedule import REGION_ZONE
from lms.models import (
    AchievementKind,
    Certificate,
    CoachingPairing,
    CoachingSession,
    CoachingSessionStatus,
    Course,
    CourseModule,
    Enrolment,
    EnrolmentStatus,
    Module,
    ModuleCompletion,
    ModuleRevision,
    PairingStatus,
    Track,
    User,
)

NETWORK = "Regional Network of Gender Trainers"
COACH_PROGRAMME = "Gender Coach Programme"


def local_date(moment: datetime) -> date:
    """Dates on certificates are the region's calendar dates, not UTC ones."""
    return moment.astimezone(REGION_ZONE).date()


@dataclass
class Achievement:
    kind: AchievementKind
    key: str
    holder: User
    title: str
    minutes: int
    start_date: date
    end_date: date
    country_id: int
    issuers: list[str]
    modules: list[dict[str, object]] = field(default_factory=list)
    language: str | None = None
    course_id: int | None = None
    track_id: int | None = None
    pairing_id: int | None = None


def course_key(course_id: int) -> str:
    return f"course:{course_id}"


def track_key(track_id: int) -> str:
    return f"track:{track_id}"


def coaching_key(pairing_id: int) -> str:
    return f"coaching:{pairing_id}"


def certified_holders(session: Session, key: str) -> set[int]:
    return set(session.scalars(sa.select(Certificate.holder_id).where(Certificate.achievement_key == key)))


def _second_language(language: str | None) -> str | None:
    return language if language and language != "en" else None


def _module_versions(
    session: Session, modules: list[Module], user_ids: Iterable[int]
) -> dict[int, list[dict[str, object]]]:
    """Per person, each module with the version they completed (else the current one)."""
    user_ids = list(user_ids)
    completed: dict[tuple[int, int], int] = {}
    if modules and user_ids:
        for user_id, module_id, version in session.execute(
            sa.select(ModuleCompletion.user_id, ModuleCompletion.module_id, ModuleRevision.version)
            .join(ModuleRevision, ModuleRevision.id == ModuleCompletion.revision_id)
            .where(
                ModuleCompletion.module_id.in_([module.id for module in modules]),
                ModuleCompletion.user_id.in_(user_ids),
            )
        ):
            completed[(user_id, module_id)] = version
    return {
        user_id: [
            {"title": module.title, "version": completed.get((user_id, module.id), module.version)}
            for module in modules
        ]
        for user_id in user_ids
    }


# --- Courses ---------------------------------------------------------------------------------


def course_minutes(course: Course) -> int:
    total = 0
    for meeting in course.sessions:
        if not meeting.is_cancelled:
            start = meeting.start_time.hour * 60 + meeting.start_time.minute
            end = meeting.end_time.hour * 60 + meeting.end_time.minute
            total += end - start
    return total


def course_achievements(session: Session, course: Course, *, include_certified: bool = False) -> list[Achievement]:
    """Everyone who completed ``course``, in roster (alphabetical) order; nobody while the
    course has not ended (or was cancelled)."""
    if not schedule.has_ended(course):
        return []
    enrolments = session.scalars(
        sa.select(Enrolment)
        .join(User, User.id == Enrolment.user_id)
        .where(
            Enrolment.course_id == course.id,
            Enrolment.status == EnrolmentStatus.ENROLLED,
            Enrolment.is_completed,
        )
        .order_by(User.sort_name, User.id)
    ).all()
    key = course_key(course.id)
    skip = set() if include_certified else certified_holders(session, key)
    people = [enrolment.user for enrolment in enrolments if enrolment.user_id not in skip]
    modules = list(
        session.scalars(
            sa.select(Module)
            .join(CourseModule, CourseModule.module_id == Module.id)
            .where(CourseModule.course_id == course.id)
            .order_by(CourseModule.position)
        )
    )
    versions = _module_versions(session, modules, [person.id for person in people])
    issuers = [NETWORK] + ([course.host_institution.name] if course.host_institution else [])
    minutes = course_minutes(course)
    return [
        Achievement(
            kind=AchievementKind.COURSE,
            key=key,
            holder=person,
            title=course.title,
            minutes=minutes,
            # The days it was held: an end date planned later than the last session would
            # date the certificate after the course.
            start_date=schedule.first_day(course),
            end_date=schedule.last_day(course),
            country_id=course.country_id,
            issuers=issuers,
            modules=versions[person.id],
            language=_second_language(course.language),
            course_id=course.id,
        )
        for person in people
    ]


# --- Tracks ----------------------------------------------------------------------------------


def track_achievements(
    session: Session, track: Track, *, country_ids: set[int] | None, include_certified: bool = False
) -> list[Achievement]:
    """Everyone (in the given countries) who completed every active module of ``track``."""
    modules = list(
        session.scalars(
            sa.select(Module)
            .where(Module.track_id == track.id, Module.archived_at.is_(None))
            .order_by(Module.position, Module.id)
        )
    )
    if not modules:
        return []
    finished = (
        sa.select(
            ModuleCompletion.user_id,
            sa.func.min(ModuleCompletion.completed_at).label("first"),
            sa.func.max(ModuleCompletion.completed_at).label("last"),
        )
        .where(ModuleCompletion.module_id.in_([module.id for module in modules]))
        .group_by(ModuleCompletion.user_id)
        .having(sa.func.count(sa.distinct(ModuleCompletion.module_id)) == len(modules))
        .subquery()
    )
    query = sa.select(User, finished.c.first, finished.c.last).join(finished, finished.c.user_id == User.id)
    if country_ids is not None:
        query = query.where(User.country_id.in_(country_ids))
    key = track_key(track.id)
    skip = set() if include_certified else certified_holders(session, key)
    rows = [row for row in session.execute(query.order_by(User.sort_name, User.id)) if row[0].id not in skip]
    versions = _module_versions(session, modules, [row[0].id for row in rows])
    minutes = sum(module.estimated_minutes for module in modules)
    return [
        Achievement(
            kind=AchievementKind.TRACK,
            key=key,
            holder=person,
            title=track.title,
            minutes=minutes,
            start_date=local_date(first),
            end_date=local_date(last),
            country_id=person.country_id,
            issuers=[NETWORK],
            modules=versions[person.id],
            language=_second_language(person.preferred_language),
            track_id=track.id,
        )
        for person, first, last in rows
    ]


# --- The Gender Coach Programme ------------------------------------------------------------


def coaching_achievements(
    session: Session, *, country_ids: set[int] | None, include_certified: bool = False
) -> list[Achievement]:
    """Commanders (in the given countries) whose coaching cycle was completed."""
    query = (
        sa.select(CoachingPairing)
        .join(User, User.id == CoachingPairing.commander_id)
        .where(CoachingPairing.status == PairingStatus.COMPLETED)
        .order_by(User.sort_name, CoachingPairing.id)
    )
    if country_ids is not None:
        query = query.where(User.country_id.in_(country_ids))
    pairings = session.scalars(query).all()
    certified = set() if include_certified else set(
        session.scalars(
            sa.select(Certificate.achievement_key).where(Certificate.kind == AchievementKind.COACHING)
        )
    )  # fmt: skip
    pairings = [pairing for pairing in pairings if coaching_key(pairing.id) not in certified]
    minutes: dict[int, int] = {}
    if pairings:
        # (A Result has keys(): dict() would take it for a mapping.)
        minutes = {
            pairing_id: total
            for pairing_id, total in session.execute(
                sa.select(CoachingSession.pairing_id, sa.func.sum(CoachingSession.duration_minutes))
                .where(
                    CoachingSession.pairing_id.in_([pairing.id for pairing in pairings]),
                    CoachingSession.status == CoachingSessionStatus.HELD,
                )
                .group_by(CoachingSession.pairing_id)
            )
        }
    return [
        Achievement(
            kind=AchievementKind.COACHING,
            key=coaching_key(pairing.id),
            holder=pairing.commander,
            title=f"{COACH_PROGRAMME} ({pairing.level.value} level)",
            minutes=int(minutes.get(pairing.id) or 0),
            start_date=pairing.start_date,
            end_date=local_date(pairing.completed_at) if pairing.completed_at else pairing.end_date,
            country_id=pairing.commander.country_id,
            issuers=[COACH_PROGRAMME, NETWORK],
            language=_second_language(pairing.commander.preferred_language),
            pairing_id=pairing.id,
        )
        for pairing in pairings
    ]
