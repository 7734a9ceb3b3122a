"""Forms for managing people and their roles."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, SelectChoice, SelectField, StringField
from wtforms.validators import InputRequired, Optional

from lms.forms import (
    BaseForm,
    EmailInput,
    SearchForm,
    email_rules,
    name_rules,
    options,
    required,
    strip_line,
    text_rules,
)
from lms.i18n import CATEGORY_LABELS, COUNTRY_LABELS, LANGUAGES, ROLE_LABELS, SEX_LABELS
from lms.models import NAME_MAX, RANK_MAX, SCOPED_ROLES, Category, Country, Institution, Role, Sex
from lms.people.service import PeopleFilter, PersonData

_CHOOSE = _l("Choose one of the listed options.")


def optional_int(value: Any) -> int | None:
    if value in (None, "", "None"):
        return None
    return int(value)


def optional_enum(enum_cls: type) -> Any:
    def coerce(value: Any) -> Any:
        if value in (None, "", "None"):
            return None
        return enum_cls(value)

    return coerce


def country_choices(countries: list[Country]) -> list[SelectChoice]:
    return options((country.id, str(COUNTRY_LABELS.get(country.code, country.name))) for country in countries)


def institution_choices(institutions: list[Institution]) -> list[SelectChoice]:
    """Institutions grouped by country (rendered as option groups)."""
    choices = options([("", str(_l("Not recorded")))])
    for institution in institutions:
        group = str(COUNTRY_LABELS.get(institution.country.code, institution.country.name))
        choices += options([(institution.id, institution.name)], optgroup=group)
    return choices


class PersonForm(BaseForm):
    full_name = StringField(
        _l("Full name"),
        [required(), *name_rules(NAME_MAX)],
        filters=[strip_line],
        description=_l("As written in the person's documents, in Latin or Cyrillic."),
        render_kw={"autocomplete": "off"},
    )
    full_name_alt = StringField(
        _l("Name in the other script (optional)"),
        [Optional(), *name_rules(NAME_MAX)],
        filters=[strip_line],
        description=_l("For example the Cyrillic spelling of a name recorded in Latin, for certificates."),
        render_kw={"autocomplete": "off"},
    )
    email = EmailInput(_l("Email address"), [required(), *email_rules()])
    sex = SelectField(
        _l("Sex"),
        choices=options((sex.value, SEX_LABELS[sex]) for sex in Sex),
        coerce=Sex,
        default=Sex.NOT_RECORDED.value,
        description=_l("Recorded only for sex-disaggregated statistics."),
        validate_choice=True,
    )
    country_id = SelectField(_l("Country"), coerce=int, validators=[InputRequired(message=_CHOOSE)])
    institution_id = SelectField(_l("Institution"), coerce=optional_int, validate_choice=True)
    category = SelectField(
        _l("Category"),
        choices=options([("", _l("Not recorded")), *((c.value, CATEGORY_LABELS[c]) for c in Category)]),
        coerce=optional_enum(Category),
    )
    rank = StringField(_l("Rank (optional)"), [Optional(), *text_rules(RANK_MAX)], filters=[strip_line])
    preferred_language = SelectField(_l("Preferred language"), choices=options(LANGUAGES), default="en")

    def set_choices(self, countries: list[Country], institutions: list[Institution]) -> None:
        self.country_id.choices = country_choices(countries)
        self.institution_id.choices = institution_choices(
            [i for i in institutions if i.country_id in {c.id for c in countries}]
        )

    def to_data(self) -> PersonData:
        return PersonData(
            full_name=self.full_name.data,
            full_name_alt=self.full_name_alt.data or None,
            email=self.email.data,
            sex=self.sex.data,
            country_id=self.country_id.data,
            institution_id=self.institution_id.data,
            category=self.category.data,
            rank=self.rank.data or None,
            preferred_language=self.preferred_language.data,
        )


def build_roles_form(
    grantable: list[Role],
    countries: list[Country],
    formdata: Any = None,
    current: dict[Role, int | None] | None = None,
    *,
    allow_regional: bool = True,
) -> BaseForm:
    """A form with a checkbox per grantable role, and a country choice for scoped roles."""

    class RolesForm(BaseForm):
        pass

    regional = [("", str(_l("Regional (all countries)")))] if allow_regional else []
    scope_choices = options(
        [
            *regional,
            *(
                (country.id, str(COUNTRY_LABELS.get(country.code, country.name)))
                for country in countries
                if country.code != "REG"
            ),
        ]
    )
    for role in grantable:
        setattr(RolesForm, f"role_{role.value}", BooleanField(ROLE_LABELS[role]))
        if role in SCOPED_ROLES:
            setattr(
                RolesForm,
                f"scope_{role.value}",
                SelectField(
                    _l("%(role)s for", role=ROLE_LABELS[role]),
                    choices=scope_choices,
                    coerce=optional_int,
                ),
            )
    data: dict[str, Any] = {}
    for role, scope in (current or {}).items():
        data[f"role_{role.value}"] = True
        data[f"scope_{role.value}"] = scope
    form = RolesForm(formdata=formdata, data=data)
    # (checkbox, country choice or None) per role, in the order of ``grantable``.
    form.rows = [(form[f"role_{r.value}"], form._fields.get(f"scope_{r.value}")) for r in grantable]
    return form


def wanted_roles(form: BaseForm, grantable: list[Role]) -> dict[Role, int | None]:
    """The roles ticked in a roles form, with their scopes."""
    wanted: dict[Role, int | None] = {}
    for role in grantable:
        if getattr(form, f"role_{role.value}").data:
            scope_field = getattr(form, f"scope_{role.value}", None)
            wanted[role] = scope_field.data if scope_field is not None else None
    return wanted


class PeopleSearchForm(SearchForm):
    q = StringField(_l("Name or email"), [Optional(), *text_rules(100)], filters=[strip_line])
    country = SelectField(_l("Country"), coerce=optional_int, validate_choice=True)
    role = SelectField(
        _l("Role"),
        choices=options([("", _l("Any role")), *((r.value, ROLE_LABELS[r]) for r in Role)]),
        coerce=optional_enum(Role),
    )
    sex = SelectField(
        _l("Sex"),
        choices=options([("", _l("Any")), *((s.value, SEX_LABELS[s]) for s in Sex)]),
        coerce=optional_enum(Sex),
    )
    category = SelectField(
        _l("Category"),
        choices=options([("", _l("Any")), *((c.value, CATEGORY_LABELS[c]) for c in Category)]),
        coerce=optional_enum(Category),
    )

    def set_choices(self, countries: list[Country]) -> None:
        self.country.choices = options([("", str(_l("All countries")))]) + country_choices(countries)

    def to_filter(self) -> PeopleFilter:
        return PeopleFilter(
            query=self.q.data or "",
            country_id=self.country.data,
            role=self.role.data,
            sex=self.sex.data,
            category=self.category.data,
        )
