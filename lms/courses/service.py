"""Courses and their sessions: plan, edit, duplicate, publish, cancel.

As everywhere, functions take the acting person, check the rules, ``flush()`` and leave
the commit to the caller. Rules that only deserve a warning (a trainer booked twice, a
session outside the course dates) are returned for the form to show, not raised.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from lms import access, db
from lms.audit.service import record
from lms.courses import schedule
from lms.models import (
    Country,
    Course,
    CourseMode,
    CourseModule,
    CourseSession,
    CourseStatus,
    CourseTrainer,
    Enrolment,
    EnrolmentMode,
    EnrolmentStatus,
    Institution,
    Module,
    Notification,
    Role,
    Track,
    User,
)


class CourseError(Exception):
    """A rule was broken; ``field`` names the form field for the message."""

    def __init__(self, message: object, field: str | None = None) -> None:
        super().__init__(str(message))
        self.message = str(message)
        self.field = field


class CourseAction:
    CREATED = "course.created"
    UPDATED = "course.updated"
    DUPLICATED = "course.duplicated"
    STATUS = "course.status_changed"
    SESSION_SAVED = "course.session_saved"
    SESSION_CANCELLED = "course.session_cancelled"
    ENROLLED = "course.enrolled"
    WITHDRAWN = "course.withdrawn"
    ROSTER_IMPORTED = "course.roster_imported"
    ATTENDANCE = "course.attendance_recorded"
    RESULT_OVERRIDDEN = "course.result_overridden"
    EXPORTED = "course.roster_exported"


@dataclass
class CourseData:
    title: str
    country_id: int
    mode: CourseMode
    language: str
    start_date: date
    end_date: date
    capacity: int
    enrolment_mode: EnrolmentMode
    track_id: int | None = None
    module_ids: list[int] = field(default_factory=list)
    trainer_ids: list[int] = field(default_factory=list)
    host_institution_id: int | None = None
    venue: str | None = None
    online_link: str | None = None
    description: str | None = None
    attendance_threshold: int = 80
    require_modules: bool = True


# --- Loading with access checks ------------------------------------------------------


def get_course_for_manager(session: Session, course_id: int, actor: User) -> Course:
    """A course ``actor`` may manage. Unknown ids are 404; others' courses 403 (audited)."""
    course = session.get(Course, course_id)
    if course is None:
        access.deny(404, reason="no such course")
    if not access.can_manage_course(actor, course):
        access.deny(403, reason="course not delivered by the actor", target=course)
    return course


def get_course_for_viewer(session: Session, course_id: int, actor: User) -> tuple[Course, Enrolment | None]:
    """A course ``actor`` manages, is enrolled in, or may ask to join; else 404 (audited)."""
    course = session.get(Course, course_id)
    enrolment = None
    if course is not None:
        enrolment = session.scalar(
            sa.select(Enrolment).where(Enrolment.course_id == course.id, Enrolment.user_id == actor.id)
        )
    visible = course is not None and (
        access.can_manage_course(actor, course) or enrolment is not None or is_open_to(course, actor)
    )
    if not visible:
        access.deny(404, reason="course not visible to the actor", target=course)
    return course, enrolment


def is_open_to(course: Course, person: User) -> bool:
    """Whether ``person`` may ask to join: open, published, not over, and in their country
    (or a regional course)."""
    return (
        course.enrolment_mode == EnrolmentMode.OPEN_WITH_APPROVAL
        and course.status == CourseStatus.PUBLISHED
        and course.end_date >= db.utcnow().date()
        and (course.country_id == person.country_id or course.country.code == "REG")
    )


# --- Listing --------------------------------------------------------------------------------


def courses_for(
    session: Session, actor: User, *, status: CourseStatus | None = None, country_id: int | None = None
) -> list[Course]:
    """The courses ``actor`` manages: all (in their country) for admins and coordinators,
    those they deliver for trainers. Newest first."""
    query = sa.select(Course).order_by(Course.start_date.desc(), Course.id.desc())
    scope = access.managed_country_ids(actor)
    if scope is not None and not scope:
        query = query.where(Course.trainers.any(CourseTrainer.user_id == actor.id))
    elif scope is not None:
        query = query.where(
            sa.or_(Course.country_id.in_(scope), Course.trainers.any(CourseTrainer.user_id == actor.id))
        )
    if status is not None:
        query = query.where(Course.status == status)
    if country_id is not None:
        query = query.where(Course.country_id == country_id)
    return list(session.scalars(query))


