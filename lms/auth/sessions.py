"""Login sessions that the server can end.

Flask's session cookie is self-contained, so logging out alone would leave a copied
cookie valid (SECURITY.md, finding 4). The session stores ``<user id>:<nonce>``; the
nonce lives on the user row and changes at logout, password change or when an admin
disables the account, which ends every session of that user at once.
"""

from __future__ import annotations

import hmac

from flask import Flask, current_app, flash, redirect, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager, current_user, login_user, logout_user
from sqlalchemy import orm
from werkzeug.wrappers import Response

from lms import db
from lms.models import User
from lms.models.people import new_session_nonce

login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = _l("Please log in to see this page.")
login_manager.login_message_category = "info"
# Our own nonce already ties the session to the server; "strong" would also log people
# out whenever their address changes (phones moving between networks).
login_manager.session_protection = "basic"

_SEEN_UPDATE_SECONDS = 60


@login_manager.user_loader
def _load_user(identity: str) -> User | None:
    user_id, _, nonce = identity.partition(":")
    if not user_id.isdigit() or not nonce or len(user_id) > 10:
        return None
    # One query for the person and their roles, which nearly every page asks about.
    user = db.get_session().get(User, int(user_id), options=[orm.joinedload(User.role_grants)])
    if user is None or not user.is_active or user.password_hash is None:
        return None
    if not hmac.compare_digest(user.session_nonce.encode(), nonce.encode()):
        return None
    return user


def start_session(user: User) -> None:
    """Log ``user`` in with a fresh session: nothing from before the login survives."""
    # The profile's language goes in the cookie too, for the page shown while the database is away.
    language = user.preferred_language or session.get("language")
    session.clear()
    if language:
        session["language"] = language
    now = db.utcnow().timestamp()
    session["login_at"] = now
    session["seen_at"] = now
    session.permanent = True
    login_user(user, remember=False)


def end_all_sessions(user: User) -> None:
    """Invalidate every session of ``user`` (the caller commits)."""
    user.session_nonce = new_session_nonce()


def end_session() -> None:
    """Log the current user out in this browser."""
    logout_user()
    session.clear()


def _expired(now: float) -> bool:
    idle = current_app.config["SESSION_IDLE_TIMEOUT"].total_seconds()
    absolute = current_app.config["SESSION_ABSOLUTE_TIMEOUT"].total_seconds()
    login_at = session.get("login_at", 0)
    seen_at = session.get("seen_at", 0)
    return now - seen_at > idle or now - login_at > absolute


def _check_timeouts() -> Response | None:
    if request.endpoint == "static" or not current_user.is_authenticated:
        return None
    now = db.utcnow().timestamp()
    if _expired(now):
        from lms.audit.service import Action, record_now

        record_now(Action.SESSION_EXPIRED, actor=current_user._get_current_object())
        end_session()
        flash(_l("Your session has expired. Please log in again."), "info")
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    if now - session.get("seen_at", 0) > _SEEN_UPDATE_SECONDS:
        session["seen_at"] = now
    return None


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    # Timeouts are checked before access rules so an expired session is treated as none.
    app.before_request(_check_timeouts)
