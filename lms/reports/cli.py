"""``flask --app app lms report --format csv|xlsx|pdf --output FILE``: the report's tables
(regional, everyone) from the shell, the same as the dashboard's exports."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import with_appcontext
from flask_babel import force_locale

from lms import db
from lms.audit.service import record
from lms.models import Country
from lms.reports import exports, service
from lms.reports.service import Filters, Scope


@click.command("report")
@with_appcontext
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx", "pdf"]), required=True)
@click.option("--output", required=True, type=click.Path(dir_okay=False, writable=True, path_type=Path))
@click.option("--country", "country_code", help="Only people of this country: BA, ME, MK or RS.")
@click.option(
    "--from", "start", type=click.DateTime(["%Y-%m-%d"]), help="Trainings completed on or after (YYYY-MM-DD)."
)
@click.option("--to", "end", type=click.DateTime(["%Y-%m-%d"]), help="Trainings completed on or before (YYYY-MM-DD).")
@click.option("--people", is_flag=True, help="The person-level list instead of the tables (CSV or XLSX).")
@click.option("--language", default="en", show_default=True, help="Language of the headings.")
def report_command(
    fmt: str, output: Path, country_code: str | None, start: date | None, end: date | None, people: bool, language: str
) -> None:
    """Write the staff-trained report: every table, or with --people the people counted."""
    from lms.i18n import babel_locale

    if people and fmt == "pdf":
        raise click.UsageError("The person-level list is exported as CSV or XLSX.")
    with db.new_session() as session, force_locale(babel_locale(language)):
        country_id = None
        if country_code:
            country_id = session.scalar(sa.select(Country.id).where(Country.code == country_code.upper()))
            if country_id is None:
                raise click.UsageError(f"Unknown country {country_code!r}: use BA, ME, MK or RS.")
        filters = Filters(start=start.date() if start else None, end=end.date() if end else None, country_id=country_id)
        scope = Scope(None)
        if people:
            rows = service.all_people(session, filters, scope)
            body = exports.people_csv(rows) if fmt == "csv" else exports.people_xlsx(rows)
        else:
            figures = service.figures(session, filters, scope)
            text = exports.describe_filters(session, filters)
            if fmt == "csv":
                body = exports.tables_csv(session, figures)
            elif fmt == "xlsx":
                body = exports.tables_xlsx(session, figures, text)
            else:
                body = exports.summary_pdf(session, figures, text, current_app.config["TARGET_TRAINED"])
        output.write_bytes(body)
        record(session, "report.exported", actor=None, subject="shell", details={"format": fmt, "people": people})
        session.commit()
    click.echo(f"Wrote {output} ({len(body):,} bytes).")
