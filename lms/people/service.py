"""People and their roles: create, edit, search, grant roles, enable logins.

Functions take the acting user explicitly and only ``flush()``; the caller commits once,
so each operation is all-or-nothing. ``actor=None`` means the system itself (the shell
commands and demo data), which may do anything.
"""

from __future__ import annotations

import hashlib
import math
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lms import access, db
from lms.audit.service import Action, record
from lms.auth.passwords import hash_password
from lms.forms import name_problem
from lms.models import SCOPED_ROLES, AccountToken, Category, Country, Institution, Role, RoleGrant, Sex, User
from lms.models.people import new_session_nonce
from lms.text import fold_for_search, like_pattern


class PeopleError(Exception):
    """A rule was broken; ``field`` names the form field to show the message next to."""

    def __init__(self, message: object, field: str | None = None) -> None:
        super().__init__(str(message))
        self.message = str(message)
        self.field = field


@dataclass
class PersonData:
    full_name: str
    email: str
    country_id: int
    sex: Sex = Sex.NOT_RECORDED
    full_name_alt: str | None = None
    institution_id: int | None = None
    category: Category | None = None
    rank: str | None = None
    preferred_language: str = "en"


# --- Loading, with access checks ---------------------------------------------------------
#
# The only ways a view or service obtains a person it will act on (lms/access.py says why).


def get_person_for_manager(session: Session, person_id: int, actor: User) -> User:
    """The person ``actor`` may manage (record, roles, login, links); anyone else's id is a
    404, and is audited."""
    person = session.get(User, person_id)
    if person is None or not access.can_manage_person(actor, person):
        access.deny(404, reason="person not manageable by the actor", target=person)
    return person


def find_person_in_reach(session: Session, person_id: int | None, actor: User | None) -> User | None:
    """The person ``actor`` works with (to enrol, pair or follow), or ``None``.

    ``actor=None`` is the system itself (shell commands, demo data), which reaches everyone.
    """
    if person_id is None:
        return None
    person = session.get(User, person_id)
    if person is None or (actor is not None and not access.can_reach_person(actor, person)):
        return None
    return person


def get_person_in_reach(session: Session, person_id: int, actor: User) -> User:
    """Like :func:`find_person_in_reach`, for views: anyone else's id is a 404, audited."""
    person = find_person_in_reach(session, person_id, actor)
    if person is None:
        access.deny(404, reason="person outside the actor's reach", target=session.get(User, person_id))
    return person


def lock(session: Session, person: User) -> None:
    """Hold ``person``'s row until the transaction ends (PostgreSQL; SQLite writes one at a
    time anyway), so that two requests acting for them at once cannot both pass a limit,
    such as the last allowed attempt at a knowledge check. Loads nobody else."""
    session.execute(sa.select(User.id).where(User.id == person.id).with_for_update())


# --- Creating and editing ----------------------------------------------------------------


def _check_names(data: PersonData) -> None:
    """Names with invisible characters are refused here too: the shell commands call this."""
    for field_name in ("full_name", "full_name_alt"):
        problem = name_problem(getattr(data, field_name) or "")
        if problem:
            raise PeopleError(problem, field_name)


def _check_placement(session: Session, data: PersonData, actor: User | None) -> None:
    _check_names(data)
    country = session.get(Country, data.country_id)
    if country is None:
        raise PeopleError(_l("Choose a country."), "country_id")
    if actor is not None:
        scope = access.managed_country_ids(actor)
        if scope is not None and country.id not in scope:
            raise PeopleError(_l("You can only manage people of your own country."), "country_id")
    if data.institution_id is not None:
        institution = session.get(Institution, data.institution_id)
        if institution is None or institution.country_id != country.id:
            raise PeopleError(_l("This institution is not in the chosen country."), "institution_id")


def _email_taken(session: Session, email: str, except_id: int | None = None) -> bool:
    query = sa.select(User.id).where(User.email == email)
    if except_id is not None:
        query = query.where(User.id != except_id)
    return session.scalar(query) is not None


def _flush_unique(session: Session) -> None:
    """Flush, turning a lost race on the unique email into the same error as the check."""
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as error:
        if "email" in str(error.orig).lower():
            raise PeopleError(_l("Someone with this email address is already registered."), "email") from error
        raise


def create_person(session: Session, data: PersonData, *, actor: User | None) -> User:
    """Add a person (with no login yet)."""
    data.email = data.email.strip().lower()
    _check_placement(session, data, actor)
    if _email_taken(session, data.email):
        raise PeopleError(_l("Someone with this email address is already registered."), "email")
    person = User(**vars(data))
    session.add(person)
    _flush_unique(session)
    record(session, Action.PERSON_CREATED, actor=actor, target=person, subject=person.email)
    return person


