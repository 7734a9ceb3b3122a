"""Reading and writing CSV and XLSX safely.

Cells that start with ``=``, ``+``, ``-``, ``@`` (or a tab or carriage return) are formulas
to a spreadsheet program: a name such as ``=HYPERLINK(...)`` in an export would run on the
reader's computer (CSV injection, CWE-1236). On the way in such values are kept as plain
text; on the way out they are prefixed with an apostrophe, which spreadsheet programs
read as "this is text".
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any
from zipfile import BadZipFile

from openpyxl import Workbook, load_workbook
from openpyxl.utils.exceptions import InvalidFileException

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
MAX_ROWS = 50_000


class SpreadsheetError(ValueError):
    """The file cannot be read as a table."""


def escape_cell(value: Any) -> Any:
    """``value`` made safe for a spreadsheet: text that looks like a formula stays text."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def read_table(filename: str, data: bytes) -> list[list[str]]:
    """The rows of an uploaded CSV (UTF-8, comma or semicolon) or XLSX file, as text.

    Formulas in an XLSX file are read as their text, never evaluated.
    """
    name = filename.lower()
    if name.endswith(".xlsx"):
        return _read_xlsx(data)
    if name.endswith(".csv") or name.endswith(".txt"):
        return _read_csv(data)
    raise SpreadsheetError("Upload a .csv or .xlsx file.")


def _read_csv(data: bytes) -> list[list[str]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise SpreadsheetError(
            "The file is not UTF-8 text. In your spreadsheet program, save it as 'CSV UTF-8'."
        ) from error
    if "\x00" in text:
        raise SpreadsheetError("The file is not a text file.")
    sample = text[:10_000]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    rows = []
    for row in csv.reader(io.StringIO(text), dialect):
        rows.append([cell for cell in row])
        if len(rows) > MAX_ROWS + 1:
            raise SpreadsheetError(f"The file has more than {MAX_ROWS:,} rows.")
    return rows


def _read_xlsx(data: bytes) -> list[list[str]]:
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except (InvalidFileException, BadZipFile, KeyError, OSError, ValueError) as error:
        raise SpreadsheetError("The file is not a valid .xlsx workbook.") from error
    try:
        sheet = workbook.worksheets[0]
        rows = []
        for row in sheet.iter_rows(values_only=True):
            rows.append([_cell_text(value) for value in row])
            if len(rows) > MAX_ROWS + 1:
                raise SpreadsheetError(f"The file has more than {MAX_ROWS:,} rows.")
        return rows
    finally:
        workbook.close()


def write_csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """CSV (UTF-8 with a byte-order mark, so spreadsheet programs detect it), escaped."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([escape_cell(cell) for cell in header])
    for row in rows:
        writer.writerow([escape_cell(_cell_text(cell) if not isinstance(cell, int | float) else cell) for cell in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def write_xlsx(sheets: Sequence[tuple[str, Sequence[str], Iterable[Sequence[Any]]]]) -> bytes:
    """An XLSX workbook with one sheet per (title, header, rows); text is never a formula."""
    workbook = Workbook(write_only=True)
    for title, header, rows in sheets:
        sheet = workbook.create_sheet(title=title[:31])
        sheet.append([escape_cell(cell) for cell in header])
        for row in rows:
            sheet.append([escape_cell(cell) for cell in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
