"""Public verification of certificates: ``/verify/<code>``, no login.

The page says who holds the certificate, what was completed, when, by whom it was
issued, and whether it is valid, expired, superseded or revoked; nothing else about the
person. Unknown codes are a plain 404. Lookups are rate-limited per address, so codes
cannot be guessed by trying many (there are 2^80 of them in any case).
"""

from __future__ import annotations

import json

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as WerkzeugResponse

from lms import db, ratelimit
from lms.access import PUBLIC, policy
from lms.certificates import codes, service
from lms.certificates.eligibility import local_date
from lms.certificates.forms import VerifyForm

bp = Blueprint("verify", __name__, url_prefix="/verify")


def _limit() -> None:
    address = request.remote_addr or "unknown"
    if not ratelimit.hit(f"verify:{address}", limit=current_app.config["VERIFY_RATE_LIMIT"]):
        abort(429)


@bp.get("/")
@policy(PUBLIC)
def form() -> str | WerkzeugResponse | tuple[str, int]:
    verify_form = VerifyForm(request.args)
    if "code" in request.args:
        if verify_form.validate():
            code = codes.normalize_code(verify_form.code.data)
            if code is not None:
                return redirect(url_for("verify.certificate", code=codes.display_code(code)))
            verify_form.code.errors = [*verify_form.code.errors, _not_a_code()]
        return render_template("certificates/verify_form.html", form=verify_form), 400
    return render_template("certificates/verify_form.html", form=verify_form)


def _not_a_code() -> str:
    return _(
        "A verification code has 16 letters and digits, as printed on the certificate "
        "(for example 7K3M-Q9XD-2HFA-PV4N)."
    )


@bp.get("/<path:code>")
@policy(PUBLIC)
def certificate(code: str) -> str:
    _limit()
    revision = service.find_revision(db.get_session(), code)
    if revision is None:
        abort(404)
    certificate = revision.certificate
    return render_template(
        "certificates/verify.html",
        certificate=certificate,
        revision=revision,
        issuers=json.loads(certificate.issuers),
        issued_on=local_date(certificate.issued_at),
        standing=service.standing_of(certificate, revision, db.utcnow().date()),
        code=codes.display_code(revision.code),
    )
