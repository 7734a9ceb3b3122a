"""Forms for planning courses and sessions, enrolling people and recording results."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import DataRequired, InputRequired, NumberRange, Optional, ValidationError
from wtforms.widgets import HiddenInput

from lms.courses.labels import ENROLMENT_MODE_LABELS, MODE_LABELS, STATUS_LABELS
from lms.courses.service import CourseData, SessionData
from lms.forms import BaseForm, BoundedDateField, SearchForm, options, required, strip_line, text_rules
from lms.i18n import COUNTRY_LABELS, LANGUAGES
from lms.models import Country, CourseMode, EnrolmentMode, Institution, Module, Track, User
from lms.people.forms import institution_choices, optional_int
from lms.web import MAX_ID

_DATE = _l("Enter a date.")


def web_address(form: Any, field: Any) -> None:
    if field.data and not field.data.startswith(("https://", "http://")):
        raise ValidationError(_l("Enter a web address starting with https://"))


class CourseForm(BaseForm):
    title = StringField(_l("Title"), [required(), *text_rules(200)], filters=[strip_line])
    description = TextAreaField(_l("Description (optional)"), [Optional(), *text_rules(5000, multiline=True)])
    track_id = SelectField(
        _l("Track"),
        coerce=optional_int,
        validate_choice=True,
        default="",
        description=_l("The course covers the modules of this track, unless you choose modules below."),
    )
    module_ids = SelectMultipleField(
        _l("Modules (optional)"),
        coerce=int,
        validate_choice=True,
        default=[],
        description=_l("Choose modules to deliver a selection instead of a whole track."),
    )
    trainer_ids = SelectMultipleField(_l("Trainers"), coerce=int, validate_choice=True, default=[])
    country_id = SelectField(_l("Country"), coerce=int, validators=[InputRequired(message=_l("Choose a country."))])
    host_institution_id = SelectField(_l("Host institution"), coerce=optional_int, validate_choice=True)
    mode = SelectField(_l("Mode"), choices=options(MODE_LABELS), default=CourseMode.IN_PERSON.value)
    venue = StringField(
        _l("Venue"),
        [Optional(), *text_rules(300)],
        filters=[strip_line],
        description=_l("For example: Military Academy, Belgrade, classroom 12."),
    )
    online_link = StringField(_l("Online link"), [Optional(), *text_rules(500), web_address], filters=[strip_line])
    language = SelectField(_l("Language of the course"), choices=options(LANGUAGES), default="en")
    start_date = BoundedDateField(_l("Start date"), [DataRequired(message=_DATE)])
    end_date = BoundedDateField(_l("End date"), [DataRequired(message=_DATE)])
    capacity = IntegerField(
        _l("Capacity"), [InputRequired(message=_l("Enter a number.")), NumberRange(1, 10_000)], default=25
    )
    enrolment_mode = SelectField(
        _l("Enrolment"), choices=options(ENROLMENT_MODE_LABELS), default=EnrolmentMode.TRAINER_ONLY.value
    )
    attendance_threshold = IntegerField(
        _l("Attendance needed to complete (%)"),
        [InputRequired(message=_l("Enter a number.")), NumberRange(0, 100)],
        default=80,
    )
    require_modules = BooleanField(_l("Completing also requires every module of the course"), default=True)

    def set_choices(
        self,
        countries: list[Country],
        institutions: list[Institution],
        tracks: list[Track],
        modules: list[Module],
        trainers: list[User],
    ) -> None:
        self.country_id.choices = options((c.id, str(COUNTRY_LABELS.get(c.code, c.name))) for c in countries)
        self.host_institution_id.choices = institution_choices(institutions)
        self.track_id.choices = options([("", str(_l("None"))), *((t.id, t.title) for t in tracks)])
        titles = {t.id: t.title for t in tracks}
        choices = []
        for module in modules:
            choices += options([(module.id, module.title)], optgroup=titles.get(module.track_id, ""))
        self.module_ids.choices = choices
        self.trainer_ids.choices = options((t.id, t.full_name) for t in trainers)

    def to_data(self) -> CourseData:
        return CourseData(
            title=self.title.data,
            description=self.description.data or None,
            track_id=self.track_id.data,
            module_ids=list(self.module_ids.data or []),
            trainer_ids=list(self.trainer_ids.data or []),
            country_id=self.country_id.data,
            host_institution_id=self.host_institution_id.data,
            mode=CourseMode(self.mode.data),
            venue=self.venue.data or None,
            online_link=self.online_link.data or None,
            language=self.language.data,
            start_date=self.start_date.data,
            end_date=self.end_date.data,
            capacity=self.capacity.data,
            enrolment_mode=EnrolmentMode(self.enrolment_mode.data),
            attendance_threshold=self.attendance_threshold.data,
            require_modules=bool(self.require_modules.data),
        )


class SessionForm(BaseForm):
    date = BoundedDateField(_l("Date"), [DataRequired(message=_DATE)])
    start_time = TimeField(_l("Starts at"), [DataRequired(message=_l("Enter a time."))])
    end_time = TimeField(_l("Ends at"), [DataRequired(message=_l("Enter a time."))])
    topic = StringField(_l("Topic"), [required(), *text_rules(200)], filters=[strip_line])
    trainer_id = SelectField(_l("Trainer"), coerce=optional_int, validate_choice=True, default="")
    confirm = BooleanField(_l("I have checked the warnings above: save anyway"))

    def set_choices(self, trainers: list[User]) -> None:
        self.trainer_id.choices = options([("", str(_l("Not decided yet"))), *((t.id, t.full_name) for t in trainers)])

    def to_data(self) -> SessionData:
        return SessionData(
            self.date.data, self.start_time.data, self.end_time.data, self.topic.data, self.trainer_id.data
        )


class ReasonForm(BaseForm):
    reason = TextAreaField(_l("Reason"), [required(), *text_rules(500, multiline=True)])


class StatusForm(BaseForm):
    status = SelectField(_l("New status"), choices=options(STATUS_LABELS))
    reason = TextAreaField(_l("Reason (needed to cancel)"), [Optional(), *text_rules(500, multiline=True)])


class PersonPickForm(BaseForm):
    user_id = IntegerField(widget=HiddenInput(), validators=[InputRequired(), NumberRange(1, MAX_ID)])


class CandidateSearchForm(SearchForm):
    q = StringField(
        _l("Find people by name, email or institution"), [Optional(), *text_rules(100)], filters=[strip_line]
    )


class RosterUploadForm(BaseForm):
    roster = FileField(
        _l("Roster file (.csv or .xlsx)"),
        validators=[
            FileRequired(message=_l("Choose a file.")),
            FileAllowed(["csv", "xlsx"], message=_l("Upload a .csv or .xlsx file.")),
        ],
    )


class ConfirmImportForm(BaseForm):
    import_id = HiddenField(validators=[InputRequired()])


class OverrideForm(BaseForm):
    result = SelectField(
        _l("Result"),
        choices=options(
            [
                ("rule", _l("As the completion rule decides")),
                ("completed", _l("Completed")),
                ("not_completed", _l("Not completed")),
            ]
        ),
    )
    reason = TextAreaField(_l("Reason"), [Optional(), *text_rules(500, multiline=True)])


class TrainerProfileForm(BaseForm):
    languages = SelectMultipleField(
        _l("Languages I train in"), choices=options(LANGUAGES), validate_choice=True, default=[]
    )
    topics = TextAreaField(
        _l("Topics"),
        [Optional(), *text_rules(1000, multiline=True)],
        description=_l("For example: UNSCR 1325; preventing sexual harassment; gender analysis in planning."),
    )
