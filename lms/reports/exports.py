"""Exports of the reports: CSV, XLSX and a printable PDF summary of the tables, and the
person-level list (coordinators only). Every cell goes through the spreadsheet escaping
(``lms.spreadsheets``), so a name beginning with "=" is text, never a formula."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import render_template
from flask_babel import format_date
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from lms import db
from lms.i18n import CATEGORY_LABELS, COUNTRY_LABELS, SEX_LABELS, label
from lms.models import Country, Course, Institution, Track, User
from lms.reports import tables
from lms.reports.chart import cumulative_chart
from lms.reports.service import Figures, Filters, Group
from lms.spreadsheets import write_csv, write_xlsx


def describe_filters(session: Session, filters: Filters) -> str:
    """The filters in words, printed above every export and list."""
    parts = []
    if filters.start or filters.end:
        start = format_date(filters.start) if filters.start else "…"
        end = format_date(filters.end) if filters.end else "…"
        parts.append(f"{start} – {end}")
    if filters.country_id is not None:
        country = session.get(Country, filters.country_id)
        parts.append(label(COUNTRY_LABELS, country.code) if country else "?")
    if filters.track_id is not None:
        track = session.get(Track, filters.track_id)
        parts.append(track.title if track else "?")
    if filters.course_id is not None:
        course = session.get(Course, filters.course_id)
        parts.append(course.title if course else "?")
    return "; ".join(parts) if parts else str(_l("All staff trained, all dates"))


def describe_group(session: Session, group: Group) -> str:
    parts = []
    if group.country_id is not None:
        country = session.get(Country, group.country_id)
        parts.append(label(COUNTRY_LABELS, country.code) if country else "?")
    if group.institution_missing:
        parts.append(str(_l("Institution not recorded")))
    elif group.institution_id is not None:
        institution = session.get(Institution, group.institution_id)
        parts.append(institution.name if institution else "?")
    if group.category_missing or group.branch_missing:
        parts.append(str(_l("Category not recorded")))
    elif group.category is not None:
        parts.append(label(CATEGORY_LABELS, group.category))
    elif group.branch is not None:
        parts.append(str(tables.BRANCH_LABELS[group.branch]))
    if group.sex is not None:
        parts.append(label(SEX_LABELS, group.sex))
    if group.month is not None:
        parts.append(str(_l("first counted in %(month)s", month=group.month)))
    return ", ".join(parts) if parts else str(_l("Everyone"))


def _all_tables(session: Session, figures: Figures) -> list[tables.Table]:
    return [*tables.build(session, figures), tables.trend_table(figures)]


def tables_csv(session: Session, figures: Figures) -> bytes:
    """Every table in one CSV, one row per group, the table named in the first column."""
    rows: list[list[Any]] = []
    header: list[str] = []
    for table in _all_tables(session, figures):
        header = [str(_l("Table")), *tables.header(table)]
        header[1] = str(_l("Group"))
        rows += [[table.title, *row] for row in tables.rows_of(table)]
    return write_csv(header, rows)


def tables_xlsx(session: Session, figures: Figures, filters_text: str) -> bytes:
    sheets = [(str(_l("About this report")), [str(_l("Staff trained")), filters_text], [])]
    sheets += [(table.title, tables.header(table), tables.rows_of(table)) for table in _all_tables(session, figures)]
    return write_xlsx(sheets)


def _person_row(person: User, first_at: datetime) -> list[Any]:
    return [
        person.full_name,
        person.full_name_alt or "",
        person.email,
        label(SEX_LABELS, person.sex),
        label(COUNTRY_LABELS, person.country.code),
        person.institution.name if person.institution else "",
        label(CATEGORY_LABELS, person.category),
        person.rank or "",
        first_at.date().isoformat(),
    ]


def _person_header() -> list[str]:
    return [
        str(_l("Name")), str(_l("Name in the other script")), str(_l("Email")), str(_l("Sex")), str(_l("Country")),
        str(_l("Institution")), str(_l("Category")), str(_l("Rank")), str(_l("First counted")),
    ]  # fmt: skip


def people_csv(people: list[tuple[User, datetime]]) -> bytes:
    return write_csv(_person_header(), (_person_row(person, first_at) for person, first_at in people))


def people_xlsx(people: list[tuple[User, datetime]]) -> bytes:
    rows = [_person_row(person, first_at) for person, first_at in people]
    return write_xlsx([(str(_l("Staff trained")), _person_header(), rows)])


def summary_pdf(session: Session, figures: Figures, filters_text: str, target: int) -> bytes:
    """A printable summary: the headline, the tables and the trend chart (WeasyPrint, with
    the same static-files-only fetcher as certificates)."""
    from lms.certificates.document import html_to_pdf

    trend = figures.cumulative()
    html = render_template(
        "reports/pdf/summary.html",
        figures=figures,
        tables=_all_tables(session, figures),
        header=tables.header,
        rows_of=tables.rows_of,
        chart=cumulative_chart([(month, running) for month, running, _tally in trend], target),
        target=target,
        filters_text=filters_text,
        generated=format_date(db.utcnow(), "long"),
    )
    return html_to_pdf(html)
