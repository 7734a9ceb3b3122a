"""Log in (with the second factor, when there is one), log out, change a password, set
one from an invitation link."""

from __future__ import annotations

import hmac
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask import session as cookie_session
from flask_babel import format_date, ngettext
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup
from werkzeug.wrappers import Response

from lms import db
from lms.access import AUTHENTICATED, PUBLIC, policy
from lms.audit.service import Action, record
from lms.auth import mfa, mfa_secrets, service, sessions
from lms.auth.forms import ChangePasswordForm, LoginForm, SetPasswordForm, add_policy_errors
from lms.auth.mfa_forms import ChallengeForm
from lms.auth.passwords import password_problems
from lms.models import User
from lms.people import service as people
from lms.web import safe_next_url

bp = Blueprint("auth", __name__, url_prefix="/auth")

#: The signed session cookie holds this between the password and the code. It is not a
#: login: flask-login knows nobody until ``sessions.start_session``.
_PENDING = "mfa_pending"


def _after_login_url(form_next: str | None) -> str:
    return safe_next_url(form_next) or url_for("dashboard.home")


def _device_cookie() -> str:
    # "__Host-" in production, like the session cookie: only this host, only over HTTPS.
    prefix = "__Host-" if current_app.config["SESSION_COOKIE_NAME"].startswith("__Host-") else ""
    return f"{prefix}lms_device"


def _begin_challenge(user: User, next_url: str | None) -> None:
    """Remember, for a few minutes, that ``user`` gave the right password in this browser."""
    language = cookie_session.get("language")
    cookie_session.clear()  # whoever was signed in here before is not any more
    if language:
        cookie_session["language"] = language
    cookie_session[_PENDING] = {
        "user_id": user.id,
        # A logout or password change elsewhere in the meantime ends the attempt.
        "nonce": user.session_nonce,
        "at": db.utcnow().timestamp(),
        "next": next_url or "",
    }


def _pending() -> tuple[User, str] | None:
    """The person half-way through signing in here, and where they were going."""
    pending: Any = cookie_session.get(_PENDING)
    if not isinstance(pending, dict):
        return None
    age = db.utcnow().timestamp() - float(pending.get("at") or 0)
    user = None
    if 0 <= age <= mfa.PENDING_LIFETIME.total_seconds() and isinstance(pending.get("user_id"), int):
        user = db.get_session().get(User, pending["user_id"])
    nonce = str(pending.get("nonce") or "")
    if user is None or not user.is_active or not hmac.compare_digest(user.session_nonce.encode(), nonce.encode()):
        cookie_session.pop(_PENDING, None)
        return None
    return user, str(pending.get("next") or "")


def _challenge_page(form: ChallengeForm, status: int = 200, headers: dict[str, str] | None = None) -> Any:
    days = current_app.config["MFA_REMEMBER_DAYS"]
    form.remember.description = ngettext(
        "For %(num)d day, or until you change your password.",
        "For %(num)d days, or until you change your password.",
        days,
    )
    return render_template("auth/mfa.html", form=form, remember_days=days), status, headers or {}


def _signed_in_response(user: User, decision: mfa.Decision, next_url: str | None) -> Response:
    """Start the session of ``user`` and say what they should know about their second factor."""
    sessions.start_session(user)
    if decision.next is mfa.Next.SET_UP and decision.deadline is not None:
        flash(
            _(
                "Your role gives you access to personal data, so your account needs a second factor. "
                "Set it up now: from %(date)s you cannot log in without it.",
                date=format_date(decision.deadline),
            ),
            "info",
        )
        return redirect(url_for("mfa.setup"))
    if decision.next is mfa.Next.INVITE:
        flash(
            Markup('{} <a href="{}">{}</a>').format(
                _("Your role gives you access to personal data: protect your account with a second factor."),
                url_for("mfa.overview"),
                _("Set it up now"),
            ),
            "info",
        )
    return redirect(_after_login_url(next_url))


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
        form.password.errors = [service.throttle_message(result.throttled)]
        headers = {"Retry-After": str(result.throttled.retry_after_seconds)}
        return render_template("auth/login.html", form=form), 429, headers
    if result.user is None:
        form.password.errors = [_("The email address or password is not correct.")]
        return render_template("auth/login.html", form=form), 401
    user = result.user
    decision = mfa.after_password(session, user, device_token=request.cookies.get(_device_cookie()))
    session.commit()
    if decision.next is mfa.Next.CHALLENGE:
        _begin_challenge(user, safe_next_url(form.next.data))
        return redirect(url_for("auth.second_factor"))
    if decision.next is mfa.Next.REFUSE:
        deadline = format_date(decision.deadline) if decision.deadline else ""
        return render_template("auth/mfa_refused.html", deadline=deadline), 403
    return _signed_in_response(user, decision, form.next.data)


@bp.get("/mfa")
@policy(PUBLIC)
def second_factor() -> Any:
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.home"))
    if _pending() is None:
        flash(_("Please log in again: the time to type the code has run out."), "info")
        return redirect(url_for("auth.login"))
    return _challenge_page(ChallengeForm())


@bp.post("/mfa")
@policy(PUBLIC)
def second_factor_submit() -> Any:
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.home"))
    pending = _pending()
    if pending is None:
        flash(_("Please log in again: the time to type the code has run out."), "info")
        return redirect(url_for("auth.login"))
    user, next_url = pending
    form = ChallengeForm()
    if not form.validate():
        return _challenge_page(form, 400)
    session = db.get_session()
    try:
        method = mfa.check_code(session, user, form.code.data)
    except mfa.MfaThrottled as throttled:
        form.code.errors = [throttled.message]
        return _challenge_page(form, 429, {"Retry-After": str(throttled.retry_after)})
    except mfa.MfaError as error:
        form.code.errors = [error.message]
        return _challenge_page(form, 401)
    token = mfa_secrets.remember_device(session, user) if form.remember.data else None
    left = mfa_secrets.recovery_codes_left(session, user)
    session.commit()
    response = _signed_in_response(user, mfa.Decision(mfa.Next.SIGN_IN), next_url)
    if method is mfa.Method.RECOVERY_CODE:
        flash(
            _("You logged in with a recovery code. Recovery codes left: %(count)d.", count=left),
            "info",
        )
    if token:
        response.set_cookie(
            _device_cookie(), token,
            max_age=current_app.config["MFA_REMEMBER_DAYS"] * 86400,
            secure=current_app.config["SESSION_COOKIE_SECURE"], httponly=True, samesite="Lax",
        )  # fmt: skip
    return response


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
    session = db.get_session()
    if not form.validate():
        return render_template("auth/change_password.html", form=form), 400
    confirmed = service.confirm_password(session, user, form.current_password.data, request.remote_addr)
    if confirmed.user is None:
        form.current_password.errors = [
            service.throttle_message(confirmed.throttled)
            if confirmed.throttled
            else _("The current password is not correct.")
        ]
        return render_template("auth/change_password.html", form=form), 429 if confirmed.throttled else 400
    problems = password_problems(form.new_password.data, email=user.email, full_name=user.full_name)
    if not add_policy_errors(form, "new_password", problems):
        return render_template("auth/change_password.html", form=form), 400
    people.set_password(session, user, form.new_password.data)
    # A remembered device no longer matches the new password anyway; this also deletes it.
    mfa_secrets.forget_devices(session, user)
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
