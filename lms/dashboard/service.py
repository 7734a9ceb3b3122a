"""Figures for the home dashboard."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lms import access
from lms.models import Country, Sex, User


@dataclass
class PeopleFigures:
    """People an actor manages, by country and sex. Every sex value is present, so
    "not recorded" is shown rather than dropped."""

    by_country: list[tuple[Country, dict[Sex, int]]]
    with_login: int

    @property
    def totals(self) -> dict[Sex, int]:
        return {sex: sum(counts[sex] for _, counts in self.by_country) for sex in Sex}

    @property
    def total(self) -> int:
        return sum(self.totals.values())


def people_figures(session: Session, *, actor: User) -> PeopleFigures:
    scope = access.managed_country_ids(actor)
    countries = session.scalars(sa.select(Country).order_by(Country.position)).all()
    counts_query = sa.select(User.country_id, User.sex, sa.func.count()).group_by(User.country_id, User.sex)
    login_query = sa.select(sa.func.count()).where(User.password_hash.is_not(None), User.is_active)
    if scope is not None:
        counts_query = counts_query.where(User.country_id.in_(scope))
        login_query = login_query.where(User.country_id.in_(scope))
    counts: dict[int, dict[Sex, int]] = {}
    for country_id, sex, count in session.execute(counts_query):
        counts.setdefault(country_id, dict.fromkeys(Sex, 0))[sex] = count
    rows = [
        (country, counts.get(country.id, dict.fromkeys(Sex, 0)))
        for country in countries
        if scope is None or country.id in scope
    ]
    return PeopleFigures(rows, session.scalar(login_query) or 0)
