"""The audit log, for administrators. There is no route that changes or deletes an entry."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField
from wtforms.validators import Optional

from lms import db
from lms.access import ADMINS, policy
from lms.audit.service import known_actions, list_events
from lms.forms import SearchForm, email_rules, lower_email, options
from lms.web import MAX_ID


class AuditFilterForm(SearchForm):
    action = SelectField(_l("Action"), validate_choice=True)
    actor = StringField(_l("Actor's email"), [Optional(), *email_rules()], filters=[lower_email])


bp = Blueprint("audit", __name__, url_prefix="/audit")


@bp.get("/")
@policy(ADMINS)
def index() -> str | tuple[str, int]:
    form = AuditFilterForm(request.args)
    form.action.choices = options([("", str(_l("All actions"))), *((a, a) for a in known_actions())])
    before = request.args.get("before", type=int)
    if before is not None and not 0 < before <= MAX_ID:
        before = None
    if request.args and not form.validate():
        return render_template("audit/index.html", form=form, page=None), 400
    page = list_events(
        db.get_session(), action=form.action.data or None, actor_email=form.actor.data or None, before_id=before
    )
    return render_template("audit/index.html", form=form, page=page)
