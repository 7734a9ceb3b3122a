"""Reports: staff trained against the target, by sex, country, institution and category;
the people behind each number; exports. Coordinators and admins see the people of their
countries, trainers the people of their own courses, trainees nothing."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Response, abort, current_app, render_template, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from lms import db
from lms.access import COURSE_STAFF, STAFF_MANAGERS, policy
from lms.audit.service import record_now
from lms.coaching import overview as coaching_overview
from lms.downloads import attachment
from lms.forms import parse_id
from lms.models import Category, Country, Course, Sex, Track, User
from lms.reports import exports, hr, service, tables
from lms.reports.chart import cumulative_chart
from lms.reports.forms import ReportFilterForm
from lms.reports.service import Filters, Group, Scope
from lms.spreadsheets import write_csv, write_xlsx

bp = Blueprint("reports", __name__, url_prefix="/reports")

MAX_PAGE = 100_000


class ReportAction:
    EXPORTED = "report.exported"


def _actor() -> User:
    return current_user._get_current_object()


def _scope() -> Scope:
    scope = service.scope_for(db.get_session(), _actor())
    if scope is None:
        abort(403)
    return scope


def _filter_form(scope: Scope) -> ReportFilterForm:
    session = db.get_session()
    countries = [
        country
        for country in session.scalars(sa.select(Country).where(Country.code != "REG").order_by(Country.position))
        if scope.country_ids is None or country.id in scope.country_ids
    ]
    courses = sa.select(Course).order_by(Course.start_date.desc(), Course.id.desc())
    if scope.course_ids is not None:
        courses = courses.where(Course.id.in_(scope.course_ids or {-1}))
    elif scope.country_ids is not None:
        courses = courses.where(Course.country_id.in_(scope.country_ids or {-1}))
    tracks = session.scalars(sa.select(Track).where(Track.archived_at.is_(None)).order_by(Track.position)).all()
    form = ReportFilterForm(request.args)
    form.set_choices(countries, list(tracks), list(session.scalars(courses.limit(500))))
    return form


def _filters(form: ReportFilterForm) -> Filters | None:
    """The filters asked for, or None when they are not valid (the form shows why)."""
    return form.to_filters() if form.validate() else None


def _scope_and_filters() -> tuple[Scope, Filters]:
    """For lists and exports, which have no form to show: invalid filters are a 400."""
    scope = _scope()
    filters = _filters(_filter_form(scope))
    if filters is None:
        abort(400)
    return scope, filters


def _group() -> Group:
    """The group named by the query string (``g_*``); a malformed value is a 400."""
    args = request.args
    try:
        country = args.get("g_country")
        institution = args.get("g_institution")
        category = args.get("g_category")
        branch = args.get("g_branch")
        sex = args.get("g_sex")
        month = args.get("g_month")
        if branch not in (None, "military", "civilian", "none"):
            raise ValueError(branch)
        if month is not None and not (len(month) == 7 and month[4] == "-" and month.replace("-", "").isdigit()):
            raise ValueError(month)
        return Group(
            country_id=parse_id(country) if country else None,
            institution_id=parse_id(institution) if institution and institution != "none" else None,
            institution_missing=institution == "none",
            category=Category(category) if category and category != "none" else None,
            category_missing=category == "none",
            branch=branch if branch in ("military", "civilian") else None,
            branch_missing=branch == "none",
            sex=Sex(sex) if sex else None,
            month=month,
        )
    except (ValueError, OverflowError):
        abort(400)


def group_args(group: Group | None) -> dict[str, str]:
    """The query-string arguments naming ``group`` (the inverse of :func:`_group`)."""
    args: dict[str, str] = {}
    if group is None:
        return args
    if group.country_id is not None:
        args["g_country"] = str(group.country_id)
    if group.institution_missing:
        args["g_institution"] = "none"
    elif group.institution_id is not None:
        args["g_institution"] = str(group.institution_id)
    if group.category_missing:
        args["g_category"] = "none"
    elif group.category is not None:
        args["g_category"] = group.category.value
    if group.branch_missing:
        args["g_branch"] = "none"
    elif group.branch is not None:
        args["g_branch"] = group.branch
    if group.month is not None:
        args["g_month"] = group.month
    return args


def filter_args() -> dict[str, str]:
    return {key: value for key, value in request.args.items() if key in {"start", "end", "country", "track", "course"}}


@bp.get("/")
@policy(COURSE_STAFF)
def dashboard() -> tuple[str, int] | str:
    scope = _scope()
    form = _filter_form(scope)
    filters = _filters(form)
    if filters is None:
        return render_template("reports/dashboard.html", form=form, figures=None), 400
    session = db.get_session()
    figures = service.figures(session, filters, scope)
    trend = figures.cumulative()
    target = current_app.config["TARGET_TRAINED"]
    return render_template(
        "reports/dashboard.html",
        form=form,
        figures=figures,
        tables=tables.build(session, figures),
        trend=trend,
        chart=cumulative_chart([(month, running) for month, running, _tally in trend], target),
        target=target,
        filter_args=filter_args(),
        group_args=group_args,
        month_group=lambda month: Group(month=month),
        can_export_people=STAFF_MANAGERS.allows(_actor()),
        Sex=Sex,
        sex_order=tables.SEX_ORDER,
    )


@bp.get("/people")
@policy(COURSE_STAFF)
def people() -> tuple[str, int] | str:
    scope, filters = _scope_and_filters()
    group = _group()
    page = request.args.get("page", "1")
    number = int(page) if page.isdigit() and 0 < int(page) <= MAX_PAGE else 1
    session = db.get_session()
    listing = service.people_in(session, filters, scope, group, page=number)
    return render_template(
        "reports/people.html",
        listing=listing,
        group=group,
        describe=exports.describe_group(session, group),
        filters_text=exports.describe_filters(session, filters),
        filter_args=filter_args(),
    )


def _export(fmt: str, body: bytes, filename: str, mimetype: str, what: str, filters: Filters) -> Response:
    record_now(
        ReportAction.EXPORTED,
        actor=_actor(),
        details={"what": what, "format": fmt, "filters": {k: v for k, v in filter_args().items() if v}},
    )
    return attachment(body, filename, mimetype)


@bp.get("/export.<any(csv, xlsx, pdf):fmt>")
@policy(COURSE_STAFF)
def export(fmt: str) -> Response:
    scope, filters = _scope_and_filters()
    session = db.get_session()
    figures = service.figures(session, filters, scope)
    context: dict[str, Any] = {"filters_text": exports.describe_filters(session, filters)}
    if fmt == "csv":
        body = exports.tables_csv(session, figures)
        return _export(fmt, body, "staff-trained.csv", "text/csv", "tables", filters)
    if fmt == "xlsx":
        body = exports.tables_xlsx(session, figures, context["filters_text"])
        mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        return _export(fmt, body, "staff-trained.xlsx", mimetype, "tables", filters)
    body = exports.summary_pdf(session, figures, context["filters_text"], current_app.config["TARGET_TRAINED"])
    return _export(fmt, body, "staff-trained.pdf", "application/pdf", "summary", filters)


@bp.get("/people/export.<any(csv, xlsx):fmt>")
@policy(STAFF_MANAGERS)
def people_export(fmt: str) -> Response:
    scope, filters = _scope_and_filters()
    session = db.get_session()
    people = service.all_people(session, filters, scope)
    if fmt == "csv":
        return _export(fmt, exports.people_csv(people), "staff-trained-people.csv", "text/csv", "people", filters)
    mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return _export(fmt, exports.people_xlsx(people), "staff-trained-people.xlsx", mimetype, "people", filters)


# --- The human resources report ---------------------------------------------------------------


@bp.get("/hr")
@policy(COURSE_STAFF)
def hr_report() -> tuple[str, int] | str:
    scope = _scope()
    form = _filter_form(scope)
    filters = _filters(form)
    if filters is None:
        return render_template("reports/hr.html", form=form, hr=None, filter_args={}), 400
    session = db.get_session()
    actor = _actor()
    staff = STAFF_MANAGERS.allows(actor)
    return render_template(
        "reports/hr.html",
        form=form,
        hr=hr.report(session, filters, scope),
        commanders=service.figures(session, filters, scope).by_category.get(Category.COMMANDER),
        coaching=coaching_overview.figures(session, actor) if staff else None,
        filter_args=filter_args(),
        Sex=Sex,
        sex_order=tables.SEX_ORDER,
    )


@bp.get("/hr/export.<any(csv, xlsx):fmt>")
@policy(COURSE_STAFF)
def hr_export(fmt: str) -> Response:
    scope, filters = _scope_and_filters()
    data = hr.sheets(hr.report(db.get_session(), filters, scope))
    if fmt == "csv":
        rows = [[title, *row] for title, _header, body in data for row in body]
        body = write_csv([str(_l("Table")), *data[0][1]], rows)
        return _export(fmt, body, "hr-report.csv", "text/csv", "hr", filters)
    mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return _export(fmt, write_xlsx(data), "hr-report.xlsx", mimetype, "hr", filters)
