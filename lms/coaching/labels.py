"""The words for coaching codes in the reader's language, for forms and templates."""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from lms.coaching.service import TOPICS
from lms.i18n import label
from lms.models import (
    ActionOwner,
    ActionStatus,
    CoachingLevel,
    CoachingSessionStatus,
    GoalStatus,
    PairingStatus,
    SessionFormat,
)

LEVEL_LABELS = {CoachingLevel.BASIC: _l("Basic"), CoachingLevel.ADVANCED: _l("Advanced")}
FORMAT_LABELS = {SessionFormat.IN_PERSON: _l("In person"), SessionFormat.ONLINE: _l("Online")}
SESSION_STATUS_LABELS = {
    CoachingSessionStatus.PLANNED: _l("Planned"),
    CoachingSessionStatus.HELD: _l("Held"),
    CoachingSessionStatus.CANCELLED: _l("Cancelled"),
}
GOAL_STATUS_LABELS = {
    GoalStatus.NOT_STARTED: _l("Not started"),
    GoalStatus.IN_PROGRESS: _l("In progress"),
    GoalStatus.ACHIEVED: _l("Achieved"),
    GoalStatus.NOT_ACHIEVED: _l("Not achieved"),
}
OWNER_LABELS = {ActionOwner.COMMANDER: _l("The commander"), ActionOwner.COACH: _l("The coach")}
PAIRING_STATUS_LABELS = {
    PairingStatus.ACTIVE: _l("Active"),
    PairingStatus.COMPLETED: _l("Completed"),
    PairingStatus.ENDED: _l("Ended early"),
}
ACTION_STATUS_LABELS = {ActionStatus.OPEN: _l("Open"), ActionStatus.DONE: _l("Done")}


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(
        level_label=lambda value: label(LEVEL_LABELS, value),
        format_label=lambda value: label(FORMAT_LABELS, value),
        coaching_status_label=lambda value: label(SESSION_STATUS_LABELS, value),
        goal_status_label=lambda value: label(GOAL_STATUS_LABELS, value),
        owner_label=lambda value: label(OWNER_LABELS, value),
        pairing_status_label=lambda value: label(PAIRING_STATUS_LABELS, value),
        action_status_label=lambda value: label(ACTION_STATUS_LABELS, value),
        topic_label=lambda value: label(TOPICS, value),
    )
