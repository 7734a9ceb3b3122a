"""The home page: one dashboard, with a panel for each of the reader's roles."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from lms import db
from lms.access import PUBLIC, policy
from lms.audit.service import list_events
from lms.curriculum.service import learner_state
from lms.curriculum.store import current_curriculum
from lms.dashboard.service import my_courses, people_figures, unread_notices
from lms.errors import RETRY_AFTER_SECONDS
from lms.forms import BaseForm
from lms.i18n import current_language
from lms.models import Role

bp = Blueprint("dashboard", __name__)


@bp.get("/")
@policy(PUBLIC)
def home() -> str | Response:
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    session = db.get_session()
    user = current_user._get_current_object()
    figures = people_figures(session, actor=user) if user.has_role(Role.ADMIN, Role.COORDINATOR) else None
    recent = list_events(session, limit=8).events if user.has_role(Role.ADMIN) else []
    learning = learner_state(session, current_curriculum(), user)
    return render_template(
        "dashboard/home.html",
        user=user,
        courses=my_courses(session, user),
        notices=unread_notices(session, user),
        notice_form=BaseForm(),
        figures=figures,
        recent_events=recent,
        learning=learning,
        curriculum=current_curriculum(),
        language=current_language(),
        Role=Role,
    )


@bp.get("/healthz")
@policy(PUBLIC)
def health() -> tuple[dict[str, str], int] | tuple[dict[str, str], int, dict[str, str]]:
    """For load balancers and monitoring: the app answers and its database can be written.

    503 ``{"status": "error", "database": "unavailable" | "read-only" | "timed out" | ...}``
    otherwise: a database that answers reads but refuses every write is not healthy.
    """
    state = db.health(db.get_engine())
    if state != "ok":
        return {"status": "error", "database": state}, 503, {"Retry-After": str(RETRY_AFTER_SECONDS)}
    return {"status": "ok", "database": "ok"}, 200
