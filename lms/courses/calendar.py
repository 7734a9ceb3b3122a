"""Calendars: who meets when, as an agenda and as iCalendar (RFC 5545) feeds.

Calendar programs cannot log in, so feeds live at secret addresses: an HMAC of the
person's (or course's) id and a nonce, under the app's secret key. Resetting the nonce
revokes the old address; the secret itself is never stored.

A person's feed carries the sessions they train or are enrolled in, so being withdrawn
from a course takes its sessions out of it. A course's feed is for its staff only: its
address names the staff member as well, and it stops working when they no longer manage
the course or their account is disabled. Addresses in a feed come from ``LMS_PUBLIC_URL``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from icalendar import Calendar, Event
from sqlalchemy.orm import Session

from lms import access, db
from lms.audit.service import record
from lms.models import Course, CourseSession, CourseStatus, CourseTrainer, Enrolment, EnrolmentStatus, User
from lms.web import public_url

TIMEZONE = ZoneInfo("Europe/Belgrade")


class CalendarAction:
    PERSON_FEED_RESET = "calendar.person_feed_reset"
    COURSE_FEED_RESET = "calendar.course_feed_reset"


def _signature(kind: str, identifier: str, nonce: str) -> str:
    key = current_app.secret_key.encode() if isinstance(current_app.secret_key, str) else current_app.secret_key
    digest = hmac.new(key, f"calendar:{kind}:{identifier}:{nonce}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:20]).decode().rstrip("=")


def person_feed_token(user: User) -> str | None:
    return _signature("person", str(user.id), user.calendar_nonce) if user.calendar_nonce else None


def person_feed_url(user: User) -> str | None:
    token = person_feed_token(user)
    return public_url("calendar.feed", user_id=user.id, token=token) if token else None


def course_feed_token(course: Course, staff: User) -> str:
    """The secret of ``course``'s feed for ``staff``, one of the people who manage it."""
    return _signature("course-staff", f"{course.id}:{staff.id}", course.calendar_nonce)


def course_feed_url(course: Course, staff: User) -> str:
    token = course_feed_token(course, staff)
    return public_url("courses.course_feed", course_id=course.id, user_id=staff.id, token=token)


def reset_person_feed(session: Session, user: User) -> None:
    """A new secret address for the person's feed; the old one stops working."""
    had_one = user.calendar_nonce is not None
    user.calendar_nonce = secrets.token_hex(8)
    record(session, CalendarAction.PERSON_FEED_RESET, actor=user, target=user, details={"replaced": had_one})
    session.flush()


def reset_course_feed(session: Session, course: Course, *, actor: User) -> None:
    """New secret addresses of the course's feed for all its staff; the old ones stop working."""
    course.calendar_nonce = secrets.token_hex(8)
    record(session, CalendarAction.COURSE_FEED_RESET, actor=actor, target=course)
    session.flush()


def _same_token(expected: str, given: str) -> bool:
    """Compare in constant time. Our tokens are ASCII: any other text in the address is
    simply wrong (``hmac.compare_digest`` refuses non-ASCII text with a TypeError)."""
    return given.isascii() and hmac.compare_digest(expected, given)


def person_from_token(session: Session, user_id: int, token: str) -> User | None:
    user = session.get(User, user_id)
    expected = person_feed_token(user) if user is not None and user.is_active else None
    if expected is None or not _same_token(expected, token):
        return None
    return user


def course_from_token(session: Session, course_id: int, user_id: int, token: str) -> Course | None:
    """The course whose feed this is, if the address is right and the person it was made
    for is still active and still manages the course."""
    course = session.get(Course, course_id)
    staff = session.get(User, user_id)
    if course is None or staff is None:
        return None
    if not _same_token(course_feed_token(course, staff), token):
        return None
    if not staff.is_active or not access.can_manage_course(staff, course):
        return None
    return course


def sessions_for(
    session: Session, user: User, start: date | None = None, end: date | None = None
) -> list[CourseSession]:
    """The sessions a person trains at or is enrolled in, in date order."""
    trains = sa.select(CourseTrainer.course_id).where(CourseTrainer.user_id == user.id)
    attends = sa.select(Enrolment.course_id).where(
        Enrolment.user_id == user.id, Enrolment.status == EnrolmentStatus.ENROLLED
    )
    query = (
        sa.select(CourseSession)
        .join(Course, Course.id == CourseSession.course_id)
        .where(
            sa.or_(
                CourseSession.course_id.in_(trains),
                CourseSession.course_id.in_(attends),
                CourseSession.trainer_id == user.id,
            ),
            Course.status != CourseStatus.DRAFT,
        )
        .order_by(CourseSession.date, CourseSession.start_time, CourseSession.id)
    )
    if start is not None:
        query = query.where(CourseSession.date >= start)
    if end is not None:
        query = query.where(CourseSession.date <= end)
    return list(session.scalars(query))


def _event(course_session: CourseSession) -> Event:
    course = course_session.course
    course_url = public_url("courses.detail", course_id=course.id)
    event = Event()
    event.add("uid", f"session-{course_session.id}@rngt-lms")
    event.add("dtstamp", db.utcnow())
    event.add("dtstart", datetime.combine(course_session.date, course_session.start_time, TIMEZONE))
    event.add("dtend", datetime.combine(course_session.date, course_session.end_time, TIMEZONE))
    event.add("summary", f"{course.title}: {course_session.topic}")
    where = ", ".join(part for part in (course.venue, course.online_link) if part)
    if where:
        event.add("location", where)
    description = [course_session.topic]
    if course_session.trainer is not None:
        description.append(course_session.trainer.full_name)
    description.append(course_url)
    event.add("description", "\n".join(description))
    event.add("url", course_url)
    event.add("sequence", course_session.sequence)
    cancelled = course_session.is_cancelled or course.status == CourseStatus.CANCELLED
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    return event


def build_calendar(name: str, course_sessions: list[CourseSession]) -> bytes:
    """An RFC 5545 calendar of ``course_sessions``, times in the region's time zone."""
    calendar = Calendar()
    calendar.add("prodid", "-//RNGT LMS//Regional Network of Gender Trainers//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", "Europe/Belgrade")
    for course_session in course_sessions:
        calendar.add_component(_event(course_session))
    calendar.add_missing_timezones()
    return calendar.to_ical()


@dataclass(frozen=True)
class AgendaDay:
    day: date
    sessions: list[CourseSession]
    in_month: bool = True


def month_grid(first: date, course_sessions: list[CourseSession]) -> list[list[AgendaDay]]:
    """Weeks (Monday first) covering the month of ``first``, each day with its sessions."""
    by_day: dict[date, list[CourseSession]] = {}
    for course_session in course_sessions:
        by_day.setdefault(course_session.date, []).append(course_session)
    start = first - timedelta(days=first.weekday())
    next_month = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    weeks = []
    day = start
    while day < next_month or day.weekday() != 0:
        week = []
        for _ in range(7):
            week.append(AgendaDay(day, by_day.get(day, []), day.month == first.month))
            day += timedelta(days=1)
        weeks.append(week)
    return weeks


def week_days(monday: date, course_sessions: list[CourseSession]) -> list[AgendaDay]:
    by_day: dict[date, list[CourseSession]] = {}
    for course_session in course_sessions:
        by_day.setdefault(course_session.date, []).append(course_session)
    return [AgendaDay(monday + timedelta(days=n), by_day.get(monday + timedelta(days=n), [])) for n in range(7)]
