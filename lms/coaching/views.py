"""The Gender Coach Programme's pages. Every coaching record is loaded through the
service's member-only loaders; coordinators' pages show figures, never content."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response as WerkzeugResponse

from lms import access, db
from lms.access import AUTHENTICATED, STAFF_MANAGERS, policy
from lms.audit.service import record_now
from lms.coaching import overview, service
from lms.coaching.forms import ActionForm, GoalForm, NoteForm, PairingForm, ReasonForm, ReviewForm, SessionForm
from lms.downloads import attachment
from lms.forms import BaseForm
from lms.models import (
    ActionItem,
    ActionOwner,
    ActionStatus,
    CoachingGoal,
    CoachingPairing,
    CoachingSession,
    GoalStatus,
    Role,
    RoleGrant,
    User,
)
from lms.spreadsheets import write_csv

bp = Blueprint("coaching", __name__, url_prefix="/coaching")


def _actor() -> User:
    return current_user._get_current_object()


def _form_error(form: BaseForm, error: service.CoachingError) -> None:
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = [*field.errors, error.message]
    else:
        flash(error.message, "error")


@bp.get("/")
@policy(AUTHENTICATED)
def home() -> str:
    session = db.get_session()
    user = _actor()
    return render_template(
        "coaching/home.html",
        coaching=overview.coach_pairings(session, user),
        coached=overview.commander_pairings(session, user),
        action_form=BaseForm(),
        is_staff=STAFF_MANAGERS.allows(user),
        today=db.utcnow().date(),
    )


# --- Coordinators ------------------------------------------------------------------------


@bp.get("/programme")
@policy(STAFF_MANAGERS)
def programme() -> str:
    session = db.get_session()
    return render_template(
        "coaching/programme.html",
        pairings=overview.programme(session, _actor()),
        figures=overview.figures(session, _actor()),
        end_form=ReasonForm(),
    )


def _pairing_form(formdata: object = None) -> PairingForm:
    session = db.get_session()
    form = PairingForm(formdata=formdata) if formdata is not None else PairingForm()
    scope = access.reach_country_ids(_actor())
    coaches = sa.select(User).where(User.is_active, User.role_grants.any(RoleGrant.role == Role.COACH))
    commanders = sa.select(User).where(User.is_active)
    if scope is not None:
        coaches = coaches.where(User.country_id.in_(scope))
        commanders = commanders.where(User.country_id.in_(scope))
    form.set_choices(
        list(session.scalars(coaches.order_by(User.sort_name))),
        list(session.scalars(commanders.order_by(User.sort_name))),
    )
    return form


@bp.get("/pairings/new")
@policy(STAFF_MANAGERS)
def pairing_new() -> str:
    return render_template("coaching/pairing_new.html", form=_pairing_form())


@bp.post("/pairings/new")
@policy(STAFF_MANAGERS)
def pairing_new_submit() -> str | WerkzeugResponse | tuple[str, int]:
    form = _pairing_form(request.form)
    if form.validate():
        session = db.get_session()
        try:
            service.create_pairing(session, form.to_data(), actor=_actor())
        except service.CoachingError as error:
            session.rollback()
            _form_error(form, error)
        else:
            session.commit()
            flash(_("The coach and the commander are paired."), "success")
            return redirect(url_for("coaching.programme"))
    return render_template("coaching/pairing_new.html", form=form), 400


@bp.post("/pairings/<int:pairing_id>/end")
@policy(STAFF_MANAGERS)
def pairing_end(pairing_id: int) -> WerkzeugResponse:
    session = db.get_session()
    pairing = service.pairing_for_coordinator(session, pairing_id, _actor())
    form = ReasonForm()
    try:
        if not form.validate():
            raise service.CoachingError(_("Give the reason for ending the pairing early."))
        service.end_pairing(session, pairing, form.reason.data, actor=_actor())
    except service.CoachingError as error:
        session.rollback()
        flash(error.message, "error")
    else:
        session.commit()
        flash(_("The pairing has been ended."), "success")
    return redirect(url_for("coaching.programme"))


# --- The pair's record -------------------------------------------------------------------


@bp.get("/pairings/<int:pairing_id>")
@policy(AUTHENTICATED)
def pairing(pairing_id: int) -> str:
    session = db.get_session()
    found = service.pairing_for_member(session, pairing_id, _actor())
    sessions = session.scalars(
        sa.select(CoachingSession).where(CoachingSession.pairing_id == found.id).order_by(CoachingSession.date)
    ).all()
    goals = session.scalars(
        sa.select(CoachingGoal).where(CoachingGoal.pairing_id == found.id).order_by(CoachingGoal.target_date)
    ).all()
    actions = session.scalars(
        sa.select(ActionItem)
        .join(CoachingSession)
        .where(CoachingSession.pairing_id == found.id)
        .order_by(ActionItem.due_date)
    ).all()
    return render_template(
        "coaching/pairing.html",
        pairing=found,
        sessions=sessions,
        goals=goals,
        actions=actions,
        completion=service.completion_of(session, found),
        is_coach=found.coach_id == _actor().id,
        goal_form=GoalForm(),
        # One form per goal, each with its own prefix so the fields' ids stay unique.
        review_forms={goal.id: ReviewForm(prefix=f"goal{goal.id}", reviewed_on=db.utcnow().date()) for goal in goals},
        action_form=BaseForm(),
        today=db.utcnow().date(),
    )


@bp.post("/pairings/<int:pairing_id>/goals")
@policy(AUTHENTICATED)
def goal_add(pairing_id: int) -> WerkzeugResponse:
    session = db.get_session()
    found = service.pairing_for_member(session, pairing_id, _actor())
    service.require_coach(found, _actor())
    form = GoalForm()
    try:
        if not form.validate():
            raise service.CoachingError(_("Give the goal, how progress will be seen, and a target date."))
        service.add_goal(session, found, form.title.data, form.indicator.data, form.target_date.data, actor=_actor())
    except service.CoachingError as error:
        session.rollback()
        flash(error.message, "error")
    else:
        session.commit()
        flash(_("The goal is in the coaching plan."), "success")
    return redirect(url_for("coaching.pairing", pairing_id=found.id) + "#plan")


@bp.post("/goals/<int:goal_id>/review")
@policy(AUTHENTICATED)
def goal_review(goal_id: int) -> WerkzeugResponse:
    session = db.get_session()
    goal = service.goal_for_member(session, goal_id, _actor())
    pairing_row = session.get(CoachingPairing, goal.pairing_id)
    service.require_coach(pairing_row, _actor())
    form = ReviewForm(prefix=f"goal{goal.id}")
    try:
        if not form.validate():
            raise service.CoachingError(_("Give the status and the date of the review."))
        service.review_goal(
            session,
            goal,
            GoalStatus(form.status.data),
            form.comment.data or None,
            form.reviewed_on.data,
            actor=_actor(),
        )
    except service.CoachingError as error:
        session.rollback()
        flash(error.message, "error")
    else:
        session.commit()
        flash(_("The review is recorded."), "success")
    return redirect(url_for("coaching.pairing", pairing_id=goal.pairing_id) + "#plan")


@bp.get("/pairings/<int:pairing_id>/sessions/new")
@policy(AUTHENTICATED)
def session_new(pairing_id: int) -> str:
    found = service.pairing_for_member(db.get_session(), pairing_id, _actor())
    service.require_coach(found, _actor())
    form = SessionForm()
    form.date.data = form.date.data or db.utcnow().date()
    return render_template("coaching/session_edit.html", form=form, pairing=found, coaching_session=None)


@bp.post("/pairings/<int:pairing_id>/sessions/new")
@policy(AUTHENTICATED)
def session_new_submit(pairing_id: int) -> str | WerkzeugResponse | tuple[str, int]:
    session = db.get_session()
    found = service.pairing_for_member(session, pairing_id, _actor())
    service.require_coach(found, _actor())
    return _save_session(found, None)


@bp.get("/sessions/<int:session_id>/edit")
@policy(AUTHENTICATED)
def session_edit(session_id: int) -> str:
    found = service.session_for_member(db.get_session(), session_id, _actor())
    service.require_coach(found.pairing, _actor())
    form = SessionForm(obj=found, topics=found.topic_codes)
    return render_template("coaching/session_edit.html", form=form, pairing=found.pairing, coaching_session=found)


@bp.post("/sessions/<int:session_id>/edit")
@policy(AUTHENTICATED)
def session_edit_submit(session_id: int) -> str | WerkzeugResponse | tuple[str, int]:
    found = service.session_for_member(db.get_session(), session_id, _actor())
    service.require_coach(found.pairing, _actor())
    return _save_session(found.pairing, found)


def _save_session(
    pairing_row: CoachingPairing, existing: CoachingSession | None
) -> str | WerkzeugResponse | tuple[str, int]:
    session = db.get_session()
    form = SessionForm()
    if form.validate():
        try:
            saved = service.save_session(session, pairing_row, form.to_data(), actor=_actor(), existing=existing)
        except service.CoachingError as error:
            session.rollback()
            _form_error(form, error)
        else:
            session.commit()
            flash(_("The session is saved."), "success")
            return redirect(url_for("coaching.session_detail", session_id=saved.id))
    return render_template("coaching/session_edit.html", form=form, pairing=pairing_row, coaching_session=existing), 400


@bp.get("/sessions/<int:session_id>")
@policy(AUTHENTICATED)
def session_detail(session_id: int) -> str:
    session = db.get_session()
    found = service.session_for_member(session, session_id, _actor())
    is_coach = found.pairing.coach_id == _actor().id
    # Only the author's own note is ever loaded: the commander's page has none to show.
    note = service.note_for(session, found, _actor()) if is_coach else None
    actions = session.scalars(
        sa.select(ActionItem).where(ActionItem.session_id == found.id).order_by(ActionItem.due_date)
    ).all()
    return render_template(
        "coaching/session.html",
        coaching_session=found,
        pairing=found.pairing,
        actions=actions,
        is_coach=is_coach,
        note_form=NoteForm(text=note.text if note else ""),
        new_action_form=ActionForm(),
        action_form=BaseForm(),
        topics=service.TOPICS,
        today=db.utcnow().date(),
    )


@bp.post("/sessions/<int:session_id>/note")
@policy(AUTHENTICATED)
def note_save(session_id: int) -> WerkzeugResponse:
    session = db.get_session()
    found = service.session_for_member(session, session_id, _actor())
    service.require_coach(found.pairing, _actor())
    form = NoteForm()
    if form.validate():
        service.save_note(session, found, form.text.data or "", author=_actor())
        session.commit()
        flash(_("Your private note is saved."), "success")
    else:
        # The errors are lazy strings: joined as text, in the reader's language.
        flash(" ".join(str(error) for error in form.text.errors), "error")
    return redirect(url_for("coaching.session_detail", session_id=found.id) + "#note")


@bp.post("/sessions/<int:session_id>/actions")
@policy(AUTHENTICATED)
def action_add(session_id: int) -> WerkzeugResponse:
    session = db.get_session()
    found = service.session_for_member(session, session_id, _actor())
    service.require_coach(found.pairing, _actor())
    form = ActionForm()
    try:
        if not form.validate():
            raise service.CoachingError(_("Give the action, who does it and by when."))
        service.add_action(
            session, found, form.description.data, ActionOwner(form.owner.data), form.due_date.data, actor=_actor()
        )
    except service.CoachingError as error:
        session.rollback()
        flash(error.message, "error")
    else:
        session.commit()
        flash(_("The action item is added."), "success")
    return redirect(url_for("coaching.session_detail", session_id=found.id) + "#actions")


@bp.post("/actions/<int:action_id>/status")
@policy(AUTHENTICATED)
def action_status(action_id: int) -> WerkzeugResponse:
    session = db.get_session()
    item = service.action_for_member(session, action_id, _actor())
    wanted = request.form.get("status")
    if BaseForm().validate() and wanted in set(ActionStatus):
        service.set_action_status(session, item, ActionStatus(wanted), actor=_actor())
        session.commit()
    if request.form.get("back") == "home":
        return redirect(url_for("coaching.home"))
    return redirect(url_for("coaching.session_detail", session_id=item.session_id) + "#actions")


@bp.get("/pairings/<int:pairing_id>/record.csv")
@policy(AUTHENTICATED)
def export(pairing_id: int) -> Response:
    """The pair's shared record (goals, sessions and summaries, action items); never notes."""
    session = db.get_session()
    found = service.pairing_for_member(session, pairing_id, _actor())
    rows: list[list[object]] = []
    for goal in session.scalars(sa.select(CoachingGoal).where(CoachingGoal.pairing_id == found.id)):
        rows.append(["goal", goal.target_date.isoformat(), goal.title, goal.indicator, goal.status.value])
    for item in session.scalars(
        sa.select(CoachingSession).where(CoachingSession.pairing_id == found.id).order_by(CoachingSession.date)
    ):
        rows.append(
            [
                "session",
                item.date.isoformat(),
                item.topics,
                item.summary or "",
                f"{item.status.value}, {item.duration_minutes} min",
            ]
        )
    for action in session.scalars(
        sa.select(ActionItem).join(CoachingSession).where(CoachingSession.pairing_id == found.id)
    ):
        rows.append(
            ["action", action.due_date.isoformat(), action.description, action.owner.value, action.status.value]
        )
    record_now(service.CoachingAction.EXPORTED, actor=_actor(), target=found, details={"rows": len(rows)})
    body = write_csv(["kind", "date", "what", "details", "status"], rows)
    return attachment(body, f"coaching-record-{found.id}.csv", "text/csv; charset=utf-8")
