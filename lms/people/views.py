"""Managing people: search, add, edit, roles, logins. Admins see everyone; a coordinator
sees the people of their country (or everyone, when regional)."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from lms import access, db
from lms.access import STAFF_MANAGERS, policy
from lms.forms import BaseForm
from lms.models import Country, Institution, User
from lms.people import service
from lms.people.forms import PeopleSearchForm, PersonForm, build_roles_form, wanted_roles
from lms.reference import countries_in_order, institutions_in_order
from lms.web import public_url

bp = Blueprint("people", __name__, url_prefix="/people")

MAX_PAGE = 100_000


def _actor() -> User:
    return current_user._get_current_object()


def _countries_in_scope() -> list[Country]:
    scope = access.managed_country_ids(_actor())
    return [c for c in countries_in_order(db.get_session()) if scope is None or c.id in scope]


def _person_form(formdata: object = None, person: User | None = None) -> PersonForm:
    form = PersonForm(formdata=formdata, obj=person) if formdata is not None else PersonForm(obj=person)
    institutions: list[Institution] = institutions_in_order(db.get_session())
    form.set_choices(_countries_in_scope(), institutions)
    return form


def _roles_form(person: User, formdata: object = None) -> BaseForm:
    current = {grant.role: grant.country_id for grant in person.role_grants}
    regional = access.managed_country_ids(_actor()) is None
    return build_roles_form(
        access.grantable_roles(_actor()), _countries_in_scope(), formdata, current, allow_regional=regional
    )


def _detail_page(person: User, roles_form: BaseForm) -> str:
    grantable = access.grantable_roles(_actor())
    other_grants = [grant for grant in person.role_grants if grant.role not in grantable]
    return render_template(
        "people/detail.html",
        person=person,
        roles_form=roles_form,
        other_grants=other_grants,
        action_form=BaseForm(),
    )


def _show_error(form: BaseForm, error: service.PeopleError) -> None:
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = [*field.errors, error.message]
    else:
        flash(error.message, "error")


@bp.get("/")
@policy(STAFF_MANAGERS)
def index() -> tuple[str, int] | str:
    form = PeopleSearchForm(request.args)
    form.set_choices(_countries_in_scope())
    page_number = request.args.get("page", 1, type=int) or 1
    page_number = min(max(page_number, 1), MAX_PAGE)
    if request.args and not form.validate():
        return render_template("people/index.html", form=form, page=None, can_manage=None), 400
    page = service.search_people(
        db.get_session(),
        form.to_filter(),
        actor=_actor(),
        page=page_number,
        per_page=current_app.config["PEOPLE_PER_PAGE"],
    )
    return render_template(
        "people/index.html", form=form, page=page, can_manage=lambda person: access.can_manage_person(_actor(), person)
    )


@bp.get("/new")
@policy(STAFF_MANAGERS)
def new() -> str:
    return render_template("people/edit.html", form=_person_form(), person=None)


@bp.post("/new")
@policy(STAFF_MANAGERS)
def new_submit() -> str | Response | tuple[str, int]:
    form = _person_form(request.form)
    if form.validate():
        session = db.get_session()
        try:
            person = service.create_person(session, form.to_data(), actor=_actor())
        except service.PeopleError as error:
            session.rollback()
            _show_error(form, error)
        else:
            session.commit()
            flash(_("%(name)s has been added.", name=person.full_name), "success")
            return redirect(url_for("people.detail", person_id=person.id))
    return render_template("people/edit.html", form=form, person=None), 400


@bp.get("/<int:person_id>")
@policy(STAFF_MANAGERS)
def detail(person_id: int) -> str:
    person = service.get_person_for_manager(db.get_session(), person_id, _actor())
    return _detail_page(person, _roles_form(person))


@bp.get("/<int:person_id>/edit")
@policy(STAFF_MANAGERS)
def edit(person_id: int) -> str:
    person = service.get_person_for_manager(db.get_session(), person_id, _actor())
    return render_template("people/edit.html", form=_person_form(person=person), person=person)


@bp.post("/<int:person_id>/edit")
@policy(STAFF_MANAGERS)
def edit_submit(person_id: int) -> str | Response | tuple[str, int]:
    session = db.get_session()
    person = service.get_person_for_manager(session, person_id, _actor())
    form = _person_form(request.form)
    if form.validate():
        try:
            service.update_person(session, person, form.to_data(), actor=_actor())
        except service.PeopleError as error:
            session.rollback()
            _show_error(form, error)
        else:
            session.commit()
            flash(_("The changes have been saved."), "success")
            return redirect(url_for("people.detail", person_id=person.id))
    return render_template("people/edit.html", form=form, person=person), 400


@bp.post("/<int:person_id>/roles")
@policy(STAFF_MANAGERS)
def roles_submit(person_id: int) -> str | Response | tuple[str, int]:
    session = db.get_session()
    person = service.get_person_for_manager(session, person_id, _actor())
    form = _roles_form(person, request.form)
    if form.validate():
        grantable = access.grantable_roles(_actor())
        try:
            changes = service.set_roles(session, person, wanted_roles(form, grantable), actor=_actor())
        except service.PeopleError as error:
            session.rollback()
            flash(error.message, "error")
        else:
            session.commit()
            flash(_("The roles have been saved.") if changes else _("No roles were changed."), "success")
            return redirect(url_for("people.detail", person_id=person.id))
    session.refresh(person)
    return _detail_page(person, form), 400


@bp.post("/<int:person_id>/active")
@policy(STAFF_MANAGERS)
def active_submit(person_id: int) -> Response:
    session = db.get_session()
    person = service.get_person_for_manager(session, person_id, _actor())
    form = BaseForm()
    if form.validate():
        enable = request.form.get("active") == "1"
        try:
            service.set_active(session, person, enable, actor=_actor())
        except service.PeopleError as error:
            session.rollback()
            flash(error.message, "error")
        else:
            session.commit()
            flash(
                _("The account is enabled.") if enable else _("The account is disabled and its sessions have ended."),
                "success",
            )
    return redirect(url_for("people.detail", person_id=person.id))


@bp.post("/<int:person_id>/link")
@policy(STAFF_MANAGERS)
def link_submit(person_id: int) -> str | Response:
    session = db.get_session()
    person = service.get_person_for_manager(session, person_id, _actor())
    if not BaseForm().validate() or not person.is_active:
        flash(_("A link can only be made for an enabled account."), "error")
        return redirect(url_for("people.detail", person_id=person.id))
    lifetime = current_app.config["INVITATION_LIFETIME"]
    token = service.create_account_link(session, person, lifetime, actor=_actor())
    session.commit()
    # Shown once and never stored: only its hash is in the database.
    link = public_url("auth.activate", token=token)
    return render_template("people/link.html", person=person, link=link, days=lifetime.days)
