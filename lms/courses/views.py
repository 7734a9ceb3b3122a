"""Courses: plan them, schedule their sessions, publish or cancel them; course calendars."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response as WerkzeugResponse

from lms import access, db
from lms.access import AUTHENTICATED, COURSE_STAFF, PUBLIC, policy
from lms.courses import calendar, schedule, service
from lms.courses.forms import CourseForm, ReasonForm, SessionForm, StatusForm
from lms.curriculum.service import active_modules, active_tracks
from lms.downloads import attachment
from lms.forms import BaseForm
from lms.models import Course, CourseStatus, EnrolmentStatus, Role, RoleGrant, User
from lms.reference import countries_in_order, institutions_in_order

bp = Blueprint("courses", __name__, url_prefix="/courses")


def _actor() -> User:
    return current_user._get_current_object()


def _form_error(form: BaseForm, error: service.CourseError) -> None:
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = [*field.errors, error.message]
    else:
        flash(error.message, "error")


def _course_form(formdata: object = None, course: Course | None = None) -> CourseForm:
    session = db.get_session()
    form = CourseForm(formdata=formdata, obj=course) if formdata is not None else CourseForm(obj=course)
    if formdata is None and course is not None:
        form.module_ids.data = [link.module_id for link in course.modules]
        form.trainer_ids.data = [link.user_id for link in course.trainers]
    elif formdata is None:
        form.trainer_ids.data = [_actor().id] if _actor().has_role(Role.TRAINER) else []
    scope = access.reach_country_ids(_actor())
    countries = [c for c in countries_in_order(session) if scope is None or c.id in scope]
    if course is not None and course.country not in countries:
        countries.append(course.country)
    trainers = (
        db.get_session()
        .scalars(
            sa.select(User)
            .where(User.is_active, User.role_grants.any(RoleGrant.role == Role.TRAINER))
            .order_by(User.sort_name)
        )
        .all()
    )
    modules = sorted(active_modules(session).values(), key=lambda m: (m.track.position, m.position))
    form.set_choices(
        countries, institutions_in_order(session), list(active_tracks(session).values()), modules, list(trainers)
    )
    return form


@bp.get("/")
@policy(COURSE_STAFF)
def index() -> str:
    session = db.get_session()
    status = request.args.get("status")
    wanted = CourseStatus(status) if status in set(CourseStatus) else None
    courses = service.courses_for(session, _actor(), status=wanted)
    counts = service.enrolled_counts(session, [course.id for course in courses])
    return render_template(
        "courses/index.html", courses=courses, counts=counts, status=wanted, CourseStatus=CourseStatus
    )


@bp.get("/open")
@policy(AUTHENTICATED)
def open_courses() -> str:
    courses = service.open_courses_for(db.get_session(), _actor())
    return render_template("courses/open.html", courses=courses)


@bp.get("/new")
@policy(COURSE_STAFF)
def new() -> str:
    return render_template("courses/edit.html", form=_course_form(), course=None)


@bp.post("/new")
@policy(COURSE_STAFF)
def new_submit() -> str | WerkzeugResponse | tuple[str, int]:
    form = _course_form(request.form)
    if form.validate():
        session = db.get_session()
        try:
            course = service.create_course(session, form.to_data(), actor=_actor())
        except service.CourseError as error:
            session.rollback()
            _form_error(form, error)
        else:
            session.commit()
            flash(_("The course is saved as a draft. Now schedule its sessions."), "success")
            return redirect(url_for("courses.detail", course_id=course.id))
    return render_template("courses/edit.html", form=form, course=None), 400


@bp.get("/<int:course_id>")
@policy(AUTHENTICATED)
def detail(course_id: int) -> str:
    session = db.get_session()
    course, own = service.get_course_for_viewer(session, course_id, _actor())
    manages = access.can_manage_course(_actor(), course)
    counts = service.enrolled_counts(session, [course.id])[course.id]
    return render_template(
        "courses/detail.html",
        course=course,
        own=own,
        manages=manages,
        counts=counts,
        status_form=StatusForm(),
        action_form=BaseForm(),
        feed_url=calendar.course_feed_url(course, _actor()) if manages else None,
        can_join=own is None and service.is_open_to(course, _actor()),
        stage=schedule.stage(course),
        ends_at=schedule.ends_at(course),
        started={meeting.id for meeting in course.sessions if schedule.session_has_started(meeting)},
        Stage=schedule.Stage,
        CourseStatus=CourseStatus,
        EnrolmentStatus=EnrolmentStatus,
    )


@bp.get("/<int:course_id>/edit")
@policy(COURSE_STAFF)
def edit(course_id: int) -> str:
    course = service.get_course_for_manager(db.get_session(), course_id, _actor())
    return render_template("courses/edit.html", form=_course_form(course=course), course=course)


@bp.post("/<int:course_id>/edit")
@policy(COURSE_STAFF)
def edit_submit(course_id: int) -> str | WerkzeugResponse | tuple[str, int]:
    session = db.get_session()
    course = service.get_course_for_manager(session, course_id, _actor())
    form = _course_form(request.form, course)
    if form.validate():
        try:
            service.update_course(session, course, form.to_data(), actor=_actor())
        except service.CourseError as error:
            session.rollback()
            _form_error(form, error)
            course = service.get_course_for_manager(session, course_id, _actor())
        else:
            session.commit()
            flash(_("The changes have been saved."), "success")
            return redirect(url_for("courses.detail", course_id=course.id))
    return render_template("courses/edit.html", form=form, course=course), 400


@bp.post("/<int:course_id>/duplicate")
@policy(COURSE_STAFF)
def duplicate(course_id: int) -> WerkzeugResponse:
    session = db.get_session()
    course = service.get_course_for_manager(session, course_id, _actor())
    if not BaseForm().validate():
        abort(400)
    copy = service.duplicate_course(session, course, actor=_actor())
    session.commit()
    flash(_("A copy was made as a draft: adjust its dates and sessions."), "success")
    return redirect(url_for("courses.edit", course_id=copy.id))


@bp.post("/<int:course_id>/status")
@policy(COURSE_STAFF)
def status_submit(course_id: int) -> WerkzeugResponse:
    session = db.get_session()
    course = service.get_course_for_manager(session, course_id, _actor())
    form = StatusForm()
    if form.validate():
        try:
            service.change_status(
                session, course, CourseStatus(form.status.data), actor=_actor(), reason=form.reason.data or None
            )
        except service.CourseError as error:
            session.rollback()
            flash(error.message, "error")
        else:
            session.commit()
            flash(_("The course status has been changed."), "success")
    else:
        flash(_("Choose one of the listed statuses."), "error")
    return redirect(url_for("courses.detail", course_id=course_id))


# --- Sessions ---------------------------------------------------------------------------


def _session_form(course: Course, formdata: object = None, obj: object = None) -> SessionForm:
    form = SessionForm(formdata=formdata, obj=obj) if formdata is not None else SessionForm(obj=obj)
    form.set_choices(sorted((link.user for link in course.trainers), key=lambda user: user.sort_name))
    return form


@bp.get("/<int:course_id>/sessions/new")
@policy(COURSE_STAFF)
def session_new(course_id: int) -> str:
    course = service.get_course_for_manager(db.get_session(), course_id, _actor())
    form = _session_form(course)
    if not form.date.data:
        form.date.data = course.start_date
    return render_template("courses/session_edit.html", form=form, course=course, course_session=None, warnings=[])


@bp.get("/<int:course_id>/sessions/<int:session_id>/edit")
@policy(COURSE_STAFF)
def session_edit(course_id: int, session_id: int) -> str:
    session = db.get_session()
    course = service.get_course_for_manager(session, course_id, _actor())
    found = service.get_session_of(session, course, session_id)
    return render_template(
        "courses/session_edit.html",
        form=_session_form(course, obj=found),
        course=course,
        course_session=found,
        warnings=[],
    )


@bp.post("/<int:course_id>/sessions/new", endpoint="session_new_submit")
@bp.post("/<int:course_id>/sessions/<int:session_id>/edit", endpoint="session_edit_submit")
@policy(COURSE_STAFF)
def session_submit(course_id: int, session_id: int | None = None) -> str | WerkzeugResponse | tuple[str, int]:
    session = db.get_session()
    course = service.get_course_for_manager(session, course_id, _actor())
    existing = service.get_session_of(session, course, session_id) if session_id is not None else None
    form = _session_form(course, request.form)
    warnings: list[str] = []
    if form.validate():
        data = form.to_data()
        warnings = service.session_warnings(session, course, data, exclude_id=session_id)
        if not warnings or form.confirm.data:
            try:
                service.save_session(session, course, data, actor=_actor(), existing=existing)
            except service.CourseError as error:
                session.rollback()
                _form_error(form, error)
            else:
                session.commit()
                flash(_("The session has been saved."), "success")
                return redirect(url_for("courses.detail", course_id=course.id) + "#sessions")
    return render_template(
        "courses/session_edit.html", form=form, course=course, course_session=existing, warnings=warnings
    ), 400


@bp.post("/<int:course_id>/sessions/<int:session_id>/cancel")
@policy(COURSE_STAFF)
def session_cancel(course_id: int, session_id: int) -> WerkzeugResponse:
    session = db.get_session()
    course = service.get_course_for_manager(session, course_id, _actor())
    found = service.get_session_of(session, course, session_id)
    form = ReasonForm()
    if not form.validate():
        flash(_("Give the reason for cancelling: the people enrolled will see it."), "error")
        return redirect(url_for("courses.session_edit", course_id=course.id, session_id=found.id))
    try:
        told = service.cancel_session(session, found, form.reason.data, actor=_actor())
    except service.CourseError as error:
        session.rollback()
        flash(error.message, "error")
    else:
        session.commit()
        flash(_("The session is cancelled; %(count)d people were told on their dashboard.", count=told), "success")
    return redirect(url_for("courses.detail", course_id=course.id) + "#sessions")


# --- Calendars --------------------------------------------------------------------------------


def _ics(course: Course) -> Response:
    body = calendar.build_calendar(course.title, list(course.sessions))
    return attachment(body, f"course-{course.id}.ics", "text/calendar; charset=utf-8", inline=True)


# A course's calendar is for the people who run it; a participant's sessions are in their
# own calendar (lms.courses.calendar_views), which drops them when they leave the course.
@bp.get("/<int:course_id>/calendar.ics")
@policy(COURSE_STAFF)
def course_ics(course_id: int) -> Response:
    return _ics(service.get_course_for_manager(db.get_session(), course_id, _actor()))


@bp.get("/<int:course_id>/calendar/<int:user_id>/<token>.ics")
@policy(PUBLIC)
def course_feed(course_id: int, user_id: int, token: str) -> Response:
    course = calendar.course_from_token(db.get_session(), course_id, user_id, token)
    if course is None:
        abort(404)
    return _ics(course)


@bp.post("/<int:course_id>/calendar/new-address")
@policy(COURSE_STAFF)
def course_feed_reset(course_id: int) -> WerkzeugResponse:
    session = db.get_session()
    course = service.get_course_for_manager(session, course_id, _actor())
    if BaseForm().validate():
        calendar.reset_course_feed(session, course, actor=_actor())
        session.commit()
        flash(_("The course calendar has new addresses; the old ones no longer work."), "success")
    return redirect(url_for("courses.detail", course_id=course.id) + "#calendar")
