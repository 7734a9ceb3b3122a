"""Reference data: the programme's countries and their defence institutions."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lms.models import Country, Institution, InstitutionKind

COUNTRIES: list[tuple[str, str]] = [
    ("BA", "Bosnia and Herzegovina"),
    ("ME", "Montenegro"),
    ("MK", "North Macedonia"),
    ("RS", "Serbia"),
    ("REG", "Regional"),
]

# (country code, name, short name, kind). Names are the institutions' English names.
INSTITUTIONS: list[tuple[str, str, str, InstitutionKind]] = [
    ("BA", "Ministry of Defence of Bosnia and Herzegovina", "MoD BiH", InstitutionKind.MINISTRY),
    ("BA", "Armed Forces of Bosnia and Herzegovina", "AF BiH", InstitutionKind.ARMED_FORCES),
    ("BA", "Peace Support Operations Training Centre (PSOTC)", "PSOTC", InstitutionKind.ACADEMY),
    ("ME", "Ministry of Defence of Montenegro", "MoD MNE", InstitutionKind.MINISTRY),
    ("ME", "Armed Forces of Montenegro", "AF MNE", InstitutionKind.ARMED_FORCES),
    ("ME", "Training Centre of the Armed Forces of Montenegro", "TC AF MNE", InstitutionKind.ACADEMY),
    ("MK", "Ministry of Defence of the Republic of North Macedonia", "MoD MKD", InstitutionKind.MINISTRY),
    ("MK", "Army of the Republic of North Macedonia", "ARNM", InstitutionKind.ARMED_FORCES),
    ("MK", 'Military Academy "General Mihailo Apostolski" Skopje', "MA Skopje", InstitutionKind.ACADEMY),
    ("RS", "Ministry of Defence of the Republic of Serbia", "MoD SRB", InstitutionKind.MINISTRY),
    ("RS", "Serbian Armed Forces", "SAF", InstitutionKind.ARMED_FORCES),
    ("RS", "Military Academy, University of Defence in Belgrade", "MA Belgrade", InstitutionKind.ACADEMY),
    ("REG", "Regional Network of Gender Trainers", "RNGT", InstitutionKind.OTHER),
]


def load_reference_data(session: Session) -> None:
    """Create missing countries and institutions; existing rows are left as they are."""
    countries = {country.code: country for country in session.scalars(sa.select(Country))}
    for position, (code, name) in enumerate(COUNTRIES):
        if code not in countries:
            countries[code] = Country(code=code, name=name, position=position)
            session.add(countries[code])
    session.flush()
    existing = set(session.execute(sa.select(Institution.country_id, Institution.name)).tuples())
    for position, (code, name, short_name, kind) in enumerate(INSTITUTIONS):
        country = countries[code]
        if (country.id, name) not in existing:
            session.add(
                Institution(country_id=country.id, name=name, short_name=short_name, kind=kind, position=position)
            )
    session.flush()


def countries_in_order(session: Session) -> list[Country]:
    return list(session.scalars(sa.select(Country).order_by(Country.position)))


def institutions_in_order(session: Session) -> list[Institution]:
    return list(
        session.scalars(
            sa.select(Institution).join(Institution.country).order_by(Country.position, Institution.position)
        )
    )
