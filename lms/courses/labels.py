"""The words for course codes in the reader's language, for forms and templates."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask_babel import lazy_gettext as _l

from lms.i18n import label
from lms.models import AttendanceMark, CourseMode, CourseStatus, EnrolmentMode, EnrolmentStatus

MODE_LABELS = {
    CourseMode.IN_PERSON: _l("In person"),
    CourseMode.ONLINE: _l("Online"),
    CourseMode.BLENDED: _l("Blended (in person and online)"),
}
ENROLMENT_MODE_LABELS = {
    EnrolmentMode.TRAINER_ONLY: _l("Only the trainers enrol people"),
    EnrolmentMode.OPEN_WITH_APPROVAL: _l("Open: people may ask to join, trainers approve"),
}
STATUS_LABELS = {
    CourseStatus.DRAFT: _l("Draft"),
    CourseStatus.PUBLISHED: _l("Published"),
    CourseStatus.IN_PROGRESS: _l("In progress"),
    CourseStatus.COMPLETED: _l("Completed"),
    CourseStatus.CANCELLED: _l("Cancelled"),
}
ENROLMENT_STATUS_LABELS = {
    EnrolmentStatus.REQUESTED: _l("Asked to join"),
    EnrolmentStatus.ENROLLED: _l("Enrolled"),
    EnrolmentStatus.WAITLISTED: _l("On the waitlist"),
    EnrolmentStatus.WITHDRAWN: _l("Withdrawn"),
    EnrolmentStatus.DECLINED: _l("Declined"),
}
MARK_LABELS = {
    AttendanceMark.PRESENT: _l("Present"),
    AttendanceMark.ABSENT: _l("Absent"),
    AttendanceMark.EXCUSED: _l("Excused"),
}


def init_app(app: Flask) -> None:
    helpers: dict[str, Any] = {
        "mode_label": lambda value: label(MODE_LABELS, value),
        "enrolment_mode_label": lambda value: label(ENROLMENT_MODE_LABELS, value),
        "course_status_label": lambda value: label(STATUS_LABELS, value),
        "enrolment_status_label": lambda value: label(ENROLMENT_STATUS_LABELS, value),
        "mark_label": lambda value: label(MARK_LABELS, value),
    }
    app.jinja_env.globals.update(helpers)
