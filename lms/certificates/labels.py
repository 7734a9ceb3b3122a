"""Words printed on certificates and shown about them, through Flask-Babel."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Flask
from flask_babel import force_locale, format_date, format_decimal, pgettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from lms.certificates.codes import display_code
from lms.i18n import babel_locale, label
from lms.models import AchievementKind, CertificateStatus, PrintJobStatus, Sex

KIND_LABELS = {
    AchievementKind.COURSE: _l("Course"),
    AchievementKind.TRACK: _l("Learning track"),
    AchievementKind.COACHING: _l("Gender Coach Programme"),
}

STATUS_LABELS = {
    CertificateStatus.VALID: _l("Valid"),
    CertificateStatus.REVOKED: _l("Revoked"),
}

STANDING_LABELS = {
    "valid": _l("Valid"),
    "expired": _l("Expired"),
    "superseded": _l("Superseded"),
    "revoked": _l("Revoked"),
}

JOB_STATUS_LABELS = {
    PrintJobStatus.QUEUED: _l("Waiting"),
    PrintJobStatus.RUNNING: _l("Printing"),
    PrintJobStatus.DONE: _l("Ready"),
    PrintJobStatus.FAILED: _l("Failed"),
}


def hours_of(minutes: int) -> float:
    return round(minutes / 60, 1)


def _completed(kind: AchievementKind, sex: Sex | None) -> str:
    """The verb in the holder's gender where the language marks it (Bosnian "završila" for
    a woman, "završio" for a man); the paired form when their sex is not recorded."""
    if sex == Sex.FEMALE:
        return {
            AchievementKind.COURSE: pgettext("said of a woman", "has completed the course"),
            AchievementKind.TRACK: pgettext("said of a woman", "has completed every module of the learning track"),
            AchievementKind.COACHING: pgettext("said of a woman", "has completed the programme"),
        }[kind]
    if sex == Sex.MALE:
        return {
            AchievementKind.COURSE: pgettext("said of a man", "has completed the course"),
            AchievementKind.TRACK: pgettext("said of a man", "has completed every module of the learning track"),
            AchievementKind.COACHING: pgettext("said of a man", "has completed the programme"),
        }[kind]
    return {
        AchievementKind.COURSE: _("has completed the course"),
        AchievementKind.TRACK: _("has completed every module of the learning track"),
        AchievementKind.COACHING: _("has completed the programme"),
    }[kind]


def printed_texts(language: str, kind: AchievementKind, context: dict[str, Any]) -> dict[str, str]:
    """The certificate's words in ``language``, with its dates and hours formatted there."""
    with force_locale(babel_locale(language)):
        completed = _completed(kind, context.get("sex"))
        start: date = context["start_date"]
        end: date = context["end_date"]
        period = (
            format_date(end, "long") if start == end else f"{format_date(start, 'long')} – {format_date(end, 'long')}"
        )
        texts = {
            "network": _("Regional Network of Gender Trainers"),
            "heading": _("Certificate"),
            "certify": _("This is to certify that"),
            "completed": completed,
            "period": period,
            "hours": _("%(hours)s hours of training", hours=format_decimal(hours_of(context["minutes"]))),
            "modules": _("Modules and the versions covered"),
            "version": _("version"),
            "issued_by": _("Issued by"),
            "serial": _("Serial number"),
            "issued_on": _("Date of issue"),
            "issued_date": format_date(context["issued_on"], "long"),
            "valid_until": _("Valid until"),
            "valid_until_date": format_date(context["valid_until"], "long") if context["valid_until"] else "",
            "verify": _("Verify at"),
            "code": _("Verification code"),
            "revision": _("Revision"),
        }
    return texts


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(
        achievement_label=lambda value: label(KIND_LABELS, value),
        certificate_status_label=lambda value: label(STATUS_LABELS, value),
        standing_label=lambda value: label(STANDING_LABELS, value),
        job_status_label=lambda value: label(JOB_STATUS_LABELS, value),
        hours_of=hours_of,
        display_code=display_code,
    )
