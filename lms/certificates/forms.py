"""Forms of the certificates area."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import IntegerField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from lms.forms import BaseForm, SearchForm, name_rules, options, required, strip_line, text_rules
from lms.i18n import LANGUAGES
from lms.models import Country


class CheckboxList(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def language_choices() -> list[SelectChoice]:
    return options(
        [("", str(_l("English only")))]
        + [
            (code, str(_l("English and %(language)s", language=name)))
            for code, name in LANGUAGES.items()
            if code != "en"
        ]
    )


class IssueForm(BaseForm):
    holders = CheckboxList(
        _l("People"),
        coerce=int,
        validators=[Optional()],
        invalid_choice_message=_l("Choose among the people listed: those who completed and have no certificate yet."),
    )
    language = SelectField(
        _l("Second language on the certificate"),
        choices=[],
        validate_choice=True,
        description=_l("Certificates are in English, with this language of the region beside it."),
    )
    valid_months = IntegerField(
        _l("Valid for (months)"),
        [Optional(), NumberRange(1, 120, message=_l("Enter a number of months from 1 to 120."))],
        description=_l(
            "For refresher training: after this many months from the end date the certificate "
            "shows as expired. Leave empty for no end."
        ),
    )

    def setup(self, people: list[tuple[int, str]], default_language: str | None) -> None:
        self.holders.choices = options(people)
        self.language.choices = language_choices()
        if self.language.data is None:
            self.language.data = default_language or ""


class ReasonForm(BaseForm):
    reason = TextAreaField(_l("Reason"), [required(), *text_rules(500, multiline=True)])


class PrintForm(BaseForm):
    format = SelectField(_l("Format"), choices=options([("pdf", "PDF"), ("zip", "ZIP")]), validate_choice=True)


class SignatoryForm(BaseForm):
    name = StringField(_l("Name"), [required(), *name_rules(200)], filters=[strip_line])
    function = StringField(
        _l("Function"),
        [required(), *text_rules(200)],
        filters=[strip_line],
        description=_l("As printed under the signature, e.g. Head of the Gender Equality Office, Ministry of Defence."),
    )
    country_id = SelectField(_l("Certificates of"), coerce=int, validate_choice=True)
    position = IntegerField(_l("Order"), [Optional(), NumberRange(0, 99)], default=0)

    def setup(self, countries: list[Country], regional_allowed: bool) -> None:
        from lms.i18n import COUNTRY_LABELS, label

        choices = [(0, str(_l("Every country (regional)")))] if regional_allowed else []
        choices += [(country.id, label(COUNTRY_LABELS, country.code)) for country in countries if country.code != "REG"]
        self.country_id.choices = options(choices)


class VerifyForm(SearchForm):
    code = StringField(_l("Verification code"), [required(), *text_rules(64)], filters=[strip_line])
