"""Rosters in and out: import from CSV or XLSX with a preview, export a course's people."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response as WerkzeugResponse

from lms import db
from lms.access import COURSE_STAFF, policy
from lms.audit.service import record_now
from lms.courses import attendance, enrolment, roster, service
from lms.courses.forms import ConfirmImportForm, RosterUploadForm
from lms.downloads import attachment
from lms.i18n import CATEGORY_LABELS, SEX_LABELS, label
from lms.models import Course, User
from lms.spreadsheets import Limits, SpreadsheetError, read_table, write_csv, write_xlsx

bp = Blueprint("rosters", __name__, url_prefix="/courses")


def _actor() -> User:
    return current_user._get_current_object()


@bp.get("/<int:course_id>/import")
@policy(COURSE_STAFF)
def upload(course_id: int) -> str:
    course = service.get_course_for_manager(db.get_session(), course_id, _actor())
    return render_template("courses/import.html", course=course, form=RosterUploadForm(), columns=roster.COLUMNS)


@bp.post("/<int:course_id>/import")
@policy(COURSE_STAFF)
def upload_submit(course_id: int) -> str | tuple[str, int]:
    session = db.get_session()
    course = service.get_course_for_manager(session, course_id, _actor())
    form = RosterUploadForm()
    if not form.validate():
        return render_template("courses/import.html", course=course, form=form, columns=roster.COLUMNS), 400
    upload = form.roster.data
    filename = upload.filename or "roster"
    # Reading a file may take seconds: no transaction stays open meanwhile. On SQLite
    # the one begun for this request (to load the person and the course) holds the write
    # lock, and everyone else's sign-ins and saves would wait for the file.
    session.commit()
    with db.write_intent(False):
        try:
            table = read_table(filename, upload.read(), Limits.from_config(current_app.config))
        except SpreadsheetError as error:
            form.roster.errors = [str(error)]
            return render_template("courses/import.html", course=course, form=form, columns=roster.COLUMNS), 400
        check = roster.check_roster(session, course, table, actor=_actor())
        session.commit()  # the check only read; staging below writes, briefly
    staged = roster.stage(session, course, check, filename, actor=_actor()) if check.ok else None
    session.commit()
    return render_template(
        "courses/import_preview.html",
        course=course,
        check=check,
        staged=staged,
        confirm_form=ConfirmImportForm(import_id=staged.id if staged else ""),
        upload_form=RosterUploadForm(),
    )


@bp.post("/<int:course_id>/import/confirm")
@policy(COURSE_STAFF)
def confirm(course_id: int) -> WerkzeugResponse:
    session = db.get_session()
    course = service.get_course_for_manager(session, course_id, _actor())
    form = ConfirmImportForm()
    import_id = form.import_id.data if form.validate() else ""
    try:
        if not import_id.isdigit() or len(import_id) > 10:
            raise service.CourseError(_("This roster check was not found. Upload the file again."))
        staged = roster.staged_import(session, course, int(import_id), _actor())
        result = roster.import_roster(session, course, staged, actor=_actor())
    except roster.RosterAlreadyImported as done:
        # A second click, or two people confirming at once: the roster is in, once.
        session.rollback()
        flash(done.message, "info")
        return redirect(url_for("enrolments.people", course_id=course.id))
    except service.CourseError as error:
        session.rollback()
        flash(error.message, "error")
        return redirect(url_for("rosters.upload", course_id=course.id))
    session.commit()
    flash(
        _(
            "Roster imported: %(created)d people added to the platform, %(matched)d already known; "
            "%(enrolled)d enrolled, %(waitlisted)d on the waitlist.",
            created=result.created,
            matched=result.matched,
            enrolled=result.enrolled,
            waitlisted=result.waitlisted,
        ),
        "success",
    )
    return redirect(url_for("enrolments.people", course_id=course.id))


@bp.get("/roster-template.<kind>")
@policy(COURSE_STAFF)
def template(kind: str) -> Response:
    if kind == "csv":
        return attachment(write_csv(roster.COLUMNS, []), "roster-template.csv", "text/csv; charset=utf-8")
    if kind == "xlsx":
        body = write_xlsx([("Roster", roster.COLUMNS, [])])
        return attachment(body, "roster-template.xlsx", XLSX)
    flash(_("Choose CSV or XLSX."), "error")
    return redirect(url_for("courses.index"))  # type: ignore[return-value]


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EXPORT_HEADER = [
    "full_name",
    "email",
    "sex",
    "country",
    "institution",
    "category",
    "rank",
    "status",
    "attendance_percent",
    "completed",
]


def _export_rows(course: Course) -> list[list[object]]:
    session = db.get_session()
    standing = attendance.results(session, course)
    rows = []
    for entry in enrolment.roster(session, course):
        person = entry.user
        result = standing.get(person.id)
        rows.append(
            [
                person.full_name,
                person.email,
                label(SEX_LABELS, person.sex),
                person.country.name,
                person.institution.name if person.institution else "",
                label(CATEGORY_LABELS, person.category),
                person.rank or "",
                entry.status.value,
                result.attendance_percent if result and result.attendance_percent is not None else "",
                "yes" if entry.is_completed else "no",
            ]
        )
    return rows


@bp.get("/<int:course_id>/people.<kind>")
@policy(COURSE_STAFF)
def export(course_id: int, kind: str) -> Response:
    session = db.get_session()
    course = service.get_course_for_manager(session, course_id, _actor())
    if kind not in {"csv", "xlsx"}:
        flash(_("Choose CSV or XLSX."), "error")
        return redirect(url_for("enrolments.people", course_id=course.id))  # type: ignore[return-value]
    rows = _export_rows(course)
    record_now(
        service.CourseAction.EXPORTED, actor=_actor(), target=course, details={"format": kind, "rows": len(rows)}
    )
    name = f"course-{course.id}-people.{kind}"
    if kind == "csv":
        return attachment(write_csv(EXPORT_HEADER, rows), name, "text/csv; charset=utf-8")
    return attachment(write_xlsx([("People", EXPORT_HEADER, rows)]), name, XLSX)
