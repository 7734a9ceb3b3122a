"""Demonstration courses: one finished, one under way, one open for requests, one draft.

Dates are relative to the day the demo is loaded, so a new user always sees a course in
progress, sessions coming up in the calendar and results of a finished course. The course
under way has attendance for the sessions held so far: nobody has completed it, and it
offers no certificate until its last session ends.
"""

from __future__ import annotations

from datetime import time, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lms import db
from lms.courses import attendance, enrolment, network, schedule, service
from lms.models import (
    AttendanceMark,
    Country,
    CourseMode,
    CourseStatus,
    EnrolmentMode,
    Institution,
    InstitutionKind,
    Module,
    Role,
    Track,
    User,
)
from lms.people import service as people

# title, country, days from today to the start, session topics, track, status, mode
COURSES = [
    (
        "Gender equality in the armed forces: basic course",
        "RS", -70, ["Gender and sex; stereotypes", "Women in command", "Sex-disaggregated data"],
        "gender-equality-in-the-armed-forces", CourseStatus.COMPLETED, EnrolmentMode.TRAINER_ONLY,
    ),
    # Completed earlier in the year in the other three countries, so that every country
    # has certificates to show (see lms.demo_certificates).
    (
        "A gender perspective in military education: instructors' course",
        "BA", -120, ["Gender in the curriculum", "Inclusive teaching in the academy", "Assessing without bias"],
        "gender-equality-in-the-armed-forces", CourseStatus.COMPLETED, EnrolmentMode.TRAINER_ONLY,
    ),
    (
        "Sex-disaggregated HR data for personnel officers",
        "ME", -150, ["Why disaggregate", "Indicators for recruitment and promotion", "Reading the numbers"],
        "gender-equality-in-the-armed-forces", CourseStatus.COMPLETED, EnrolmentMode.TRAINER_ONLY,
    ),
    (
        "Leadership for gender equality: a seminar for commanders",
        "MK", -95, ["The commander's responsibility", "Preventing and responding to harassment"],
        "leadership-for-commanders", CourseStatus.COMPLETED, EnrolmentMode.TRAINER_ONLY,
    ),
    (
        "Gender analysis in operational planning",
        "RS", -25, ["Gender analysis in the planning process", "An exercise scenario"],
        "leadership-for-commanders", CourseStatus.COMPLETED, EnrolmentMode.TRAINER_ONLY,
    ),
    (
        "UNSCR 1325 and CEDAW for staff officers",
        "BA", -2,
        ["CEDAW and General Recommendation 30", "Resolution 1325 and what followed",
         "National action plans", "SDG 5 and 16"],
        "international-framework", CourseStatus.IN_PROGRESS, EnrolmentMode.TRAINER_ONLY,
    ),
    (
        "Preventing sexual harassment: a course for units",
        "ME", 21, ["Definitions and the law", "Reporting and the commander's duties", "Bystander intervention"],
        "preventing-discrimination-and-sexual-harassment", CourseStatus.PUBLISHED, EnrolmentMode.OPEN_WITH_APPROVAL,
    ),
    (
        "Training of trainers: teaching gender equality",
        "MK", 45, ["Adult learning", "Facilitating and handling resistance", "Evaluating a course"],
        "training-of-trainers", CourseStatus.DRAFT, EnrolmentMode.TRAINER_ONLY,
    ),
]  # fmt: skip
NETWORK_TRAINERS = {
    "trainer@example.org": (["sr-Latn", "en"], "UNSCR 1325 and the WPS agenda; gender analysis in planning"),
    "milena.vujovic.10@demo.example.org": (["cnr", "en"], "Preventing sexual harassment; bystander intervention"),
    "elena.petrovska.24@demo.example.org": (["mk", "sq", "en"], "Training of trainers; evaluating courses"),
}


def _person(session: Session, email: str) -> User:
    return session.scalar(sa.select(User).where(User.email == email))


