"""The directory of the Regional Network of Gender Trainers, and each trainer's entry."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response as WerkzeugResponse

from lms import db
from lms.access import AUTHENTICATED, policy, roles
from lms.courses import network
from lms.courses.forms import TrainerProfileForm
from lms.models import Role, TrainerProfile, User

bp = Blueprint("network", __name__, url_prefix="/network")


@bp.get("/")
@policy(AUTHENTICATED)
def directory() -> str:
    return render_template("network/directory.html", entries=network.directory(db.get_session()))


@bp.get("/profile")
@policy(roles(Role.TRAINER))
def profile() -> str:
    user: User = current_user._get_current_object()
    saved = db.get_session().get(TrainerProfile, user.id)
    form = TrainerProfileForm(
        data={
            "languages": saved.languages.split(",") if saved and saved.languages else [],
            "topics": saved.topics if saved else "",
        }
    )
    return render_template("network/profile.html", form=form)


@bp.post("/profile")
@policy(roles(Role.TRAINER))
def profile_submit() -> str | WerkzeugResponse | tuple[str, int]:
    form = TrainerProfileForm(request.form)
    if not form.validate():
        return render_template("network/profile.html", form=form), 400
    session = db.get_session()
    user = current_user._get_current_object()
    network.save_profile(session, user, list(form.languages.data or []), form.topics.data or "", actor=user)
    session.commit()
    flash(_("Your entry in the network's directory has been saved."), "success")
    return redirect(url_for("network.directory"))
