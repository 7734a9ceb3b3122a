"""The reports' filters: a GET form that changes nothing."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from wtforms import SelectField
from wtforms.validators import Optional, ValidationError

from lms.forms import BoundedDateField, SearchForm, options
from lms.models import Country, Course, Track
from lms.people.forms import country_choices, optional_int
from lms.reports.service import Filters


class ReportFilterForm(SearchForm):
    # "From" alone is also the audit log's column of addresses: the context tells them apart.
    start = BoundedDateField(lazy_pgettext("start of a date range", "From"), [Optional()])
    end = BoundedDateField(lazy_pgettext("end of a date range", "To"), [Optional()])
    country = SelectField(_l("Country"), coerce=optional_int, validate_choice=True)
    track = SelectField(_l("Learning track"), coerce=optional_int, validate_choice=True)
    course = SelectField(_l("Course"), coerce=optional_int, validate_choice=True)

    def set_choices(self, countries: list[Country], tracks: list[Track], courses: list[Course]) -> None:
        self.country.choices = options([("", str(_l("All countries")))]) + country_choices(countries)
        self.track.choices = options([("", str(_l("All tracks")))] + [(track.id, track.title) for track in tracks])
        dated = [(course.id, f"{course.title} ({course.start_date:%Y})") for course in courses]
        self.course.choices = options([("", str(_l("All courses"))), *dated])

    def validate_end(self, field: BoundedDateField) -> None:
        if field.data and self.start.data and field.data < self.start.data:
            raise ValidationError(_l("The end date is before the start date."))

    def to_filters(self) -> Filters:
        return Filters(
            start=self.start.data,
            end=self.end.data,
            country_id=self.country.data,
            track_id=self.track.data,
            course_id=self.course.data,
        )
