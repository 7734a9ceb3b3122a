"""The main navigation: each item shows only to those whose role its page allows."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from lms.access import policy_of
from lms.models import Category, Role


def _in_coaching(user: Any) -> bool:
    """The programme's page is for coaches, commanders, and those who run the programme."""
    return user.has_role(Role.COACH, Role.ADMIN, Role.COORDINATOR) or user.category == Category.COMMANDER


# (endpoint, label): the order of the menu. Items are filtered by the pages' own policies,
# so the menu can never offer a page its reader would be refused; a few are further
# limited to the people they concern.
SHOWN_TO: dict[str, Callable[[Any], bool]] = {"coaching.home": _in_coaching}
MENU: list[tuple[str, Any]] = [
    ("dashboard.home", _l("Dashboard")),
    ("learn.catalogue", _l("Curriculum")),
    ("courses.index", _l("Courses")),
    ("calendar.agenda", _l("Calendar")),
    ("coaching.home", _l("Coaching")),
    ("certificates.index", _l("Certificates")),
    ("certificates.mine", _l("My certificates")),
    ("reports.dashboard", _l("Staff trained")),
    ("learn.progress", _l("Learners' progress")),
    ("network.directory", _l("Trainers' network")),
    ("people.index", _l("People")),
    ("audit.index", _l("Audit log")),
    ("account.profile", _l("My account")),
]


def menu_for_current_user() -> list[dict[str, Any]]:
    user = current_user._get_current_object()
    items = []
    for endpoint, label in MENU:
        rule = policy_of(endpoint)
        if rule is not None and rule.allows(user) and SHOWN_TO.get(endpoint, lambda _user: True)(user):
            blueprint = endpoint.split(".")[0]
            items.append({"endpoint": endpoint, "label": label, "current": request.blueprint == blueprint})
    return items


def init_app(app: Flask) -> None:
    app.jinja_env.globals["main_menu"] = menu_for_current_user