_AUDITED_FIELDS = (
    "full_name", "full_name_alt", "email", "sex", "country_id", "institution_id",
    "category", "rank", "preferred_language",
)  # fmt: skip


def update_person(session: Session, person: User, data: PersonData, *, actor: User | None) -> None:
    """Change a person's details; the audit row lists which fields changed."""
    data.email = data.email.strip().lower()
    _check_placement(session, data, actor)
    if _email_taken(session, data.email, except_id=person.id):
        raise PeopleError(_l("Someone with this email address is already registered."), "email")
    changed = [name for name in _AUDITED_FIELDS if getattr(person, name) != getattr(data, name)]
    if not changed:
        return
    for name in changed:
        setattr(person, name, getattr(data, name))
    _flush_unique(session)
    record(session, Action.PERSON_UPDATED, actor=actor, target=person, details={"fields": changed})


def set_preferred_language(session: Session, person: User, language: str) -> None:
    person.preferred_language = language
    session.flush()


# --- Roles -------------------------------------------------------------------------------


def _normalise_scope(session: Session, role: Role, country_id: int | None) -> int | None:
    """The stored scope of a grant: only coordinators and trainers have one; "Regional"
    is no scope at all."""
    if role not in SCOPED_ROLES or country_id is None:
        return None
    country = session.get(Country, country_id)
    if country is None:
        raise PeopleError(_l("Choose a country."), "roles")
    return None if country.code == "REG" else country.id


def _scope_allowed(actor: User | None, role: Role, country_id: int | None) -> bool:
    return actor is None or access.can_grant_role(actor, role, country_id)


def set_roles(session: Session, person: User, wanted: dict[Role, int | None], *, actor: User | None) -> list[str]:
    """Make ``person``'s roles those in ``wanted`` (role to country scope).

    Roles the actor may not manage are left as they are, and a scoped coordinator only
    grants, moves or removes grants within their own country. Every change is audited;
    the return value describes them.
    """
    if actor is not None and actor.id == person.id and person.has_role(Role.ADMIN) and Role.ADMIN not in wanted:
        raise PeopleError(_l("You cannot remove your own administrator role."), "roles")
    manageable = set(Role) if actor is None else set(access.grantable_roles(actor))
    for role in set(wanted) - manageable:
        if person.grant_for(role) is None:
            raise PeopleError(_l("You cannot grant or remove this role."), "roles")
    changes: list[str] = []
    actor_id = actor.id if actor else None
    for role in sorted(manageable):
        grant = person.grant_for(role)
        scope = _normalise_scope(session, role, wanted[role]) if role in wanted else None
        if role in wanted and grant is None:
            if not _scope_allowed(actor, role, scope):
                raise PeopleError(_l("You can only grant this role for your own country."), "roles")
            person.role_grants.append(RoleGrant(role=role, country_id=scope, granted_by_id=actor_id))
            details = {"role": role, "country_id": scope}
            record(session, Action.ROLE_GRANTED, actor=actor, target=person, details=details)
            changes.append(f"+{role}")
        elif role in wanted and grant is not None and grant.country_id != scope:
            if not (_scope_allowed(actor, role, scope) and _scope_allowed(actor, role, grant.country_id)):
                raise PeopleError(_l("You can only grant this role for your own country."), "roles")
            details = {"role": role, "from": grant.country_id, "to": scope}
            record(session, Action.ROLE_CHANGED, actor=actor, target=person, details=details)
            grant.country_id = scope
            changes.append(f"~{role}")
        elif role not in wanted and grant is not None:
            if not _scope_allowed(actor, role, grant.country_id):
                raise PeopleError(_l("You can only remove this role for your own country."), "roles")
            person.role_grants.remove(grant)
            record(session, Action.ROLE_REVOKED, actor=actor, target=person, details={"role": role})
            changes.append(f"-{role}")
    session.flush()
    return changes


# --- Logins ------------------------------------------------------------------------------


def set_password(session: Session, person: User, password: str) -> None:
    """Set a new password and end the person's other sessions."""
    person.password_hash = hash_password(password)
    person.session_nonce = new_session_nonce()
    session.flush()


