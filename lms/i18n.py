"""Languages of the interface, and the labels of stored codes in the reader's language.

Every string a user sees goes through Flask-Babel; dates and numbers are formatted
for the reader's locale (see the template filters registered in :func:`init_app`).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import Flask, g, has_request_context, request, session
from flask_babel import Babel, format_date, format_datetime, format_decimal, format_percent, lazy_pgettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from lms.config import ROOT
from lms.models import Category, Role, Sex

#: Language codes as stored on people and content (BCP 47), with their own names.
LANGUAGES: dict[str, str] = {
    "en": "English",
    "bs": "Bosanski",
    "cnr": "Crnogorski",
    "hr": "Hrvatski",
    "mk": "Македонски",
    "sq": "Shqip",
    "sr-Latn": "Srpski (latinica)",
    "sr-Cyrl": "Српски (ћирилица)",
}

# Babel locale for each language; Montenegrin has no CLDR locale of its own and uses
# Serbian (Latin, Montenegro), whose catalogue directory is ``sr_Latn_ME``.
_BABEL_LOCALES = {
    "en": "en_GB",  # day-month-year dates, as in the region
    "bs": "bs",
    "cnr": "sr_Latn_ME",
    "hr": "hr",
    "mk": "mk",
    "sq": "sq",
    "sr-Latn": "sr_Latn",
    "sr-Cyrl": "sr_Cyrl",
}

SEX_LABELS = {
    Sex.FEMALE: _l("Female"),
    Sex.MALE: _l("Male"),
    Sex.NOT_RECORDED: _l("Not recorded"),
}
CATEGORY_LABELS = {
    Category.CADET: _l("Cadet"),
    Category.COMMANDER: _l("Commander"),
    Category.MILITARY_STAFF: _l("Military staff"),
    Category.CIVILIAN_STAFF: _l("Civilian staff"),
}
# The paired form (both genders, as "Koordinator/Koordinatorica") names a role in general or
# for a person whose sex is not recorded; a woman's and a man's role take their own form in
# the languages that mark gender (Serbia's 2021 Law on Gender Equality asks for it).
ROLE_LABELS = {
    Role.ADMIN: _l("Administrator"),
    Role.COORDINATOR: _l("Coordinator"),
    Role.TRAINER: _l("Trainer"),
    Role.COACH: _l("Coach"),
    Role.TRAINEE: _l("Trainee"),
}
ROLE_LABELS_FOR = {
    Sex.FEMALE: {
        Role.ADMIN: lazy_pgettext("a woman's role", "Administrator"),
        Role.COORDINATOR: lazy_pgettext("a woman's role", "Coordinator"),
        Role.TRAINER: lazy_pgettext("a woman's role", "Trainer"),
        Role.COACH: lazy_pgettext("a woman's role", "Coach"),
        Role.TRAINEE: lazy_pgettext("a woman's role", "Trainee"),
    },
    Sex.MALE: {
        Role.ADMIN: lazy_pgettext("a man's role", "Administrator"),
        Role.COORDINATOR: lazy_pgettext("a man's role", "Coordinator"),
        Role.TRAINER: lazy_pgettext("a man's role", "Trainer"),
        Role.COACH: lazy_pgettext("a man's role", "Coach"),
        Role.TRAINEE: lazy_pgettext("a man's role", "Trainee"),
    },
}
CATEGORY_LABELS_FOR = {
    Sex.FEMALE: {
        Category.CADET: lazy_pgettext("a woman's category", "Cadet"),
        Category.COMMANDER: lazy_pgettext("a woman's category", "Commander"),
    },
    Sex.MALE: {
        Category.CADET: lazy_pgettext("a man's category", "Cadet"),
        Category.COMMANDER: lazy_pgettext("a man's category", "Commander"),
    },
}
COUNTRY_LABELS = {
    "BA": _l("Bosnia and Herzegovina"),
    "ME": _l("Montenegro"),
    "MK": _l("North Macedonia"),
    "RS": _l("Serbia"),
    "REG": _l("Regional"),
}


def babel_locale(language: str) -> str:
    """The Babel locale identifier for one of :data:`LANGUAGES`."""
    return _BABEL_LOCALES.get(language, "en")


def current_language() -> str:
    """The reader's language: their profile's, else their choice in this session, else
    the best match for their browser, else English (also outside requests: the shell).

    Worked out once per request: pages ask for it many times.
    """
    if not has_request_context():
        return "en"
    if "language" not in g:
        g.language = _choose_language()
    return g.language


def _choose_language() -> str:
    if current_user and current_user.is_authenticated and current_user.preferred_language in LANGUAGES:
        return current_user.preferred_language
    return request_language()


def request_language() -> str:
    """The language this request asks for, without the database (for pages shown when it
    is away): the session's choice, else the best match for the browser, else English."""
    chosen = session.get("language")
    if chosen in LANGUAGES:
        return chosen
    best = request.accept_languages.best_match([*LANGUAGES, "sr", "sr-RS", "sr-ME", "bs-BA", "mk-MK", "sq-AL", "hr-HR"])
    if best is None:
        return "en"
    if best in LANGUAGES:
        return best
    aliases = {"sr": "sr-Cyrl", "sr-RS": "sr-Cyrl", "sr-ME": "cnr"}
    return aliases.get(best, best.split("-")[0])


def _select_locale() -> str:
    return babel_locale(current_language())


def html_lang() -> str:
    """The ``lang`` attribute for the page."""
    return current_language()


def label(mapping: dict[Any, Any], value: Any) -> str:
    """The translated label of a stored code (``None`` reads "Not recorded")."""
    if value is None:
        return str(_l("Not recorded"))
    return str(mapping.get(value, value))


def role_label(role: Role | None, sex: Sex | None = None) -> str:
    """A role's label in the form for the person's sex (the paired form when not recorded)."""
    return label(ROLE_LABELS_FOR.get(sex, ROLE_LABELS) if sex else ROLE_LABELS, role)  # type: ignore[arg-type]


def category_label(category: Category | None, sex: Sex | None = None) -> str:
    forms = {**CATEGORY_LABELS, **CATEGORY_LABELS_FOR.get(sex, {})} if sex else CATEGORY_LABELS  # type: ignore[arg-type]
    return label(forms, category)


def language_name(code: str | None) -> str:
    return LANGUAGES.get(code or "", code or "")


def _format_date(value: date | datetime | None, fmt: str = "medium") -> str:
    # A datetime is shown as the date in the reader's time zone, not in UTC.
    return "" if value is None else format_date(value, fmt)


def _format_datetime(value: datetime | None, fmt: str = "medium") -> str:
    return "" if value is None else format_datetime(value, fmt)


def init_app(app: Flask) -> None:
    Babel(
        app,
        locale_selector=_select_locale,
        default_translation_directories=str(ROOT / "translations"),
    )
    app.jinja_env.filters.update(
        date=_format_date,
        datetime=_format_datetime,
        number=format_decimal,
        percent=format_percent,
    )
    app.jinja_env.globals.update(
        LANGUAGES=LANGUAGES,
        html_lang=html_lang,
        sex_label=lambda value: label(SEX_LABELS, value),
        category_label=category_label,
        role_label=role_label,
        country_label=lambda code: label(COUNTRY_LABELS, code),
        language_name=language_name,
    )