def open_courses_for(session: Session, person: User) -> list[Course]:
    """Published courses ``person`` may ask to join."""
    query = (
        sa.select(Course)
        .join(Country, Country.id == Course.country_id)
        .where(
            Course.enrolment_mode == EnrolmentMode.OPEN_WITH_APPROVAL,
            Course.status == CourseStatus.PUBLISHED,
            Course.end_date >= db.utcnow().date(),
            sa.or_(Course.country_id == person.country_id, Country.code == "REG"),
        )
        .order_by(Course.start_date)
    )
    return list(session.scalars(query))


def enrolled_counts(session: Session, course_ids: list[int]) -> dict[int, dict[EnrolmentStatus, int]]:
    counts: dict[int, dict[EnrolmentStatus, int]] = {course_id: {} for course_id in course_ids}
    if course_ids:
        rows = session.execute(
            sa.select(Enrolment.course_id, Enrolment.status, sa.func.count())
            .where(Enrolment.course_id.in_(course_ids))
            .group_by(Enrolment.course_id, Enrolment.status)
        )
        for course_id, status, count in rows:
            counts[course_id][status] = count
    return counts


# --- Creating and editing --------------------------------------------------------------


def _check(session: Session, data: CourseData, actor: User | None, course: Course | None = None) -> None:
    if data.end_date < data.start_date:
        raise CourseError(_l("The course cannot end before it starts."), "end_date")
    if data.capacity < 1:
        raise CourseError(_l("The capacity must be at least 1."), "capacity")
    country = session.get(Country, data.country_id)
    if country is None:
        raise CourseError(_l("Choose a country."), "country_id")
    if actor is not None:
        scope = access.reach_country_ids(actor)
        changing_country = course is None or course.country_id != data.country_id
        if scope is not None and changing_country and data.country_id not in scope:
            raise CourseError(_l("You can only plan courses in your own country."), "country_id")
    if data.host_institution_id is not None:
        institution = session.get(Institution, data.host_institution_id)
        if institution is None:
            raise CourseError(_l("Choose one of the listed institutions."), "host_institution_id")
    if data.mode in {CourseMode.ONLINE, CourseMode.BLENDED} and not data.online_link:
        raise CourseError(_l("An online or blended course needs its online link."), "online_link")
    if data.mode in {CourseMode.IN_PERSON, CourseMode.BLENDED} and not data.venue:
        raise CourseError(_l("A course that meets in person needs its venue."), "venue")
    if data.track_id is not None and session.get(Track, data.track_id) is None:
        raise CourseError(_l("Choose one of the listed tracks."), "track_id")
    if course is not None:
        enrolled = session.scalar(
            sa.select(sa.func.count()).where(
                Enrolment.course_id == course.id, Enrolment.status == EnrolmentStatus.ENROLLED
            )
        )
        if data.capacity < (enrolled or 0):
            raise CourseError(
                _l("%(count)d people are already enrolled: the capacity cannot be lower.", count=enrolled), "capacity"
            )
    trainers = session.scalars(sa.select(User).where(User.id.in_(data.trainer_ids))).all() if data.trainer_ids else []
    if not trainers or any(not person.has_role(Role.TRAINER) for person in trainers):
        raise CourseError(_l("Choose at least one trainer of the network."), "trainer_ids")


def _module_ids(session: Session, data: CourseData) -> list[int]:
    """The modules chosen, else those of the chosen track, in the track's order."""
    if data.module_ids:
        found = session.scalars(
            sa.select(Module.id).where(Module.id.in_(data.module_ids), Module.archived_at.is_(None))
        ).all()
        return [module_id for module_id in dict.fromkeys(data.module_ids) if module_id in set(found)]
    if data.track_id is not None:
        return list(
            session.scalars(
                sa.select(Module.id)
                .where(Module.track_id == data.track_id, Module.archived_at.is_(None))
                .order_by(Module.position)
            )
        )
    return []


def _apply(session: Session, course: Course, data: CourseData) -> None:
    for name in (
        "title", "country_id", "mode", "language", "start_date", "end_date", "capacity", "enrolment_mode",
        "track_id", "host_institution_id", "venue", "online_link", "description", "attendance_threshold",
        "require_modules",
    ):  # fmt: skip
        setattr(course, name, getattr(data, name))
    # Links to modules kept are updated, not replaced: a new row for the same module would be
    # inserted before the old one is deleted, against the one-link-per-module constraint.
    kept = {link.module_id: link for link in course.modules}
    course.modules = [
        kept.get(module_id) or CourseModule(module_id=module_id) for module_id in _module_ids(session, data)
    ]
    for index, link in enumerate(course.modules):
        link.position = index
    existing = {link.user_id: link for link in course.trainers}
    course.trainers = [
        existing.get(user_id) or CourseTrainer(user_id=user_id) for user_id in dict.fromkeys(data.trainer_ids)
    ]


