"""The signed-in person's own account, and the language of the interface."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response
from wtforms import SelectField
from wtforms.validators import InputRequired

from lms import access, db
from lms.access import AUTHENTICATED, PUBLIC, policy
from lms.forms import BaseForm, options
from lms.i18n import LANGUAGES
from lms.models import Notification
from lms.people import service as people
from lms.web import safe_next_url

bp = Blueprint("account", __name__, url_prefix="/account")


class LanguageForm(BaseForm):
    language = SelectField(choices=options(LANGUAGES), validators=[InputRequired()])


@bp.get("/")
@policy(AUTHENTICATED)
def profile() -> str:
    return render_template("account/profile.html", person=current_user)


@bp.post("/language")
@policy(PUBLIC)
def language() -> Response:
    form = LanguageForm()
    if form.validate():
        chosen = form.language.data
        session["language"] = chosen
        g.pop("language", None)
        if current_user.is_authenticated:
            people.set_preferred_language(db.get_session(), current_user._get_current_object(), chosen)
            db.get_session().commit()
    else:
        flash(_("Choose one of the listed languages."), "error")
    return redirect(safe_next_url(request.form.get("next")) or url_for("dashboard.home"))


@bp.post("/notices/<int:notice_id>/dismiss")
@policy(AUTHENTICATED)
def dismiss_notice(notice_id: int) -> Response:
    session = db.get_session()
    notice = session.get(Notification, notice_id)
    if notice is None or notice.user_id != current_user.id:
        access.deny(404, reason="notice of another person", target=notice)
    if BaseForm().validate() and notice.read_at is None:
        notice.read_at = db.utcnow()
        session.commit()
    return redirect(url_for("dashboard.home"))
