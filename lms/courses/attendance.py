"""Attendance at sessions, and the completion rule that turns it into results.

The rule, as the course page states it: a person completes the course when they were
present at no less than the course's threshold (80% by default) of its sessions that
took place, an excused absence not counting against them, and, when the course requires
it, they completed every module of the course. A trainer may override the result with a
reason; the override, who made it and when are kept.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from lms import db
from lms.audit.service import record
from lms.courses.service import CourseAction, CourseError
from lms.models import (
    Attendance,
    AttendanceMark,
    Course,
    CourseSession,
    Enrolment,
    EnrolmentStatus,
    ModuleCompletion,
    User,
)


def marks_for(session: Session, course_session: CourseSession) -> dict[int, AttendanceMark]:
    return dict(
        session.execute(
            sa.select(Attendance.user_id, Attendance.mark).where(Attendance.session_id == course_session.id)
        )
        .tuples()
        .all()
    )


def record_attendance(
    session: Session, course_session: CourseSession, marks: dict[int, AttendanceMark], *, actor: User | None
) -> None:
    """Save the marks of one session for everyone at once, then update the results."""
    if course_session.is_cancelled:
        raise CourseError(_l("This session was cancelled: there is no attendance to record."))
    enrolled = set(
        session.scalars(
            sa.select(Enrolment.user_id).where(
                Enrolment.course_id == course_session.course_id, Enrolment.status == EnrolmentStatus.ENROLLED
            )
        )
    )
    if not set(marks) <= enrolled:
        raise CourseError(_l("Attendance can only be recorded for people enrolled on the course."))
    existing = {
        row.user_id: row
        for row in session.scalars(sa.select(Attendance).where(Attendance.session_id == course_session.id))
    }
    for user_id, mark in marks.items():
        row = existing.get(user_id)
        if row is None:
            session.add(
                Attendance(
                    session_id=course_session.id, user_id=user_id, mark=mark, recorded_by_id=actor.id if actor else None
                )
            )
        elif row.mark != mark:
            row.mark, row.recorded_by_id = mark, actor.id if actor else None
    record(session, CourseAction.ATTENDANCE, actor=actor, target=course_session, details={"marks": len(marks)})
    session.flush()
    refresh_results(session, course_session.course)


@dataclass(frozen=True)
class Result:
    """How a person stands against the completion rule."""

    sessions: int  # sessions that counted (held, minus excused absences)
    present: int
    modules_required: int
    modules_done: int
    threshold: int
    require_modules: bool
    override: bool | None

    @property
    def attendance_percent(self) -> int:
        return math.floor(100 * self.present / self.sessions) if self.sessions else 0

    @property
    def meets_rule(self) -> bool:
        attended = self.sessions > 0 and self.attendance_percent >= self.threshold
        modules = not self.require_modules or self.modules_done >= self.modules_required
        return attended and modules

    @property
    def completed(self) -> bool:
        return self.override if self.override is not None else self.meets_rule


def results(session: Session, course: Course) -> dict[int, Result]:
    """Every enrolled person's standing, from a handful of queries whatever the roster size."""
    today = db.utcnow().date()
    held = [s.id for s in course.sessions if not s.is_cancelled and s.date <= today]
    enrolments = session.scalars(
        sa.select(Enrolment).where(Enrolment.course_id == course.id, Enrolment.status == EnrolmentStatus.ENROLLED)
    ).all()
    counts: dict[tuple[int, AttendanceMark], int] = {}
    if held:
        for user_id, mark, count in session.execute(
            sa.select(Attendance.user_id, Attendance.mark, sa.func.count())
            .where(Attendance.session_id.in_(held))
            .group_by(Attendance.user_id, Attendance.mark)
        ):
            counts[(user_id, mark)] = count
    module_ids = [link.module_id for link in course.modules]
    done: dict[int, int] = {}
    if module_ids and enrolments:
        for user_id, count in session.execute(
            sa.select(ModuleCompletion.user_id, sa.func.count())
            .where(
                ModuleCompletion.module_id.in_(module_ids),
                ModuleCompletion.user_id.in_([e.user_id for e in enrolments]),
            )
            .group_by(ModuleCompletion.user_id)
        ):
            done[user_id] = count
    return {
        enrolment.user_id: Result(
            sessions=len(held) - counts.get((enrolment.user_id, AttendanceMark.EXCUSED), 0),
            present=counts.get((enrolment.user_id, AttendanceMark.PRESENT), 0),
            modules_required=len(module_ids),
            modules_done=done.get(enrolment.user_id, 0),
            threshold=course.attendance_threshold,
            require_modules=course.require_modules,
            override=enrolment.override_completed,
        )
        for enrolment in enrolments
    }


def refresh_results(session: Session, course: Course) -> int:
    """Mark completed enrolments (and unmark those no longer meeting the rule); returns how
    many are completed. The first completion time is kept while the result holds."""
    standing = results(session, course)
    now = db.utcnow()
    completed = 0
    for enrolment in session.scalars(
        sa.select(Enrolment).where(Enrolment.course_id == course.id, Enrolment.status == EnrolmentStatus.ENROLLED)
    ):
        result = standing.get(enrolment.user_id)
        if result is not None and result.completed:
            completed += 1
            if enrolment.completed_at is None:
                enrolment.completed_at = now
        elif enrolment.completed_at is not None:
            enrolment.completed_at = None
    session.flush()
    return completed


def refresh_for_person(session: Session, user_id: int) -> None:
    """After a person completes a module: update their results in the courses that have it."""
    courses = session.scalars(
        sa.select(Course)
        .join(Enrolment, Enrolment.course_id == Course.id)
        .where(
            Enrolment.user_id == user_id, Enrolment.status == EnrolmentStatus.ENROLLED, Enrolment.completed_at.is_(None)
        )
    ).all()
    for course in courses:
        refresh_results(session, course)


def override_result(
    session: Session, enrolment: Enrolment, completed: bool | None, reason: str, *, actor: User
) -> None:
    """Set (or, with ``None``, remove) a trainer's decision on a result; a reason is required."""
    if enrolment.status != EnrolmentStatus.ENROLLED:
        raise CourseError(_l("Only the results of people enrolled can be changed."))
    if completed is not None and not reason:
        raise CourseError(_l("Give the reason for changing the result."), "reason")
    before = enrolment.override_completed
    enrolment.override_completed = completed
    enrolment.override_reason = reason if completed is not None else None
    enrolment.override_by_id = actor.id if completed is not None else None
    enrolment.override_at = db.utcnow() if completed is not None else None
    record(
        session, CourseAction.RESULT_OVERRIDDEN, actor=actor, target=enrolment,
        details={"course": enrolment.course_id, "from": before, "to": completed, "reason": reason},
    )  # fmt: skip
    session.flush()
    refresh_results(session, enrolment.course)
