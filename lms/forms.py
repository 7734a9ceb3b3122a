"""The base form (CSRF on) and the field rules every area shares."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, Field, Form, SelectChoice, StringField, ValidationError
from wtforms.validators import DataRequired, Email, Length, StopValidation

from lms.text import clean_line, find_forbidden_character, invisible_characters
from lms.web import MAX_ID


class BaseForm(FlaskForm):
    """Every form that changes something: CSRF-protected (a bad token gives 400)."""


class SearchForm(Form):
    """Base for GET filter forms: no CSRF (they change nothing) and no PII in the state."""

    class Meta:
        csrf = False


def options(pairs: Any, optgroup: str | None = None) -> list[SelectChoice]:
    """Select options from ``(value, label)`` pairs (or a dict), optionally in a group."""
    items = pairs.items() if isinstance(pairs, dict) else pairs
    return [SelectChoice(value, label, optgroup=optgroup) for value, label in items]


def strip_line(value: Any) -> Any:
    """Filter: NFC-normalise and trim a one-line value."""
    return clean_line(value) if isinstance(value, str) else value


def lower_email(value: Any) -> Any:
    return value.strip().lower() if isinstance(value, str) else value


class NoControlCharacters:
    """Refuse NUL and other control characters, bidirectional overrides and the like."""

    def __init__(self, multiline: bool = False) -> None:
        self.multiline = multiline

    def __call__(self, form: Form, field: Field) -> None:
        if not isinstance(field.data, str):
            return
        bad = find_forbidden_character(field.data, multiline=self.multiline)
        if bad is not None:
            raise ValidationError(
                _l("This field contains a character that is not allowed (U+%(code)04X).", code=ord(bad))
            )


INVISIBLE_IN_NAME = _l(
    "Names cannot contain invisible characters (such as zero-width spaces or direction marks). Retype the name."
)


def name_problem(value: str) -> str | None:
    """Why ``value`` cannot be a person's name, or ``None``: for services and roster rows."""
    return str(INVISIBLE_IN_NAME) if invisible_characters(value) else None


class NoInvisibleCharacters:
    """Refuse zero-width characters, direction marks and other invisible ones in a name.

    Stops the field's validation: the generic "character not allowed" message of
    :class:`NoControlCharacters` would only repeat it less clearly.
    """

    def __call__(self, form: Form, field: Field) -> None:
        if isinstance(field.data, str) and invisible_characters(field.data):
            raise StopValidation(INVISIBLE_IN_NAME)


def required() -> DataRequired:
    """The field must have a value after trimming (spaces alone are not a name)."""
    return DataRequired(message=_l("This field is required."))


def text_rules(max_length: int, *, multiline: bool = False) -> list[Any]:
    """Validators for free text: a maximum length and no control characters."""
    return [
        Length(max=max_length, message=_l("Use at most %(max)d characters.", max=max_length)),
        NoControlCharacters(multiline=multiline),
    ]


def name_rules(max_length: int) -> list[Any]:
    """Validators for a person's name: no invisible characters, then as for free text."""
    return [NoInvisibleCharacters(), *text_rules(max_length)]


def email_rules() -> list[Any]:
    return [
        Length(max=254, message=_l("Use at most %(max)d characters.", max=254)),
        NoControlCharacters(),
        Email(message=_l("Enter a valid email address."), check_deliverability=False),
    ]


class EmailInput(StringField):
    """An email field, stored lower-cased so uniqueness ignores case."""

    def __init__(self, label: Any = None, validators: Any = None, **kwargs: Any) -> None:
        kwargs.setdefault("filters", [lower_email])
        kwargs.setdefault("render_kw", {"autocomplete": "email", "type": "email", "inputmode": "email"})
        super().__init__(label, validators, **kwargs)


#: The dates people may type: wide enough for any record of the network, narrow enough that
#: the arithmetic on them (the day after, a month's grid, a validity in months) stays within
#: Python's years 1 to 9999 instead of failing with an OverflowError.
EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2199, 12, 31)


def date_in_range(value: date) -> bool:
    return EARLIEST_DATE <= value <= LATEST_DATE


class BoundedDateField(DateField):
    """A date (``YYYY-MM-DD``) from :data:`EARLIEST_DATE` to :data:`LATEST_DATE`; any
    other is refused as a date that cannot be read is, and leaves no data."""

    def __init__(self, label: Any = None, validators: Any = None, **kwargs: Any) -> None:
        render_kw = {"min": EARLIEST_DATE.isoformat(), "max": LATEST_DATE.isoformat(), **kwargs.get("render_kw", {})}
        super().__init__(label, validators, **{**kwargs, "render_kw": render_kw})

    def process_formdata(self, valuelist: list[Any]) -> None:
        super().process_formdata(valuelist)
        if self.data is not None and not date_in_range(self.data):
            self.data = None
            raise ValueError(
                _l(
                    "Enter a date from the year %(first)d to %(last)d.",
                    first=EARLIEST_DATE.year,
                    last=LATEST_DATE.year,
                )
            )


def parse_id(value: str) -> int:
    """An id from a query string: digits from 1 to ``MAX_ID``, else ``ValueError`` (a larger
    number would overflow the database's integers: SQLite raises, PostgreSQL refuses)."""
    if not (value.isascii() and value.isdigit() and len(value) <= 10) or not 0 < int(value) <= MAX_ID:
        raise ValueError(value)
    return int(value)
