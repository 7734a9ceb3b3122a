"""The demo tells a story: two years of training in all four countries."""

import sqlalchemy as sa

from lms import db
from lms.models import Country
from lms.reports import service
from lms.reports.service import Filters, Scope


def test_two_years_of_training_in_every_country(app, runner) -> None:
    assert runner.invoke(args=["lms", "demo"]).exit_code == 0
    with app.app_context(), db.new_session() as session:
        figures = service.figures(session, Filters(), Scope(None))
        codes = {country.id: country.code for country in session.scalars(sa.select(Country))}
        assert {codes[country_id] for country_id in figures.by_country} == {"BA", "ME", "MK", "RS"}
        months = sorted(figures.by_month)
        assert months[0] <= "2024-12" and len(months) >= 18  # a trend over two years
        assert 200 <= figures.total.total <= 400
        women = figures.total.share(service.Sex.FEMALE)
        assert 0.35 < women < 0.6  # about as many women as men, as the demo intends
        assert figures.total.by_sex[service.Sex.NOT_RECORDED] > 0  # shown, never dropped
