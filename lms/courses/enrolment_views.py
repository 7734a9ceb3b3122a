"""The people of a course: enrolment, rosters, attendance and results."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response as WerkzeugResponse

from lms import db
from lms.access import AUTHENTICATED, COURSE_STAFF, policy
from lms.courses import attendance, enrolment, schedule, service
from lms.courses.forms import CandidateSearchForm, OverrideForm, PersonPickForm
from lms.forms import BaseForm
from lms.models import AttendanceMark, Course, CourseSession, EnrolmentStatus, User
from lms.people import service as people_service

bp = Blueprint("enrolments", __name__, url_prefix="/courses")


def _actor() -> User:
    return current_user._get_current_object()


# --- People ---------------------------------------------------------------------------


@bp.get("/<int:course_id>/people")
@policy(COURSE_STAFF)
def people(course_id: int) -> str | tuple[str, int]:
    session = db.get_session()
    course = service.get_course_for_manager(session, course_id, _actor())
    search = CandidateSearchForm(request.args)
    candidates = []
    if request.args and search.validate():
        candidates = enrolment.search_candidates(session, course, search.q.data or "", actor=_actor())
    return render_template(
        "courses/people.html",
        course=course,
        roster=enrolment.roster(session, course),
        search=search,
        candidates=candidates,
        pick_form=PersonPickForm(),
        action_form=BaseForm(),
        EnrolmentStatus=EnrolmentStatus,
    )


@bp.post("/<int:course_id>/people")
@policy(COURSE_STAFF)
def people_add(course_id: int) -> WerkzeugResponse:
    session = db.get_session()
    course = service.get_course_for_manager(session, course_id, _actor())
    form = PersonPickForm()
    if not form.validate():
        flash(_("Choose a person from the search results."), "error")
        return redirect(url_for("enrolments.people", course_id=course.id))
    person = people_service.get_person_in_reach(session, form.user_id.data, _actor())
    try:
        added = enrolment.enrol(session, course, person, actor=_actor())
    except service.CourseError as error:
        session.rollback()
        flash(error.message, "error")
    else:
        session.commit()
        if added.status == EnrolmentStatus.WAITLISTED:
            flash(_("The course is full: %(name)s is on the waitlist.", name=person.full_name), "info")
        else:
            flash(_("%(name)s is enrolled.", name=person.full_name), "success")
    return redirect(url_for("enrolments.people", course_id=course.id))


@bp.post("/<int:course_id>/people/<int:enrolment_id>/withdraw")
@policy(COURSE_STAFF)
def people_withdraw(course_id: int, enrolment_id: int) -> WerkzeugResponse:
    session = db.get_session()
    course = service.get_course_for_manager(session, course_id, _actor())
    found = enrolment.enrolment_of(session, course, enrolment_id)
    if BaseForm().validate():
        try:
            promoted = enrolment.withdraw(session, found, actor=_actor())
        except service.CourseError as error:
            session.rollback()
            flash(error.message, "error")
        else:
            session.commit()
            flash(_("%(name)s is no longer on the course.", name=found.user.full_name), "success")
            if promoted is not None:
                flash(_("%(name)s moved up from the waitlist.", name=promoted.user.full_name), "info")
    return redirect(url_for("enrolments.people", course_id=course.id))


@bp.post("/<int:course_id>/people/<int:enrolment_id>/decide")
@policy(COURSE_STAFF)
def people_decide(course_id: int, enrolment_id: int) -> WerkzeugResponse:
    session = db.get_session()
    course = service.get_course_for_manager(session, course_id, _actor())
    found = enrolment.enrolment_of(session, course, enrolment_id)
    if BaseForm().validate() and request.form.get("decision") in {"approve", "decline"}:
        try:
            enrolment.decide_request(session, found, request.form["decision"] == "approve", actor=_actor())
        except service.CourseError as error:
            session.rollback()
            flash(error.message, "error")
        else:
            session.commit()
            flash(_("The request has been answered."), "success")
    return redirect(url_for("enrolments.people", course_id=course.id))


@bp.post("/<int:course_id>/join")
@policy(AUTHENTICATED)
def join(course_id: int) -> WerkzeugResponse:
    session = db.get_session()
    course, _own = service.get_course_for_viewer(session, course_id, _actor())
    if BaseForm().validate():
        try:
            enrolment.request_place(session, course, _actor())
        except service.CourseError as error:
            session.rollback()
            flash(error.message, "error")
        else:
            session.commit()
            flash(_("Your request has been sent to the course's trainers."), "success")
    return redirect(url_for("courses.detail", course_id=course.id))


# --- Attendance and results -----------------------------------------------------------------


@bp.get("/<int:course_id>/sessions/<int:session_id>/attendance")
@policy(COURSE_STAFF)
def attendance_form(course_id: int, session_id: int) -> str:
    session = db.get_session()
    course = service.get_course_for_manager(session, course_id, _actor())
    found = service.get_session_of(session, course, session_id)
    return _attendance_page(course, found, attendance.marks_for(session, found))


def _attendance_page(
    course: Course, found: CourseSession, marks: dict[int, AttendanceMark], status: int = 200
) -> tuple[str, int]:
    roster = [e for e in enrolment.roster(db.get_session(), course) if e.status == EnrolmentStatus.ENROLLED]
    return render_template(
        "courses/attendance.html",
        course=course,
        course_session=found,
        started=schedule.session_has_started(found),
        roster=roster,
        marks=marks,
        form=BaseForm(),
        AttendanceMark=AttendanceMark,
    ), status


@bp.post("/<int:course_id>/sessions/<int:session_id>/attendance")
@policy(COURSE_STAFF)
def attendance_submit(course_id: int, session_id: int) -> str | WerkzeugResponse | tuple[str, int]:
    session = db.get_session()
    course = service.get_course_for_manager(session, course_id, _actor())
    found = service.get_session_of(session, course, session_id)
    if not BaseForm().validate():
        abort(400)
    marks: dict[int, AttendanceMark] = {}
    for name, value in request.form.items():
        if not name.startswith("mark-"):
            continue
        user_id = name[5:]
        if not user_id.isdigit() or len(user_id) > 10 or value not in set(AttendanceMark):
            flash(_("The attendance form was not understood. Reload the page and try again."), "error")
            return _attendance_page(course, found, attendance.marks_for(session, found), 400)
        marks[int(user_id)] = AttendanceMark(value)
    try:
        attendance.record_attendance(session, found, marks, actor=_actor())
    except service.CourseError as error:
        session.rollback()
        flash(error.message, "error")
        return _attendance_page(course, found, marks, 400)
    session.commit()
    flash(_("Attendance saved."), "success")
    return redirect(url_for("enrolments.results", course_id=course.id))


@bp.get("/<int:course_id>/results")
@policy(COURSE_STAFF)
def results(course_id: int) -> str:
    session = db.get_session()
    course = service.get_course_for_manager(session, course_id, _actor())
    roster = [e for e in enrolment.roster(session, course) if e.status == EnrolmentStatus.ENROLLED]
    return render_template(
        "courses/results.html",
        course=course,
        roster=roster,
        standing=attendance.results(session, course),
        stage=schedule.stage(course),
        ends_at=schedule.ends_at(course),
        Stage=schedule.Stage,
        override_form=OverrideForm(),
    )


@bp.post("/<int:course_id>/people/<int:enrolment_id>/result")
@policy(COURSE_STAFF)
def result_override(course_id: int, enrolment_id: int) -> WerkzeugResponse:
    session = db.get_session()
    course = service.get_course_for_manager(session, course_id, _actor())
    found = enrolment.enrolment_of(session, course, enrolment_id)
    form = OverrideForm()
    if form.validate():
        decision = {"rule": None, "completed": True, "not_completed": False}[form.result.data]
        try:
            attendance.override_result(session, found, decision, form.reason.data or "", actor=_actor())
        except service.CourseError as error:
            session.rollback()
            flash(error.message, "error")
        else:
            session.commit()
            flash(_("The result of %(name)s has been changed.", name=found.user.full_name), "success")
    else:
        flash(_("Choose one of the listed results."), "error")
    return redirect(url_for("enrolments.results", course_id=course.id))
