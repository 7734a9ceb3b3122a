"""The dashboard's tables, built once and used by the page, the exports and the PDF, so
that the numbers in all of them are the same numbers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from lms.i18n import CATEGORY_LABELS, COUNTRY_LABELS, SEX_LABELS, label
from lms.models import Category, Sex
from lms.reference import countries_in_order, institutions_in_order
from lms.reports.service import Figures, Group, Tally

BRANCH_LABELS = {"military": _l("Military"), "civilian": _l("Civilian")}
SEX_ORDER = (Sex.FEMALE, Sex.MALE, Sex.NOT_RECORDED)


@dataclass(frozen=True)
class Row:
    label: str
    group: Group
    tally: Tally


@dataclass(frozen=True)
class Table:
    key: str
    title: str
    heading: str  # the first column's heading
    rows: list[Row]
    total: Tally


def _not_recorded() -> str:
    return str(_l("Not recorded"))


def build(session: Session, figures: Figures) -> list[Table]:
    countries = countries_in_order(session)
    institutions = institutions_in_order(session)
    by_country = [
        Row(label(COUNTRY_LABELS, country.code), Group(country_id=country.id), figures.by_country[country.id])
        for country in countries
        if country.id in figures.by_country
    ]
    by_institution = [
        Row(institution.name, Group(institution_id=institution.id), figures.by_institution[institution.id])
        for institution in institutions
        if institution.id in figures.by_institution
    ]
    if None in figures.by_institution:
        by_institution.append(Row(_not_recorded(), Group(institution_missing=True), figures.by_institution[None]))
    by_category = [
        Row(label(CATEGORY_LABELS, category), Group(category=category), figures.by_category[category])
        for category in Category
        if category in figures.by_category
    ]
    if None in figures.by_category:
        by_category.append(Row(_not_recorded(), Group(category_missing=True), figures.by_category[None]))
    by_branch = [
        Row(str(BRANCH_LABELS[branch]), Group(branch=branch), figures.by_branch[branch])
        for branch in ("military", "civilian")
        if branch in figures.by_branch
    ]
    if None in figures.by_branch:
        by_branch.append(Row(_not_recorded(), Group(branch_missing=True), figures.by_branch[None]))
    return [
        Table("country", str(_l("By country")), str(_l("Country")), by_country, figures.total),
        Table("institution", str(_l("By institution")), str(_l("Institution")), by_institution, figures.total),
        Table("category", str(_l("By category")), str(_l("Category")), by_category, figures.total),
        Table("branch", str(_l("Military and civilian")), str(_l("Staff")), by_branch, figures.total),
    ]


def trend_table(figures: Figures) -> Table:
    """New people per month and the running total (the chart's numbers)."""
    rows = [Row(month, Group(month=month), tally) for month, _running, tally in figures.cumulative()]
    return Table("trend", str(_l("New each month")), str(_l("Month")), rows, figures.total)


def header(table: Table) -> list[str]:
    return [table.heading, *(label(SEX_LABELS, sex) for sex in SEX_ORDER), str(_l("Total")), str(_l("Women's share"))]


def values(row_label: str, tally: Tally) -> list[Any]:
    share = round(100 * tally.share(Sex.FEMALE), 1) if tally.total else ""
    return [row_label, *(tally.by_sex[sex] for sex in SEX_ORDER), tally.total, share]


def rows_of(table: Table) -> list[list[Any]]:
    """The table as plain rows, with its total last (for CSV, XLSX and the PDF)."""
    return [*(values(row.label, row.tally) for row in table.rows), values(str(_l("Total")), table.total)]
