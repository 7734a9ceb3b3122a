"""Log in, log out, change a password, set one from an invitation link."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from lms import db
from lms.access import AUTHENTICATED, PUBLIC, policy
from lms.audit.service import Action, record
from lms.auth import service, sessions
from lms.auth.forms import ChangePasswordForm, LoginForm, SetPasswordForm, add_policy_errors
from lms.auth.passwords import password_problems, verify_password
from lms.people import service as people
from lms.web import safe_next_url

bp = Blueprint("auth", __name__, url_prefix="/auth")


def _after_login_url(form_next: str | None) -> str:
    return safe_next_url(form_next) or url_for("dashboard.home")


@bp.get("/login")
@policy(PUBLIC)
def login() -> str | Response:
    if current_user.is_authenticated:
        return redirect(_after_login_url(request.args.get("next")))
    form = LoginForm(next=safe_next_url(request.args.get("next")) or "")
    return render_template("auth/login.html", form=form)


@bp.post("/login")
@policy(PUBLIC)
def login_submit() -> str | Response | tuple[str, int, dict[str, str]]:
    form = LoginForm()
    if not form.validate():
        return render_template("auth/login.html", form=form), 400
    session = db.get_session()
    result = service.authenticate(session, form.email.data, form.password.data, request.remote_addr)
    if result.throttled is not None:
        form.password.errors = [
            _("Too many failed attempts. Try again in %(minutes)d minutes.", minutes=result.throttled.minutes)
        ]
        headers = {"Retry-After": str(result.throttled.retry_after_seconds)}
        return render_template("auth/login.html", form=form), 429, headers
    if result.user is None:
        form.password.errors = [_("The email address or password is not correct.")]
        return render_template("auth/login.html", form=form), 401
    session.commit()
    sessions.start_session(result.user)
    return redirect(_after_login_url(form.next.data))


@bp.post("/logout")
@policy(AUTHENTICATED)
def logout() -> Response:
    session = db.get_session()
    user = current_user._get_current_object()
    # A new nonce ends this session everywhere: a copied cookie stops working too.
    sessions.end_all_sessions(user)
    record(session, Action.LOGOUT, actor=user, subject=user.email)
    session.commit()
    sessions.end_session()
    flash(_("You have logged out."), "success")
    return redirect(url_for("auth.login"))


@bp.get("/password")
@policy(AUTHENTICATED)
def change_password() -> str:
    return render_template("auth/change_password.html", form=ChangePasswordForm())


@bp.post("/password")
@policy(AUTHENTICATED)
def change_password_submit() -> str | Response | tuple[str, int]:
    form = ChangePasswordForm()
    user = current_user._get_current_object()
    valid = form.validate()
    if valid and not verify_password(user.password_hash, form.current_password.data):
        form.current_password.errors = [_("The current password is not correct.")]
        valid = False
    if valid:
        problems = password_problems(form.new_password.data, email=user.email, full_name=user.full_name)
        valid = add_policy_errors(form, "new_password", problems)
    if not valid:
        return render_template("auth/change_password.html", form=form), 400
    session = db.get_session()
    people.set_password(session, user, form.new_password.data)
    record(session, Action.PASSWORD_CHANGED, actor=user, target=user)
    session.commit()
    # Every other session has ended with the new nonce; this one continues with it.
    sessions.start_session(user)
    flash(_("Your password has been changed. You have been logged out everywhere else."), "success")
    return redirect(url_for("account.profile"))


@bp.get("/activate/<token>")
@policy(PUBLIC)
def activate(token: str) -> str | tuple[str, int]:
    link = people.find_account_link(db.get_session(), token)
    if link is None:
        return render_template("auth/link_invalid.html"), 404
    return render_template("auth/activate.html", form=SetPasswordForm(), person=link.user)


@bp.post("/activate/<token>")
@policy(PUBLIC)
def activate_submit(token: str) -> str | Response | tuple[str, int]:
    session = db.get_session()
    link = people.find_account_link(session, token)
    if link is None:
        return render_template("auth/link_invalid.html"), 404
    form = SetPasswordForm()
    valid = form.validate()
    if valid:
        problems = password_problems(form.new_password.data, email=link.user.email, full_name=link.user.full_name)
        valid = add_policy_errors(form, "new_password", problems)
    if not valid:
        return render_template("auth/activate.html", form=form, person=link.user), 400
    try:
        user = people.use_account_link(session, link, form.new_password.data)
    except people.PeopleError:
        session.rollback()
        return render_template("auth/link_invalid.html"), 404
    session.commit()
    if current_user.is_authenticated:
        sessions.end_session()
    flash(_("Your password is set. You can now log in as %(email)s.", email=user.email), "success")
    return redirect(url_for("auth.login"))
