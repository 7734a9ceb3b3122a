"""Building courses for tests the way a trainer would, through the services."""

from __future__ import annotations

from datetime import date, time
from typing import Any

import sqlalchemy as sa

from lms.courses import enrolment, service
from lms.models import Country, Course, CourseMode, CourseStatus, EnrolmentMode, Module, User


def make_course(
    session: Any,
    trainer: User,
    *,
    title: str = "Gender perspective in military planning",
    country: str = "RS",
    capacity: int = 20,
    sessions: int = 3,
    publish: bool = True,
    modules: list[str] | None = None,
    enrolment_mode: EnrolmentMode = EnrolmentMode.TRAINER_ONLY,
    start: date = date(2026, 3, 2),
) -> Course:
    trainer = session.get(User, trainer.id)
    module_ids = list(session.scalars(sa.select(Module.id).where(Module.slug.in_(modules)))) if modules else []
    data = service.CourseData(
        title=title,
        country_id=session.scalar(sa.select(Country.id).where(Country.code == country)),
        mode=CourseMode.IN_PERSON,
        language="sr-Latn",
        start_date=start,
        end_date=date(start.year, start.month, start.day + sessions),
        capacity=capacity,
        enrolment_mode=enrolment_mode,
        trainer_ids=[trainer.id],
        venue="Military Academy, Belgrade",
        module_ids=module_ids,
        require_modules=bool(module_ids),
    )
    course = service.create_course(session, data, actor=trainer)
    for day in range(sessions):
        service.save_session(
            session,
            course,
            service.SessionData(
                date(start.year, start.month, start.day + day), time(9), time(12), f"Day {day + 1}", trainer.id
            ),
            actor=trainer,
        )
    if publish:
        service.change_status(session, course, CourseStatus.PUBLISHED, actor=trainer)
    session.commit()
    return course


def enrol_all(session: Any, course: Course, people: list[User], actor: User) -> None:
    for person in people:
        enrolment.enrol(
            session, session.get(Course, course.id), session.get(User, person.id), actor=session.get(User, actor.id)
        )
    session.commit()
