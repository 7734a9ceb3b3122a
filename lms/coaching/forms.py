"""Forms of the Gender Coach Programme."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import IntegerField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, NumberRange, Optional

from lms.coaching.labels import FORMAT_LABELS, GOAL_STATUS_LABELS, LEVEL_LABELS, OWNER_LABELS, SESSION_STATUS_LABELS
from lms.coaching.service import TOPICS, PairingData, SessionData
from lms.forms import BaseForm, BoundedDateField, options, required, strip_line, text_rules
from lms.models import ActionOwner, CoachingLevel, CoachingSessionStatus, SessionFormat, User

_DATE = _l("Enter a date.")


class PairingForm(BaseForm):
    coach_id = SelectField(_l("Coach"), coerce=int, validators=[InputRequired(message=_l("Choose a coach."))])
    commander_id = SelectField(
        _l("Commander or decision maker"), coerce=int, validators=[InputRequired(message=_l("Choose a person."))]
    )
    level = SelectField(_l("Programme"), choices=options(LEVEL_LABELS), default=CoachingLevel.BASIC.value)
    start_date = BoundedDateField(_l("Start of the cycle"), [DataRequired(message=_DATE)])
    end_date = BoundedDateField(_l("End of the cycle"), [DataRequired(message=_DATE)])
    planned_sessions = IntegerField(_l("Sessions planned"), [InputRequired(), NumberRange(1, 24)], default=6)
    min_sessions = IntegerField(
        _l("Sessions needed to complete"), [InputRequired(), NumberRange(1, 24)], default=5,
        description=_l("The cycle completes when this many sessions were held and every goal was reviewed."),
    )  # fmt: skip

    def set_choices(self, coaches: list[User], commanders: list[User]) -> None:
        self.coach_id.choices = options((person.id, person.full_name) for person in coaches)
        self.commander_id.choices = options(
            (person.id, f"{person.full_name} ({person.rank or '—'})") for person in commanders
        )

    def to_data(self) -> PairingData:
        return PairingData(
            coach_id=self.coach_id.data,
            commander_id=self.commander_id.data,
            level=CoachingLevel(self.level.data),
            start_date=self.start_date.data,
            end_date=self.end_date.data,
            planned_sessions=self.planned_sessions.data,
            min_sessions=self.min_sessions.data,
        )


class ReasonForm(BaseForm):
    reason = TextAreaField(_l("Reason"), [required(), *text_rules(500, multiline=True)])


class GoalForm(BaseForm):
    title = StringField(
        _l("Goal"),
        [required(), *text_rules(300)],
        filters=[strip_line],
        description=_l("For example: integrate a gender perspective in the unit's annual training plan."),
    )
    indicator = StringField(
        _l("How we will know"),
        [required(), *text_rules(500)],
        filters=[strip_line],
        description=_l("An indicator, for example: the plan approved with two gender-related objectives."),
    )
    target_date = BoundedDateField(_l("Target date"), [DataRequired(message=_DATE)])


class ReviewForm(BaseForm):
    status = SelectField(_l("Status now"), choices=options(GOAL_STATUS_LABELS))
    reviewed_on = BoundedDateField(_l("Reviewed on"), [DataRequired(message=_DATE)])
    comment = TextAreaField(_l("What was said (optional)"), [Optional(), *text_rules(2000, multiline=True)])


class SessionForm(BaseForm):
    date = BoundedDateField(_l("Date"), [DataRequired(message=_DATE)])
    duration_minutes = IntegerField(
        _l("Duration (minutes)"), [InputRequired(message=_l("Enter a number."))], default=90
    )
    format = SelectField(_l("Format"), choices=options(FORMAT_LABELS), default=SessionFormat.IN_PERSON.value)
    status = SelectField(
        _l("Status"), choices=options(SESSION_STATUS_LABELS), default=CoachingSessionStatus.PLANNED.value
    )
    topics = SelectMultipleField(_l("Topics"), choices=options(TOPICS), validate_choice=True, default=[])
    summary = TextAreaField(
        _l("Summary (the commander reads it)"), [Optional(), *text_rules(10_000, multiline=True)],
        description=_l("What was discussed and agreed. Your private notes go in the separate box below."),
    )  # fmt: skip

    def to_data(self) -> SessionData:
        return SessionData(
            self.date.data, self.duration_minutes.data, SessionFormat(self.format.data),
            CoachingSessionStatus(self.status.data), list(self.topics.data or []), self.summary.data or None,
        )  # fmt: skip


class NoteForm(BaseForm):
    text = TextAreaField(
        _l("My private note"), [Optional(), *text_rules(10_000, multiline=True)],
        description=_l("Only you can read this note: not the commander, not coordinators, not administrators."),
    )  # fmt: skip


class ActionForm(BaseForm):
    description = StringField(_l("Action"), [required(), *text_rules(500)], filters=[strip_line])
    owner = SelectField(_l("Who"), choices=options(OWNER_LABELS), default=ActionOwner.COMMANDER.value)
    due_date = BoundedDateField(_l("Due"), [DataRequired(message=_DATE)])
