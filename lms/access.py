"""Authorization in one place.

Two layers (STYLE.md rule 6):

1. Every view declares who may call it with :func:`policy` (``PUBLIC``, ``AUTHENTICATED``
   or :func:`roles`). A ``before_request`` hook enforces it, and a view without a
   declared policy is refused to everyone: deny by default. ``tests/security/
   test_route_matrix.py`` checks every URL rule against an expected-outcome table.
2. Per-object rules are the predicates below; loaders in each area's ``service.py`` call
   them and :func:`deny` when they fail, so a guessed id gets 404 (or 403) and an audit row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NoReturn, TypeVar

from flask import Flask, abort, current_app, request
from flask_login import current_user

from lms.models import SCOPED_ROLES, Role, User

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Policy:
    name: str
    public: bool = False
    roles: frozenset[Role] = frozenset()

    def allows(self, user: Any) -> bool:
        if self.public:
            return True
        if not user.is_authenticated:
            return False
        return not self.roles or user.has_role(*self.roles)


PUBLIC = Policy("public", public=True)
AUTHENTICATED = Policy("authenticated")


def roles(*allowed: Role) -> Policy:
    """Only people holding one of ``allowed`` roles."""
    return Policy("roles:" + ",".join(sorted(allowed)), roles=frozenset(allowed))


STAFF_MANAGERS = roles(Role.ADMIN, Role.COORDINATOR)
ADMINS = roles(Role.ADMIN)


def policy(rule: Policy) -> Callable[[F], F]:
    """Declare who may call a view."""

    def decorate(view: F) -> F:
        view.access_policy = rule  # type: ignore[attr-defined]
        return view

    return decorate


def policy_of(endpoint: str) -> Policy | None:
    view = current_app.view_functions.get(endpoint)
    return getattr(view, "access_policy", None)


def deny(status: int = 403, *, reason: str, target: Any = None) -> NoReturn:
    """Refuse the request, writing the refusal to the audit log first."""
    from lms.audit.service import Action, record_now

    actor = current_user if current_user.is_authenticated else None
    record_now(
        Action.ACCESS_DENIED,
        actor=actor,
        subject=request.path[:254],
        target=target,
        details={"reason": reason, "status": status},
    )
    abort(status)


def _enforce_policy() -> Any:
    endpoint = request.endpoint
    if endpoint is None or endpoint == "static":
        return None  # routing already failed (404/405), or a static file
    rule = policy_of(endpoint)
    if rule is None:
        current_app.logger.error("view %s declares no access policy; refused", endpoint)
        deny(403, reason="no access policy declared")
    if rule.allows(current_user):
        return None
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()  # type: ignore[attr-defined]
    deny(403, reason=f"requires {rule.name}")


def init_app(app: Flask) -> None:
    app.before_request(_enforce_policy)


# --- Per-object rules: people --------------------------------------------------------------
#
# One rule decides who may act on whom. Two levels:
#
# * **Reach**: the countries whose people an actor works with. Admins reach everyone;
#   coordinators and trainers the country of their grant (everyone when regional). Staff
#   look people up, enrol them, pair them and follow their learning only within reach.
# * **Manage**: edit a person's record, roles, login, password links. Besides reach, the
#   actor must be able to grant every role the person holds, with its scope: coordinators
#   never manage administrators or other coordinators, only administrators manage
#   administrators, and nobody manages themselves through the people pages.
#
# The loaders in ``lms/people/service.py`` apply these predicates; a view or service never
# loads a person it acts on in any other way (``tests/security/test_person_loaders.py``).


def _grant_country_ids(actor: User, role: Role) -> set[int] | None:
    grant = actor.grant_for(role)
    if grant is None:
        return set()
    return None if grant.country_id is None else {grant.country_id}


def managed_country_ids(actor: User) -> set[int] | None:
    """The countries whose people ``actor`` manages: ``None`` for all, empty for none."""
    if actor.has_role(Role.ADMIN):
        return None
    return _grant_country_ids(actor, Role.COORDINATOR)


def reach_country_ids(actor: User) -> set[int] | None:
    """The countries whose people ``actor`` works with: ``None`` for all, empty for none.

    Admins and coordinators as for managing people; a trainer within their own scope (a
    regional trainer reaches everyone).
    """
    scope = managed_country_ids(actor)
    if scope is None or scope:
        return scope
    return _grant_country_ids(actor, Role.TRAINER)


def in_countries(scope: set[int] | None, country_id: int | None) -> bool:
    return scope is None or country_id in scope


def can_reach_person(actor: User, person: User) -> bool:
    """Whether ``actor`` may look ``person`` up, enrol, pair or follow them."""
    return in_countries(reach_country_ids(actor), person.country_id)


def grantable_roles(actor: User) -> list[Role]:
    """Roles ``actor`` may give or take away. Only admins manage admins and coordinators."""
    if actor.has_role(Role.ADMIN):
        return list(Role)
    if actor.has_role(Role.COORDINATOR):
        return [Role.TRAINER, Role.COACH, Role.TRAINEE]
    return []


def can_grant_role(actor: User, role: Role, country_id: int | None) -> bool:
    """Whether ``actor`` may grant (or take away) ``role`` with the scope ``country_id``
    (``None``: regional). A country coordinator grants scoped roles only for their country."""
    if role not in grantable_roles(actor):
        return False
    if role not in SCOPED_ROLES:
        return True
    return in_countries(managed_country_ids(actor), country_id)


def can_manage_person(actor: User, person: User) -> bool:
    """Whether ``actor`` may change ``person``'s record, roles, login or password."""
    if actor.id == person.id or not in_countries(managed_country_ids(actor), person.country_id):
        return False
    return all(can_grant_role(actor, grant.role, grant.country_id) for grant in person.role_grants)


def enrolment_may_make_trainee(person: User) -> bool:
    """Enrolment gives the trainee role only to people who hold no other role: it never
    changes the roles of staff (an administrator on a course stays as they are)."""
    return all(grant.role == Role.TRAINEE for grant in person.role_grants)


LEARNING_STAFF = roles(Role.ADMIN, Role.COORDINATOR, Role.TRAINER)


COURSE_STAFF = roles(Role.ADMIN, Role.COORDINATOR, Role.TRAINER)


def can_manage_course(actor: User, course: Any) -> bool:
    """Admins and coordinators (within their country) manage every course; a trainer only
    the courses they deliver."""
    scope = managed_country_ids(actor)
    if scope is None or course.country_id in scope:
        return True
    return actor.id in course.trainer_ids
