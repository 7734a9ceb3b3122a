"""Attendance at sessions, and the completion rule that turns it into results.

The rule, as the course page states it: a person completes the course when they were
present at no less than the course's threshold (80% by default) of its sessions, an
excused absence not counting against them, and, when the course requires it, they
completed every module of the course. A trainer may override the result with a reason;
the override, who made it and when are kept.

**Only once the course is over.** The rule applies to the sessions held when the course
closes (``lms.courses.schedule``: the end of its last session not cancelled), so nobody
completes a course under way, and a cancelled course completes nobody. Before the end,
the results page shows each person's standing so far; a trainer's decision may be
recorded at any time and, like the rule, takes effect when the course ends.

``Enrolment.completed_at`` is when the completion takes effect. Whenever something that
decides it changes (attendance, a module completed, an override, the schedule, the
course's rule or status), :func:`refresh_results` recomputes it; for a person who already
meets the rule before the end (the sessions to come counted as missed), it is set ahead
to the moment the course ends. Readers count a completion only from that moment
(``Enrolment.is_completed``), so the result becomes visible when the course ends without
anything having to run then.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from lms import db
from lms.audit.service import record
from lms.courses import schedule
from lms.courses.service import CourseAction, CourseError
from lms.models import (
    Attendance,
    AttendanceMark,
    Course,
    CourseSession,
    CourseStatus,
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
    if not schedule.session_has_started(course_session):
        raise CourseError(
            _l(
                "This session has not started yet: attendance can be recorded from %(start)s on %(date)s.",
                start=course_session.start_time.strftime("%H:%M"),
                date=course_session.date.isoformat(),
            )
        )
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
    """How a person stands against the completion rule.

    ``held`` and ``present`` count the sessions held so far (those that have started), an
    excused absence left out; ``to_come`` the sessions not started yet. Once the course
    has ended, nothing is to come and the rule is decided on what was held.
    """

    held: int
    present: int
    to_come: int
    modules_required: int
    modules_done: int
    threshold: int
    require_modules: bool
    override: bool | None
    ended: bool
    cancelled: bool = False

    @property
    def attendance_percent(self) -> int | None:
        """Attendance at the sessions held so far; None while none was held."""
        return math.floor(100 * self.present / self.held) if self.held else None

    @property
    def modules_met(self) -> bool:
        return not self.require_modules or self.modules_done >= self.modules_required

    @property
    def meets_rule(self) -> bool:
        """Whether the rule is met over every session of the course, those to come counted
        as missed: once the course has ended, the rule itself."""
        sessions = self.held + self.to_come
        attended = sessions > 0 and math.floor(100 * self.present / sessions) >= self.threshold
        return attended and self.modules_met

    @property
    def on_track(self) -> bool:
        """Before the end: the threshold is met at the sessions held so far."""
        return self.attendance_percent is not None and self.attendance_percent >= self.threshold

    @property
    def completes(self) -> bool:
        """What decides the result when the course ends: the trainer's decision, else the rule."""
        if self.cancelled:
            return False
        return self.override if self.override is not None else self.meets_rule

    @property
    def completed(self) -> bool:
        """Completed: only once the course has ended."""
        return self.ended and self.completes


def _marks(session: Session, session_ids: list[int]) -> dict[tuple[int, AttendanceMark], int]:
    counts: dict[tuple[int, AttendanceMark], int] = {}
    if session_ids:
        for user_id, mark, count in session.execute(
            sa.select(Attendance.user_id, Attendance.mark, sa.func.count())
            .where(Attendance.session_id.in_(session_ids))
            .group_by(Attendance.user_id, Attendance.mark)
        ):
            counts[(user_id, mark)] = count
    return counts


def results(session: Session, course: Course, now: datetime | None = None) -> dict[int, Result]:
    """Every enrolled person's standing, from a handful of queries whatever the roster size."""
    now = now or db.utcnow()
    meetings = schedule.held_sessions(course)
    held = [meeting.id for meeting in meetings if schedule.session_has_started(meeting, now)]
    to_come = len(meetings) - len(held)
    ended = schedule.has_ended(course, now)
    enrolments = session.scalars(
        sa.select(Enrolment).where(Enrolment.course_id == course.id, Enrolment.status == EnrolmentStatus.ENROLLED)
    ).all()
    counts = _marks(session, held)
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
            held=len(held) - counts.get((enrolment.user_id, AttendanceMark.EXCUSED), 0),
            present=counts.get((enrolment.user_id, AttendanceMark.PRESENT), 0),
            to_come=to_come,
            modules_required=len(module_ids),
            modules_done=done.get(enrolment.user_id, 0),
            threshold=course.attendance_threshold,
            require_modules=course.require_modules,
            override=enrolment.override_completed,
            ended=ended,
            cancelled=course.status == CourseStatus.CANCELLED,
        )
        for enrolment in enrolments
    }


def refresh_results(session: Session, course: Course) -> int:
    """Set when each enrolled person's completion takes effect, or clear it; returns how
    many have completed.

    For a course not over yet, a person whom the rule (or a trainer) already finds complete
    completes when the course ends: ``completed_at`` is set to that moment, and moves with
    the schedule. Once the course has ended, the first completion time is kept while the
    result holds. A cancelled course completes nobody.
    """
    now = db.utcnow()
    standing = results(session, course, now)
    closes = schedule.ends_at(course).astimezone(UTC)
    completed = 0
    for enrolment in session.scalars(
        sa.select(Enrolment).where(Enrolment.course_id == course.id, Enrolment.status == EnrolmentStatus.ENROLLED)
    ):
        result = standing.get(enrolment.user_id)
        if result is None or not result.completes:
            enrolment.completed_at = None
        elif closes > now:
            enrolment.completed_at = closes  # takes effect when the course ends
        elif enrolment.completed_at is None:
            enrolment.completed_at = now
        elif enrolment.completed_at > now:
            enrolment.completed_at = closes  # the course ended earlier than planned
        if enrolment.completed_at is not None and enrolment.completed_at <= now:
            completed += 1
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
