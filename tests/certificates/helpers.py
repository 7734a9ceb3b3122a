"""Arranging certificates for tests: completed courses, and reading PDFs back."""

from __future__ import annotations

import io
from typing import Any

import pypdf
import sqlalchemy as sa

from lms.courses import attendance
from lms.models import Course, Enrolment, Role, User
from tests.courses.helpers import enrol_all, make_course

# Names the region's certificates must print and extract exactly.
NAMES = ["Ђорђе Јовановић", "Љубица Стојановска", "Ljiljana Đukanović", "Arbër Çela"]


def completed_course(session: Any, trainer: User, people: list[User], *, country: str = "RS", **options: Any) -> Course:
    """A course that ``people`` completed (the trainer confirmed each result)."""
    course = make_course(session, trainer, country=country, **options)
    enrol_all(session, course, people, trainer)
    course = session.get(Course, course.id)
    for enrolment in session.scalars(sa.select(Enrolment).where(Enrolment.course_id == course.id)):
        attendance.override_result(
            session, enrolment, True, "Attended every session", actor=session.get(User, trainer.id)
        )
    session.commit()
    return course


def trainees(make_user: Any, names: list[str], **options: Any) -> list[User]:
    return [make_user(name=name, roles=[Role.TRAINEE], **options) for name in names]


def pdf_pages(data: bytes) -> list[str]:
    """The text of each page, as a PDF reader extracts it."""
    reader = pypdf.PdfReader(io.BytesIO(data))
    return [page.extract_text() for page in reader.pages]