def set_active(session: Session, person: User, active: bool, *, actor: User | None) -> None:
    """Enable or disable a login; disabling ends the person's sessions at once."""
    if actor is not None and actor.id == person.id and not active:
        raise PeopleError(_l("You cannot disable your own account."))
    if person.is_active == active:
        return
    person.is_active = active
    if not active:
        person.session_nonce = new_session_nonce()
    record(session, Action.PERSON_ENABLED if active else Action.PERSON_DISABLED, actor=actor, target=person)
    session.flush()


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_account_link(session: Session, person: User, lifetime: timedelta, *, actor: User | None) -> str:
    """A single-use secret for ``person`` to set a password (an invitation or a reset).

    Earlier unused links of the person stop working. Only the hash is stored; the token
    is returned once, to be passed on to the person.
    """
    now = db.utcnow()
    session.execute(
        sa.update(AccountToken)
        .where(AccountToken.user_id == person.id, AccountToken.used_at.is_(None))
        .values(used_at=now)
    )
    token = secrets.token_urlsafe(32)
    session.add(
        AccountToken(
            user_id=person.id,
            token_hash=_token_hash(token),
            expires_at=now + lifetime,
            created_by_id=actor.id if actor else None,
        )
    )
    record(session, Action.LINK_CREATED, actor=actor, target=person, subject=person.email)
    session.flush()
    return token


def find_account_link(session: Session, token: str) -> AccountToken | None:
    """The valid (unused, unexpired) link for ``token``, if any."""
    if not token or len(token) > 100:
        return None
    link = session.scalar(sa.select(AccountToken).where(AccountToken.token_hash == _token_hash(token)))
    if link is None or link.used_at is not None or link.expires_at <= db.utcnow():
        return None
    if not link.user.is_active:
        return None
    return link


def use_account_link(session: Session, link: AccountToken, password: str) -> User:
    """Set the password through ``link``, which then cannot be used again."""
    # Guard against two tabs using one link at once: only one UPDATE can claim it.
    claimed = session.execute(
        sa.update(AccountToken)
        .where(AccountToken.id == link.id, AccountToken.used_at.is_(None))
        .values(used_at=db.utcnow())
    ).rowcount
    if claimed != 1:
        raise PeopleError(_l("This link has already been used."))
    set_password(session, link.user, password)
    record(session, Action.PASSWORD_SET, actor=link.user, target=link.user)
    return link.user


# --- Searching ---------------------------------------------------------------------------


@dataclass
class PeopleFilter:
    query: str = ""
    country_id: int | None = None
    role: Role | None = None
    sex: Sex | None = None
    category: Category | None = None


@dataclass
class Page:
    items: list[User]
    number: int
    per_page: int
    total: int
    pages: int = field(init=False)

    def __post_init__(self) -> None:
        self.pages = max(1, math.ceil(self.total / self.per_page))

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages


def _filtered(query: sa.Select[Any], filters: PeopleFilter, scope: set[int] | None) -> sa.Select[Any]:
    if scope is not None:
        query = query.where(User.country_id.in_(scope))
    folded = fold_for_search(filters.query)
    if folded:
        for word in folded.split()[:5]:
            query = query.where(User.search_text.like(like_pattern(word), escape="\\"))
    if filters.country_id is not None:
        query = query.where(User.country_id == filters.country_id)
    if filters.sex is not None:
        query = query.where(User.sex == filters.sex)
    if filters.category is not None:
        query = query.where(User.category == filters.category)
    if filters.role is not None:
        query = query.where(User.role_grants.any(RoleGrant.role == filters.role))
    return query


def search_people(session: Session, filters: PeopleFilter, *, actor: User, page: int, per_page: int) -> Page:
    """People ``actor`` may manage that match ``filters``, in alphabetical order, one page."""
    scope = access.managed_country_ids(actor)
    total = session.scalar(_filtered(sa.select(sa.func.count(User.id)), filters, scope)) or 0
    pages = max(1, math.ceil(total / per_page))
    page = min(max(1, page), pages)
    query = _filtered(sa.select(User), filters, scope).order_by(User.sort_name, User.id)
    items = list(session.scalars(query.limit(per_page).offset((page - 1) * per_page)))
    return Page(items, page, per_page, total)


def count_by_sex(session: Session, *, actor: User) -> dict[Sex, int]:
    """How many people ``actor`` manages, by sex (every value present, zeros included)."""
    scope = access.managed_country_ids(actor)
    query = sa.select(User.sex, sa.func.count()).group_by(User.sex)
    if scope is not None:
        query = query.where(User.country_id.in_(scope))
    counts = dict(session.execute(query).tuples().all())
    return {sex: counts.get(sex, 0) for sex in Sex}
