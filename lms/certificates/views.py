"""Certificates: coordinators issue, print, reissue and revoke; holders download their own.

Coordinators act within their country (regional ones everywhere); a certificate outside
a coordinator's scope, or someone else's certificate for a holder, is a 404.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, Response, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response as WerkzeugResponse

from lms import access, db
from lms.access import AUTHENTICATED, STAFF_MANAGERS, policy
from lms.audit.service import record_now
from lms.certificates import eligibility, jobs, service
from lms.certificates.cli import course_certificate_ids
from lms.certificates.eligibility import Achievement
from lms.certificates.files import certificate_pdf
from lms.certificates.forms import IssueForm, PrintForm, ReasonForm, SignatoryForm
from lms.certificates.overview import course_rows, recent_jobs, track_rows
from lms.courses import schedule
from lms.downloads import attachment
from lms.forms import BaseForm
from lms.models import (
    Certificate,
    CertificateStatus,
    Country,
    Course,
    PrintFormat,
    PrintJob,
    PrintJobStatus,
    Track,
    User,
)

bp = Blueprint("certificates", __name__, url_prefix="/certificates")


def _actor() -> User:
    return current_user._get_current_object()


def _course_in_scope(course_id: int) -> Course:
    course = db.get_session().get(Course, course_id)
    if course is None:
        access.deny(404, reason="no such course")
    scope = access.managed_country_ids(_actor())
    if scope is not None and course.country_id not in scope:
        access.deny(404, reason="course outside the actor's country", target=course)
    return course


def _track(track_id: int) -> Track:
    track = db.get_session().get(Track, track_id)
    if track is None:
        access.deny(404, reason="no such track")
    return track


# --- Overview ------------------------------------------------------------------------------


@bp.get("/")
@policy(STAFF_MANAGERS)
def index() -> str:
    session = db.get_session()
    actor = _actor()
    scope = access.managed_country_ids(actor)
    return render_template(
        "certificates/index.html",
        courses=course_rows(session, scope),
        tracks=track_rows(session, scope),
        coaching_eligible=len(eligibility.coaching_achievements(session, country_ids=scope)),
        jobs=recent_jobs(session, actor),
    )


# --- Issuing -------------------------------------------------------------------------------


def _issue(
    achievements: list[Achievement], form: IssueForm, default_language: str | None
) -> tuple[bool, list[Certificate] | None]:
    """Issue for the chosen people (or all); False when the form needs correcting, None
    for the certificates when nothing could be issued."""
    form.setup([(item.holder.id, item.holder.full_name) for item in achievements], default_language)
    if not form.validate():
        return False, []
    chosen = set(form.holders.data or [])
    if request.form.get("scope") != "all":
        if not chosen:
            form.holders.errors = [*form.holders.errors, _("Choose at least one person, or issue for all.")]
            return False, []
        achievements = [item for item in achievements if item.holder.id in chosen]
    session = db.get_session()
    try:
        issued = service.issue(
            session,
            achievements,
            actor=_actor(),
            valid_months=form.valid_months.data,
            language=form.language.data or "",
        )
        session.commit()
    except IntegrityError:
        # Someone issued the same certificates at this very moment: nothing of ours was kept.
        session.rollback()
        flash(
            _("These certificates were being issued by someone else at the same time. Check the list and try again."),
            "error",
        )
        return True, None
    except service.CertificateError as error:
        session.rollback()
        flash(error.message, "error")
        return False, []
    return True, issued


def _flash_issued(issued: list[Certificate] | None) -> None:
    if issued is None:
        return
    if issued:
        flash(_("%(count)s certificates issued.", count=len(issued)), "success")
    else:
        flash(_("No new certificate: everyone chosen already has one."), "info")


@bp.get("/courses/<int:course_id>")
@policy(STAFF_MANAGERS)
def course(course_id: int) -> str:
    course = _course_in_scope(course_id)
    session = db.get_session()
    achievements = eligibility.course_achievements(session, course)
    form = IssueForm()
    form.setup([(item.holder.id, item.holder.full_name) for item in achievements], course.language)
    return render_template(
        "certificates/course.html",
        course=course,
        achievements=achievements,
        form=form,
        issued=_issued_for_course(course),
        print_form=PrintForm(),
        ended=schedule.has_ended(course),
        ends_at=schedule.ends_at(course),
    )


def _issued_for_course(course: Course) -> list[Certificate]:
    session = db.get_session()
    ids = course_certificate_ids(session, course)
    revoked = session.scalars(
        sa.select(Certificate.id).where(
            Certificate.course_id == course.id, Certificate.status == CertificateStatus.REVOKED
        )
    ).all()
    rows = {c.id: c for c in session.scalars(sa.select(Certificate).where(Certificate.course_id == course.id))}
    return [rows[i] for i in [*ids, *revoked]]


@bp.post("/courses/<int:course_id>/issue")
@policy(STAFF_MANAGERS)
def course_issue(course_id: int) -> WerkzeugResponse | tuple[str, int]:
    course = _course_in_scope(course_id)
    if not schedule.has_ended(course):
        flash(_("This course has not ended: certificates can be issued once its last session is over."), "error")
        return redirect(url_for("certificates.course", course_id=course.id))
    achievements = eligibility.course_achievements(db.get_session(), course)
    form = IssueForm()
    ok, issued = _issue(achievements, form, course.language)
    if not ok:
        return render_template(
            "certificates/course.html",
            course=course,
            achievements=achievements,
            form=form,
            issued=_issued_for_course(course),
            print_form=PrintForm(),
            ended=True,
            ends_at=schedule.ends_at(course),
        ), 400
    _flash_issued(issued)
    return redirect(url_for("certificates.course", course_id=course.id))


@bp.post("/courses/<int:course_id>/print")
@policy(STAFF_MANAGERS)
def course_print(course_id: int) -> WerkzeugResponse:
    course = _course_in_scope(course_id)
    form = PrintForm()
    session = db.get_session()
    if not form.validate():
        flash(_("Choose PDF or ZIP."), "error")
        return redirect(url_for("certificates.course", course_id=course.id))
    ids = course_certificate_ids(session, course)
    if not ids:
        flash(_("There is no valid certificate to print yet: issue them first."), "error")
        return redirect(url_for("certificates.course", course_id=course.id))
    job = jobs.queue(
        session,
        title=course.title,
        certificate_ids=ids,
        fmt=PrintFormat(form.format.data),
        actor=_actor(),
        course_id=course.id,
    )
    session.commit()
    return redirect(url_for("certificates.job", job_id=job.id))


@bp.get("/tracks/<int:track_id>")
@policy(STAFF_MANAGERS)
def track(track_id: int) -> str:
    track = _track(track_id)
    session = db.get_session()
    achievements = eligibility.track_achievements(session, track, country_ids=access.managed_country_ids(_actor()))
    form = IssueForm()
    form.setup([(item.holder.id, item.holder.full_name) for item in achievements], None)
    return render_template("certificates/track.html", track=track, achievements=achievements, form=form)


@bp.post("/tracks/<int:track_id>/issue")
@policy(STAFF_MANAGERS)
def track_issue(track_id: int) -> WerkzeugResponse | tuple[str, int]:
    track = _track(track_id)
    session = db.get_session()
    achievements = eligibility.track_achievements(session, track, country_ids=access.managed_country_ids(_actor()))
    form = IssueForm()
    ok, issued = _issue(achievements, form, None)
    if not ok:
        return render_template("certificates/track.html", track=track, achievements=achievements, form=form), 400
    _flash_issued(issued)
    return redirect(url_for("certificates.track", track_id=track.id))


@bp.get("/coaching")
@policy(STAFF_MANAGERS)
def coaching() -> str:
    session = db.get_session()
    achievements = eligibility.coaching_achievements(session, country_ids=access.managed_country_ids(_actor()))
    form = IssueForm()
    form.setup([(item.holder.id, item.holder.full_name) for item in achievements], None)
    return render_template("certificates/coaching.html", achievements=achievements, form=form)


@bp.post("/coaching/issue")
@policy(STAFF_MANAGERS)
def coaching_issue() -> WerkzeugResponse | tuple[str, int]:
    session = db.get_session()
    achievements = eligibility.coaching_achievements(session, country_ids=access.managed_country_ids(_actor()))
    form = IssueForm()
    ok, issued = _issue(achievements, form, None)
    if not ok:
        return render_template("certificates/coaching.html", achievements=achievements, form=form), 400
    _flash_issued(issued)
    return redirect(url_for("certificates.coaching"))


# --- One certificate -----------------------------------------------------------------------


@bp.get("/<int:certificate_id>")
@policy(STAFF_MANAGERS)
def detail(certificate_id: int) -> str:
    session = db.get_session()
    certificate = service.certificate_for_manager(session, certificate_id, _actor())
    return render_template(
        "certificates/detail.html",
        certificate=certificate,
        standing=service.standing_of(certificate, certificate.current, db.utcnow().date()),
        reissue_form=ReasonForm(prefix="reissue"),
        revoke_form=ReasonForm(prefix="revoke"),
        name_changed=certificate.current.holder_name != certificate.holder.full_name
        or certificate.current.holder_name_alt != certificate.holder.full_name_alt,
    )


@bp.post("/<int:certificate_id>/reissue")
@policy(STAFF_MANAGERS)
def reissue(certificate_id: int) -> WerkzeugResponse:
    return _change(certificate_id, "reissue")


@bp.post("/<int:certificate_id>/revoke")
@policy(STAFF_MANAGERS)
def revoke(certificate_id: int) -> WerkzeugResponse:
    return _change(certificate_id, "revoke")


def _change(certificate_id: int, what: str) -> WerkzeugResponse:
    session = db.get_session()
    certificate = service.certificate_for_manager(session, certificate_id, _actor())
    form = ReasonForm(prefix=what)
    if not form.validate():
        flash(_("Give the reason (up to 500 characters)."), "error")
        return redirect(url_for("certificates.detail", certificate_id=certificate.id))
    try:
        if what == "reissue":
            service.reissue(session, certificate, form.reason.data, actor=_actor())
            message = _(
                "The certificate was reissued with a new verification code; "
                "the previous copy now verifies as superseded."
            )
        else:
            service.revoke(session, certificate, form.reason.data, actor=_actor())
            message = _("The certificate is revoked: its verification page says so.")
        session.commit()
    except service.CertificateError as error:
        session.rollback()
        flash(error.message, "error")
    else:
        flash(message, "success")
    return redirect(url_for("certificates.detail", certificate_id=certificate.id))


@bp.get("/<int:certificate_id>/pdf")
@policy(STAFF_MANAGERS)
def download(certificate_id: int) -> Response:
    session = db.get_session()
    certificate = service.certificate_for_manager(session, certificate_id, _actor())
    pdf, filename = certificate_pdf(certificate)
    record_now(service.CertificateAction.DOWNLOADED, actor=_actor(), target=certificate)
    return attachment(pdf, filename, "application/pdf")


# --- Print jobs ----------------------------------------------------------------------------


def _job(job_id: int) -> PrintJob:
    return service.print_job_for(db.get_session(), job_id, _actor())


@bp.get("/jobs/<int:job_id>")
@policy(STAFF_MANAGERS)
def job(job_id: int) -> str:
    return render_template("certificates/job.html", job=_job(job_id), now=db.utcnow())


@bp.get("/jobs/<int:job_id>/status")
@policy(STAFF_MANAGERS)
def job_status(job_id: int) -> Response:
    job = _job(job_id)
    return jsonify(status=job.status.value, done=job.done, total=job.total, percent=job.percent)


@bp.get("/jobs/<int:job_id>/download")
@policy(STAFF_MANAGERS)
def job_download(job_id: int) -> Response:
    job = _job(job_id)
    data = jobs.read_output(job) if job.status == PrintJobStatus.DONE else None
    if data is None:
        abort(404)
    mimetype = "application/pdf" if job.format == PrintFormat.PDF else "application/zip"
    filename = f"certificates-{job.id}.{job.format.value}"
    return attachment(data, filename, mimetype)


# --- Signatories ---------------------------------------------------------------------------


def _signatory_form(formdata: object = None) -> SignatoryForm:
    form = SignatoryForm(formdata=formdata) if formdata is not None else SignatoryForm()
    scope = access.managed_country_ids(_actor())
    countries = db.get_session().scalars(sa.select(Country).order_by(Country.position)).all()
    if scope is not None:
        countries = [country for country in countries if country.id in scope]
    form.setup(list(countries), regional_allowed=scope is None)
    return form


@bp.get("/signatories")
@policy(STAFF_MANAGERS)
def signatories() -> str:
    session = db.get_session()
    return render_template(
        "certificates/signatories.html",
        signatories=service.signatories_in_scope(session, _actor()),
        form=_signatory_form(),
        remove_form=BaseForm(),
    )


@bp.post("/signatories")
@policy(STAFF_MANAGERS)
def signatory_add() -> WerkzeugResponse | tuple[str, int]:
    session = db.get_session()
    form = _signatory_form(request.form)
    if form.validate():
        try:
            service.save_signatory(
                session,
                None,
                name=form.name.data,
                function=form.function.data,
                country_id=form.country_id.data or None,
                position=form.position.data or 0,
                actor=_actor(),
            )
        except service.CertificateError as error:
            session.rollback()
            form.country_id.errors = [*form.country_id.errors, error.message]
        else:
            session.commit()
            flash(_("The signatory is added. Certificates issued from now on carry the signature."), "success")
            return redirect(url_for("certificates.signatories"))
    return render_template(
        "certificates/signatories.html",
        signatories=service.signatories_in_scope(session, _actor()),
        form=form,
        remove_form=BaseForm(),
    ), 400


@bp.post("/signatories/<int:signatory_id>/remove")
@policy(STAFF_MANAGERS)
def signatory_remove(signatory_id: int) -> WerkzeugResponse:
    session = db.get_session()
    signatory = service.signatory_for_manager(session, signatory_id, _actor())
    if BaseForm().validate():
        service.remove_signatory(session, signatory, actor=_actor())
        session.commit()
        flash(_("The signatory is removed. Certificates already issued keep their signatures."), "success")
    return redirect(url_for("certificates.signatories"))


# --- Holders -------------------------------------------------------------------------------


@bp.get("/mine")
@policy(AUTHENTICATED)
def mine() -> str:
    session = db.get_session()
    certificates = service.certificates_of(session, _actor())
    today = db.utcnow().date()
    return render_template(
        "certificates/mine.html",
        certificates=[(c, service.standing_of(c, c.current, today)) for c in certificates],
    )


@bp.get("/mine/<int:certificate_id>/pdf")
@policy(AUTHENTICATED)
def mine_download(certificate_id: int) -> Response:
    session = db.get_session()
    certificate = service.certificate_for_holder(session, certificate_id, _actor())
    pdf, filename = certificate_pdf(certificate)
    return attachment(pdf, filename, "application/pdf")