def create_course(session: Session, data: CourseData, *, actor: User | None) -> Course:
    _check(session, data, actor)
    course = Course(created_by_id=actor.id if actor else None, status=CourseStatus.DRAFT)
    _apply(session, course, data)
    session.add(course)
    session.flush()
    record(session, CourseAction.CREATED, actor=actor, target=course, subject=course.title[:254])
    return course


def update_course(session: Session, course: Course, data: CourseData, *, actor: User | None) -> None:
    _check(session, data, actor, course)
    _apply(session, course, data)
    session.flush()
    record(session, CourseAction.UPDATED, actor=actor, target=course)
    from lms.courses.enrolment import promote_waitlist

    promote_waitlist(session, course)
    _refresh_results(session, course)  # the rule, the modules or the dates may have changed


def _refresh_results(session: Session, course: Course) -> None:
    """Results follow the course's rule, schedule and status (``lms.courses.attendance``)."""
    from lms.courses.attendance import refresh_results

    refresh_results(session, course)


def duplicate_course(session: Session, course: Course, *, actor: User | None) -> Course:
    """A new draft with the same plan, its sessions shifted to keep their weekdays, and no one enrolled."""
    copy = Course(
        title=str(_l("%(title)s (copy)", title=course.title))[:200],
        created_by_id=actor.id if actor else None,
        status=CourseStatus.DRAFT,
    )
    for name in (
        "description", "track_id", "country_id", "host_institution_id", "venue", "online_link", "mode",
        "language", "start_date", "end_date", "capacity", "enrolment_mode", "attendance_threshold",
        "require_modules",
    ):  # fmt: skip
        setattr(copy, name, getattr(course, name))
    copy.modules = [CourseModule(module_id=link.module_id, position=link.position) for link in course.modules]
    copy.trainers = [CourseTrainer(user_id=link.user_id) for link in course.trainers]
    copy.sessions = [
        CourseSession(date=s.date, start_time=s.start_time, end_time=s.end_time, topic=s.topic, trainer_id=s.trainer_id)
        for s in course.sessions
        if not s.is_cancelled
    ]
    session.add(copy)
    session.flush()
    record(session, CourseAction.DUPLICATED, actor=actor, target=copy, details={"from": course.id})
    return copy


ALLOWED_TRANSITIONS = {
    CourseStatus.DRAFT: {CourseStatus.PUBLISHED, CourseStatus.CANCELLED},
    CourseStatus.PUBLISHED: {CourseStatus.IN_PROGRESS, CourseStatus.CANCELLED, CourseStatus.DRAFT},
    CourseStatus.IN_PROGRESS: {CourseStatus.COMPLETED, CourseStatus.CANCELLED},
    CourseStatus.COMPLETED: {CourseStatus.IN_PROGRESS},
    CourseStatus.CANCELLED: set(),
}


def change_status(
    session: Session, course: Course, status: CourseStatus, *, actor: User | None, reason: str | None = None
) -> None:
    """Move a course along draft → published → in progress → completed, or cancel it.

    Cancelling needs a reason and tells everyone enrolled or waiting, on their dashboard;
    a cancelled course completes nobody. A course is marked completed only once its last
    session has ended.
    """
    if status not in ALLOWED_TRANSITIONS[course.status]:
        raise CourseError(_l("This course cannot go from its current status to the one chosen."))
    if status == CourseStatus.COMPLETED and not schedule.has_ended(course):
        ends = schedule.ends_at(course)
        raise CourseError(
            _l(
                "This course is not over: its last session ends on %(date)s at %(time)s. "
                "Mark it completed after that; results are decided then.",
                date=ends.date().isoformat(),
                time=ends.strftime("%H:%M"),
            )
        )
    if status == CourseStatus.PUBLISHED and not course.sessions:
        raise CourseError(_l("Schedule at least one session before publishing the course."))
    if status == CourseStatus.CANCELLED:
        if not reason:
            raise CourseError(_l("Give the reason for cancelling: the people enrolled will see it."), "reason")
        course.cancel_reason = reason
        notify_enrolled(session, course, "course_cancelled", reason=reason)
    record(session, CourseAction.STATUS, actor=actor, target=course, details={"from": course.status, "to": status})
    course.status = status
    session.flush()
    _refresh_results(session, course)


