"""Setting up, renewing and turning off one's own second factor; an administrator's reset.

The sign-in step that asks for the code is in ``lms.auth.views``; the rules are in
``lms.auth.mfa``.
"""

from __future__ import annotations

import segno
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup
from werkzeug.wrappers import Response

from lms import db
from lms.access import ADMINS, AUTHENTICATED, policy
from lms.auth import mfa
from lms.auth import service as auth_service
from lms.auth.mfa_forms import AppCodeForm, ConfirmSetupForm, DisableForm
from lms.forms import BaseForm
from lms.models import User
from lms.people import service as people

bp = Blueprint("mfa", __name__)


def _me() -> User:
    return current_user._get_current_object()


@bp.app_template_global("mfa_status")
def mfa_status(person: User) -> mfa.Status:
    """The second-factor state of ``person``, for the account and people pages."""
    return mfa.status(db.get_session(), person)


def _overview(status: int = 200, **forms: BaseForm) -> tuple[str, int]:
    forms.setdefault("renew_form", AppCodeForm(prefix="renew"))
    forms.setdefault("disable_form", DisableForm(prefix="disable"))
    page = render_template("account/mfa.html", state=mfa_status(_me()), **forms)
    return page, status


def _qr_code(uri: str) -> Markup:
    # Inline SVG drawn here: no image is fetched, and the secret in it never leaves the page.
    return Markup(segno.make(uri, error="m").svg_inline(scale=5, border=4, dark="#000", light="#fff"))  # noqa: S704


@bp.get("/account/mfa")
@policy(AUTHENTICATED)
def overview() -> tuple[str, int]:
    return _overview()


@bp.post("/account/mfa/setup")
@policy(AUTHENTICATED)
def setup_start() -> Response:
    session = db.get_session()
    if BaseForm().validate():
        try:
            mfa.begin_enrolment(session, _me())
        except mfa.MfaError as error:
            flash(error.message, "error")
            return redirect(url_for("mfa.overview"))
        session.commit()
    return redirect(url_for("mfa.setup"))


def _setup_page(secret: str | None, form: ConfirmSetupForm, status: int = 200) -> tuple[str, int]:
    """The QR code and key of the enrolment begun, or the button to begin one."""
    qr_code = spaced = None
    if secret is not None:
        qr_code = _qr_code(mfa.provisioning_uri(_me(), secret))
        spaced = " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
    page = render_template(
        "account/mfa_setup.html", form=form, start_form=BaseForm(), qr_code=qr_code, secret=spaced,
        state=mfa_status(_me()),
    )  # fmt: skip
    return page, status


@bp.get("/account/mfa/setup")
@policy(AUTHENTICATED)
def setup() -> tuple[str, int] | Response:
    if mfa.is_enrolled(db.get_session(), _me()):
        return redirect(url_for("mfa.overview"))
    return _setup_page(mfa.pending_secret(db.get_session(), _me()), ConfirmSetupForm())


@bp.post("/account/mfa/confirm")
@policy(AUTHENTICATED)
def setup_submit() -> tuple[str, int] | Response:
    session = db.get_session()
    secret = mfa.pending_secret(session, _me())
    form = ConfirmSetupForm()
    if not form.validate():
        return _setup_page(secret, form, 400)
    confirmed = auth_service.confirm_password(session, _me(), form.password.data, request.remote_addr)
    if confirmed.user is None:
        form.password.errors = [
            auth_service.throttle_message(confirmed.throttled)
            if confirmed.throttled
            else _("The password is not correct.")
        ]
        return _setup_page(secret, form, 429 if confirmed.throttled else 400)
    try:
        codes = mfa.confirm_enrolment(session, _me(), form.code.data)
    except mfa.MfaError as error:
        session.rollback()
        form.code.errors = [error.message]
        return _setup_page(secret, form, 400)
    session.commit()
    flash(_("Your second factor is set up. You will be asked for a code every time you log in."), "success")
    # Shown once, in this response only: nothing keeps them but their hashes.
    return render_template("account/mfa_codes.html", codes=codes), 200


@bp.post("/account/mfa/recovery-codes")
@policy(AUTHENTICATED)
def renew_codes_submit() -> tuple[str, int] | Response:
    session = db.get_session()
    if not mfa.is_enrolled(session, _me()):
        return redirect(url_for("mfa.overview"))
    form = AppCodeForm(prefix="renew")
    if not form.validate():
        return _overview(400, renew_form=form)
    try:
        codes = mfa.renew_recovery_codes(session, _me(), form.code.data)
    except mfa.MfaError as error:
        session.rollback()
        form.code.errors = [error.message]
        return _overview(429 if isinstance(error, mfa.MfaThrottled) else 400, renew_form=form)
    session.commit()
    flash(_("New recovery codes are made; the old ones no longer work."), "success")
    return render_template("account/mfa_codes.html", codes=codes), 200


@bp.post("/account/mfa/disable")
@policy(AUTHENTICATED)
def disable_submit() -> tuple[str, int] | Response:
    session = db.get_session()
    if not mfa.is_enrolled(session, _me()):
        return redirect(url_for("mfa.overview"))
    form = DisableForm(prefix="disable")
    if not form.validate():
        return _overview(400, disable_form=form)
    try:
        mfa.disable(session, _me(), form.code.data)
    except mfa.MfaError as error:
        session.rollback()
        form.code.errors = [error.message]
        return _overview(429 if isinstance(error, mfa.MfaThrottled) else 400, disable_form=form)
    session.commit()
    flash(_("Your second factor is turned off."), "success")
    return redirect(url_for("mfa.overview"))


@bp.post("/people/<int:person_id>/mfa/reset")
@policy(ADMINS)
def reset_submit(person_id: int) -> Response:
    session = db.get_session()
    person = people.get_person_for_manager(session, person_id, _me())
    if BaseForm().validate():
        try:
            mfa.reset(session, person, actor=_me())
        except mfa.MfaError as error:
            session.rollback()
            flash(error.message, "error")
        else:
            session.commit()
            flash(
                _("The second factor of %(name)s is reset and their sessions have ended.", name=person.full_name),
                "success",
            )
    return redirect(url_for("people.detail", person_id=person_id))
