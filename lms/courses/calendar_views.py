"""The agenda of a person's sessions (month or week), and their personal calendar feed."""

from __future__ import annotations

from datetime import date, timedelta

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response as WerkzeugResponse

from lms import db
from lms.access import AUTHENTICATED, PUBLIC, policy
from lms.courses import calendar
from lms.downloads import attachment
from lms.forms import BaseForm, date_in_range
from lms.models import User

bp = Blueprint("calendar", __name__, url_prefix="/calendar")


def _day(value: str | None) -> date:
    """The day asked for, or today when it is missing, unreadable or out of the range of
    dates people may enter (the weeks and months around it must stay within Python's)."""
    try:
        day = date.fromisoformat(value) if value else None
    except ValueError:
        day = None
    return day if day is not None and date_in_range(day) else db.utcnow().date()


@bp.get("/")
@policy(AUTHENTICATED)
def agenda() -> str:
    user: User = current_user._get_current_object()
    view = "week" if request.args.get("view") == "week" else "month"
    day = _day(request.args.get("date"))
    session = db.get_session()
    if view == "week":
        monday = day - timedelta(days=day.weekday())
        days = calendar.week_days(monday, calendar.sessions_for(session, user, monday, monday + timedelta(days=6)))
        previous, following = monday - timedelta(days=7), monday + timedelta(days=7)
        context = {"days": days, "monday": monday}
    else:
        first = day.replace(day=1)
        weeks = calendar.month_grid(first, [])
        start, end = weeks[0][0].day, weeks[-1][-1].day
        weeks = calendar.month_grid(first, calendar.sessions_for(session, user, start, end))
        previous = (first - timedelta(days=1)).replace(day=1)
        following = (first + timedelta(days=32)).replace(day=1)
        context = {"weeks": weeks, "first": first}
    return render_template(
        "calendar/agenda.html",
        view=view,
        day=day,
        previous=previous,
        following=following,
        today=db.utcnow().date(),
        feed_url=calendar.person_feed_url(user),
        reset_form=BaseForm(),
        **context,
    )


@bp.post("/feed")
@policy(AUTHENTICATED)
def reset_feed() -> WerkzeugResponse:
    if BaseForm().validate():
        session = db.get_session()
        user = current_user._get_current_object()
        had_one = user.calendar_nonce is not None
        calendar.reset_person_feed(session, user)
        session.commit()
        flash(
            _("Your calendar has a new address; the old one no longer works.")
            if had_one
            else _("Your calendar address is ready."),
            "success",
        )
    return redirect(url_for("calendar.agenda") + "#feed")


@bp.get("/feed/<int:user_id>/<token>.ics")
@policy(PUBLIC)
def feed(user_id: int, token: str) -> Response:
    session = db.get_session()
    user = calendar.person_from_token(session, user_id, token)
    if user is None:
        abort(404)
    sessions = calendar.sessions_for(session, user, db.utcnow().date() - timedelta(days=180))
    return attachment(
        calendar.build_calendar(_("RNGT: my sessions"), sessions),
        "rngt-sessions.ics",
        "text/calendar; charset=utf-8",
        inline=True,
    )