def notify_enrolled(
    session: Session, course: Course, kind: str, *, reason: str | None, course_session: CourseSession | None = None
) -> int:
    """Leave a dashboard notice for everyone enrolled or waiting; returns how many."""
    people = session.scalars(
        sa.select(Enrolment.user_id).where(
            Enrolment.course_id == course.id,
            Enrolment.status.in_([EnrolmentStatus.ENROLLED, EnrolmentStatus.WAITLISTED, EnrolmentStatus.REQUESTED]),
        )
    ).all()
    for user_id in people:
        session.add(
            Notification(
                user_id=user_id,
                kind=kind,
                course_id=course.id,
                session_id=course_session.id if course_session else None,
                reason=reason,
            )
        )
    return len(people)


# --- Sessions ---------------------------------------------------------------------------------


@dataclass
class SessionData:
    date: date
    start_time: time
    end_time: time
    topic: str
    trainer_id: int | None


def session_warnings(
    session: Session, course: Course, data: SessionData, *, exclude_id: int | None = None
) -> list[str]:
    """What deserves a second look before saving a session, without forbidding it."""
    warnings = []
    if not course.start_date <= data.date <= course.end_date:
        warnings.append(
            str(
                _l(
                    "This session falls outside the course dates (%(start)s to %(end)s).",
                    start=course.start_date.isoformat(),
                    end=course.end_date.isoformat(),
                )
            )
        )
    if data.trainer_id is not None:
        clash = session.scalar(
            sa.select(CourseSession)
            .join(Course, Course.id == CourseSession.course_id)
            .where(
                CourseSession.trainer_id == data.trainer_id,
                CourseSession.date == data.date,
                CourseSession.start_time < data.end_time,
                CourseSession.end_time > data.start_time,
                CourseSession.cancelled_at.is_(None),
                Course.status != CourseStatus.CANCELLED,
                CourseSession.id != (exclude_id or 0),
            )
            .limit(1)
        )
        if clash is not None:
            warnings.append(
                str(
                    _l(
                        "The trainer is already booked then: %(course)s, %(start)s–%(end)s.",
                        course=clash.course.title,
                        start=clash.start_time.strftime("%H:%M"),
                        end=clash.end_time.strftime("%H:%M"),
                    )
                )
            )
    return warnings


def _check_session(course: Course, data: SessionData) -> None:
    if data.end_time <= data.start_time:
        raise CourseError(_l("A session must end after it starts."), "end_time")
    if data.trainer_id is not None and data.trainer_id not in course.trainer_ids:
        raise CourseError(_l("Choose one of the course's trainers."), "trainer_id")


def save_session(
    session: Session, course: Course, data: SessionData, *, actor: User | None, existing: CourseSession | None = None
) -> CourseSession:
    _check_session(course, data)
    target = existing or CourseSession(course=course)
    if existing is not None:
        target.sequence += 1
    target.date, target.start_time, target.end_time = data.date, data.start_time, data.end_time
    target.topic, target.trainer_id = data.topic, data.trainer_id
    session.add(target)
    session.flush()
    record(session, CourseAction.SESSION_SAVED, actor=actor, target=target, details={"course": course.id})
    _refresh_results(session, course)  # the course may now end at another time
    return target


def cancel_session(session: Session, course_session: CourseSession, reason: str, *, actor: User | None) -> int:
    """Cancel one session and tell the people enrolled; returns how many were told."""
    if course_session.is_cancelled:
        raise CourseError(_l("This session is already cancelled."))
    if not reason:
        raise CourseError(_l("Give the reason for cancelling: the people enrolled will see it."), "reason")
    course_session.cancelled_at = db.utcnow()
    course_session.cancel_reason = reason
    course_session.sequence += 1
    told = notify_enrolled(
        session, course_session.course, "session_cancelled", reason=reason, course_session=course_session
    )
    record(
        session,
        CourseAction.SESSION_CANCELLED,
        actor=actor,
        target=course_session,
        details={"course": course_session.course_id},
    )
    session.flush()
    _refresh_results(session, course_session.course)  # the course may now end at another time
    return told


def get_session_of(session: Session, course: Course, session_id: int) -> CourseSession:
    found = session.get(CourseSession, session_id)
    if found is None or found.course_id != course.id:
        access.deny(404, reason="session not in this course", target=found)
    return found
