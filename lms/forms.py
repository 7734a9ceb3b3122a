"""The base form (CSRF on) and the field rules every area shares."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Field, Form, SelectChoice, StringField, ValidationError
from wtforms.validators import DataRequired, Email, Length, StopValidation

from lms.text import clean_line, find_forbidden_character, invisible_characters


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
