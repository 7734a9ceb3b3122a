"""Error pages in the site's layout, and the safety nets behind form validation.

When the database is away, slow or locked (:func:`lms.db.fault`), the answer is a 503 with
``Retry-After``, rendered without asking the database anything: no signed-in menu, no
current user, the language from the session cookie or the browser.
"""

from __future__ import annotations

import secrets
from typing import Any

from flask import Flask, current_app, g, render_template, request
from flask_babel import gettext as _
from flask_babel import refresh as refresh_locale
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError, IntegrityError, SQLAlchemyError
from werkzeug.exceptions import HTTPException, InternalServerError

from lms import db, i18n, ratelimit
from lms.audit.service import Action, record_now

_TITLES = {
    400: lambda: _("The request could not be understood"),
    403: lambda: _("You do not have access to this page"),
    404: lambda: _("Page not found"),
    405: lambda: _("This action is not allowed here"),
    409: lambda: _("This conflicts with another change"),
    413: lambda: _("The upload is too large"),
    429: lambda: _("Too many attempts"),
    500: lambda: _("Something went wrong"),
    503: lambda: _("Temporarily unavailable"),
}

#: Seconds a client is asked to wait before retrying when the database is away.
RETRY_AFTER_SECONDS = 30


#: Refused forms (CSRF) audited per minute from one address, and from all together: a
#: flood of forged or replayed posts must not grow the append-only log without bound.
CSRF_AUDITS_PER_ADDRESS = 10
CSRF_AUDITS_PER_MINUTE = 100


def _rollback() -> None:
    session = g.get("db_session")
    if session is not None:
        session.rollback()


def render_error(status: int, message: str | None = None, **context: object) -> Any:
    title = _TITLES.get(status, _TITLES[500])()
    try:
        page = render_template("errors/error.html", status=status, title=title, message=message, **context)
    except SQLAlchemyError as error:
        # The layout shows the signed-in menu; if the database went away meanwhile, the
        # page the reader gets is the one that says so.
        if db.fault(error) is None:
            raise
        return _database_unavailable(error)
    return page, status


def _database_unavailable(error: SQLAlchemyError) -> tuple[str, int, dict[str, str]]:
    """The 503 page, rendered without touching the database (nor current_user)."""
    current_app.logger.warning(
        "database %s on %s %s: %s", db.fault(error), request.method, request.path, str(error).splitlines()[0][:200]
    )
    _discard_session()
    # Flask-Login loads the user for every template (its context processor): not this one.
    if "_login_user" not in g:
        g._login_user = current_app.login_manager.anonymous_user()  # type: ignore[attr-defined]
    # The user's own language is on their record, out of reach: the session's or browser's
    # (and Babel's choice, if it was made before the fault, made again from it).
    if "language" not in g:
        g.language = i18n.request_language()
    refresh_locale()
    retry_url = request.full_path.rstrip("?") if request.method == "GET" else None
    page = render_template(
        "errors/error.html",
        status=503,
        title=_TITLES[503](),
        message=_("The database cannot be reached just now. Try again in a minute."),
        unsaved=request.method not in {"GET", "HEAD", "OPTIONS"},
        retry_url=retry_url,
        minimal=True,
    )
    return page, 503, {"Retry-After": str(RETRY_AFTER_SECONDS)}


def _discard_session() -> None:
    # Its connection may be broken; closing returns it to the pool, which replaces it.
    session = g.pop("db_session", None)
    if session is not None:
        try:
            session.close()
        except SQLAlchemyError:
            current_app.logger.info("could not close a session after a database fault", exc_info=True)


def _database_error(error: SQLAlchemyError) -> Any:
    if db.fault(error) is None:
        raise error  # a bug: Flask's 500 handling (below), as for any other exception
    return _database_unavailable(error)


def _http_error(error: HTTPException) -> tuple[str, int]:
    _rollback()
    status = error.code or 500
    if status not in _TITLES:
        status = 400 if 400 <= status < 500 else 500
    return render_error(status)


def _csrf_error(error: CSRFError) -> tuple[str, int]:
    _rollback()
    _audit_csrf_refusal(error)
    return render_error(
        400,
        _("The form had expired or was sent from another site. Please go back, reload the page and try again."),
    )


def _audit_csrf_refusal(error: CSRFError) -> None:
    """Write a small audit row for a refused form: who, from where, which path and why.

    Only Flask-WTF's own reason is kept ("The CSRF token is missing."), never the token
    or the form. Past the per-minute limits the refusal is still refused, but not written.
    """
    address = request.remote_addr or "unknown"
    if not ratelimit.hit(f"csrf-audit:{address}", limit=CSRF_AUDITS_PER_ADDRESS):
        return
    if not ratelimit.hit("csrf-audit", limit=CSRF_AUDITS_PER_MINUTE):
        return
    actor = current_user._get_current_object() if current_user.is_authenticated else None
    record_now(Action.CSRF_REFUSED, actor=actor, details={"reason": str(error.description)[:100], "status": 400})


def _data_error(error: DataError) -> tuple[str, int]:
    # Validators refuse such input first; this is the net for anything they miss
    # (e.g. a value PostgreSQL cannot store), so it is a clear 400 and nothing is written.
    _rollback()
    current_app.logger.warning("database refused a value: %s", str(error.orig)[:200])
    return render_error(400, _("Some of the input could not be stored. Please check it and try again."))


def _integrity_error(error: IntegrityError) -> tuple[str, int]:
    # Services check rules before writing and the database enforces them again; a write
    # that loses a race to a concurrent one ends here rather than as a 500.
    _rollback()
    current_app.logger.warning("database constraint refused a write: %s", str(error.orig)[:200])
    return render_error(
        409,
        _(
            "This conflicts with a record that already exists or was just changed. "
            "Nothing was saved; please reload the page and try again."
        ),
    )


def _internal_error(error: InternalServerError) -> Any:
    original = getattr(error, "original_exception", None)
    if isinstance(original, SQLAlchemyError) and db.fault(original) is not None:
        # E.g. raised while another error page was rendered: still a 503.
        return _database_unavailable(original)
    _rollback()
    incident = secrets.token_hex(4)
    current_app.logger.error("incident %s", incident, exc_info=original)
    return render_error(500, incident=incident)


def init_app(app: Flask) -> None:
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(DataError, _data_error)
    app.register_error_handler(IntegrityError, _integrity_error)
    app.register_error_handler(SQLAlchemyError, _database_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(InternalServerError, _internal_error)
