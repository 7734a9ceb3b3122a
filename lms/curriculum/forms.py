"""Filter forms of the learning area (the knowledge checks are built from the content)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Optional

from lms import access
from lms.curriculum import content
from lms.curriculum.service import CatalogueFilters
from lms.forms import BaseForm, SearchForm, options, strip_line, text_rules
from lms.i18n import COUNTRY_LABELS, LANGUAGES
from lms.models import User
from lms.people.forms import optional_int
from lms.reference import countries_in_order

AUDIENCE_LABELS = {
    "cadet": _l("Cadets"),
    "commander": _l("Commanders"),
    "staff": _l("Military and civilian staff"),
    "trainer": _l("Trainers"),
    "all": _l("Everyone"),
}


class CatalogueForm(SearchForm):
    q = StringField(_l("Search"), [Optional(), *text_rules(100)], filters=[strip_line])
    # Filters left out of the query string mean "any": the default is the empty choice.
    track = SelectField(_l("Track"), validate_choice=True, default="")
    audience = SelectField(
        _l("For"),
        choices=options(
            [("", _l("Everyone")), *((key, label) for key, label in AUDIENCE_LABELS.items() if key != "all")]
        ),
        validate_choice=True,
        default="",
    )
    language = SelectField(
        _l("Available in"),
        choices=options([("", _l("Any language")), *LANGUAGES.items()]),
        validate_choice=True,
        default="",
    )

    def set_choices(self, curriculum: content.Curriculum, language: str) -> None:
        tracks = [(track.slug, track.title_in(language)) for track in curriculum.ordered_tracks()]
        self.track.choices = options([("", str(_l("All tracks"))), *tracks])

    def filters(self) -> CatalogueFilters:
        return CatalogueFilters(
            track=self.track.data or None,
            audience=self.audience.data or None,
            language=self.language.data or None,
            query=self.q.data or "",
        )


class LearnerSearchForm(SearchForm):
    q = StringField(_l("Name or email"), [Optional(), *text_rules(100)], filters=[strip_line])
    country = SelectField(_l("Country"), coerce=optional_int, validate_choice=True)

    def set_choices(self, session: Session, actor: User) -> None:
        scope = access.reach_country_ids(actor)
        countries = [c for c in countries_in_order(session) if scope is None or c.id in scope]
        self.country.choices = options(
            [("", str(_l("All countries"))), *((c.id, str(COUNTRY_LABELS.get(c.code, c.name))) for c in countries)]
        )


class AllowAttemptsForm(BaseForm):
    """A trainer gives a learner a fresh set of attempts at one module's knowledge check."""

    reason = TextAreaField(
        _l("Reason"),
        [InputRequired(message=_l("Give the reason for allowing more attempts.")), *text_rules(500, multiline=True)],
        description=_l("For example: read the module again with the trainer on 3 March."),
    )
