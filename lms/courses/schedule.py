"""When a course starts and ends: the one place that decides whether it is under way or over.

Times are the region's wall-clock times (sessions are planned in local time), compared
with the current moment. A course has ended when the last of its sessions not cancelled
has ended; a course without such a session ends with its end date. A cancelled course
never ends in this sense: it completes nobody and leads to no certificate.

Completion (``lms.courses.attendance``), certificates, the course pages and the reports
all ask here, so that they agree on when a course is over.
"""

from __future__ import annotations

import enum
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from lms import db
from lms.models import Course, CourseSession, CourseStatus

# The region's time zone: session times, and the dates printed on certificates.
REGION_ZONE = ZoneInfo("Europe/Belgrade")


class Stage(enum.StrEnum):
    NOT_STARTED = "not_started"
    UNDER_WAY = "under_way"
    ENDED = "ended"
    CANCELLED = "cancelled"


def _local(day: date, at: time) -> datetime:
    return datetime.combine(day, at, tzinfo=REGION_ZONE)


def session_starts_at(course_session: CourseSession) -> datetime:
    return _local(course_session.date, course_session.start_time)


def session_ends_at(course_session: CourseSession) -> datetime:
    return _local(course_session.date, course_session.end_time)


def session_has_started(course_session: CourseSession, now: datetime | None = None) -> bool:
    """Whether attendance can be taken: the session has begun (and was not cancelled)."""
    return not course_session.is_cancelled and session_starts_at(course_session) <= (now or db.utcnow())


def held_sessions(course: Course) -> list[CourseSession]:
    """The sessions that take place: every one not cancelled, in order."""
    return [meeting for meeting in course.sessions if not meeting.is_cancelled]


def starts_at(course: Course) -> datetime:
    """The start of the first session, else the beginning of the course's start date."""
    meetings = held_sessions(course)
    return min(map(session_starts_at, meetings)) if meetings else _local(course.start_date, time())


def ends_at(course: Course) -> datetime:
    """The end of the last session, else the end of the course's end date."""
    meetings = held_sessions(course)
    return max(map(session_ends_at, meetings)) if meetings else _local(course.end_date + timedelta(days=1), time())


def first_day(course: Course) -> date:
    """The day the course began (its first session), as certificates print it."""
    meetings = held_sessions(course)
    return min(meeting.date for meeting in meetings) if meetings else course.start_date


def last_day(course: Course) -> date:
    """The day the course ended (its last session), as certificates print it."""
    meetings = held_sessions(course)
    return max(meeting.date for meeting in meetings) if meetings else course.end_date


def has_started(course: Course, now: datetime | None = None) -> bool:
    return starts_at(course) <= (now or db.utcnow())


def has_ended(course: Course, now: datetime | None = None) -> bool:
    """Whether the course is over, so that its results are final. Never for a cancelled course."""
    return course.status != CourseStatus.CANCELLED and ends_at(course) <= (now or db.utcnow())


def stage(course: Course, now: datetime | None = None) -> Stage:
    now = now or db.utcnow()
    if course.status == CourseStatus.CANCELLED:
        return Stage.CANCELLED
    if ends_at(course) <= now:
        return Stage.ENDED
    return Stage.UNDER_WAY if has_started(course, now) else Stage.NOT_STARTED