def _trainees(session: Session, country_id: int, limit: int) -> list[User]:
    return list(
        session.scalars(
            sa.select(User)
            .where(User.country_id == country_id, User.email.like("%@demo.example.org"))
            .order_by(User.sort_name)
            .limit(limit)
        )
    )


def load_demo_courses(session: Session) -> int:
    """Create the demo courses with their sessions, people, attendance and results."""
    trainer = _person(session, "trainer@example.org")
    for email, (languages, topics) in NETWORK_TRAINERS.items():
        person = _person(session, email)
        if not person.has_role(Role.TRAINER):
            people.set_roles(
                session, person, {**{g.role: g.country_id for g in person.role_grants}, Role.TRAINER: None}, actor=None
            )
        network.save_profile(session, person, languages, topics, actor=trainer)
    today = db.utcnow().date()
    for title, code, offset, topics, track_slug, status, mode in COURSES:
        country = session.scalar(sa.select(Country).where(Country.code == code))
        host = session.scalar(
            sa.select(Institution).where(
                Institution.country_id == country.id, Institution.kind == InstitutionKind.ACADEMY
            )
        )
        track_id = session.scalar(sa.select(Track.id).where(Track.slug == track_slug))
        # The course covers its track's modules: their versions are printed on certificates.
        module_ids = list(
            session.scalars(
                sa.select(Module.id)
                .where(Module.track_id == track_id, Module.archived_at.is_(None))
                .order_by(Module.position)
            )
        )
        start = today + timedelta(days=offset)
        data = service.CourseData(
            title=title,
            country_id=country.id,
            mode=CourseMode.IN_PERSON,
            language={"RS": "sr-Latn", "BA": "bs", "ME": "cnr", "MK": "mk"}[code],
            start_date=start,
            end_date=start + timedelta(days=len(topics) - 1),
            capacity=12,
            enrolment_mode=mode,
            track_id=track_id,
            trainer_ids=[trainer.id],
            host_institution_id=host.id if host else None,
            venue=host.name if host else "Ministry of Defence",
            module_ids=module_ids,
            require_modules=False,
        )
        course = service.create_course(session, data, actor=trainer)
        for day, topic in enumerate(topics):
            when = start + timedelta(days=day)
            service.save_session(
                session, course, service.SessionData(when, time(9), time(12, 30), topic, trainer.id), actor=trainer
            )
        if status == CourseStatus.DRAFT:
            continue
        service.change_status(session, course, CourseStatus.PUBLISHED, actor=trainer)
        learners = _trainees(session, country.id, 9)
        if code == "BA":
            learners.append(_person(session, "commander@example.org"))
        if code == "ME":
            learners.append(_person(session, "cadet@example.org"))
        for learner in learners:
            enrolment.enrol(session, course, learner, actor=trainer)
        if status in {CourseStatus.IN_PROGRESS, CourseStatus.COMPLETED}:
            service.change_status(session, course, CourseStatus.IN_PROGRESS, actor=trainer)
            _attendance(session, course, learners)
        if status == CourseStatus.COMPLETED:
            service.change_status(session, course, CourseStatus.COMPLETED, actor=trainer)
        attendance.refresh_results(session, course)
    session.flush()
    return len(COURSES)


def _attendance(session: Session, course: object, learners: list[User]) -> None:
    """Most people attend; one misses two sessions, one is excused once."""
    for index, sitting in enumerate(course.sessions):  # type: ignore[attr-defined]
        if not schedule.session_has_started(sitting):
            continue  # attendance is taken from a session's start
        marks = {}
        for number, learner in enumerate(learners):
            mark = AttendanceMark.PRESENT
            if number == 1 and index in (0, 1):
                mark = AttendanceMark.ABSENT
            if number == 2 and index == 1:
                mark = AttendanceMark.EXCUSED
            marks[learner.id] = mark
        attendance.record_attendance(session, sitting, marks, actor=None)
