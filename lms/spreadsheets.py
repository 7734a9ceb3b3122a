"""Reading and writing CSV and XLSX safely.

Cells that start with ``=``, ``+``, ``-``, ``@`` (or a tab or carriage return) are formulas
to a spreadsheet program: a name such as ``=HYPERLINK(...)`` in an export would run on the
reader's computer (CSV injection, CWE-1236). On the way in such values are kept as plain
text; on the way out they are prefixed with an apostrophe, which spreadsheet programs
read as "this is text".

An upload is read within :class:`Limits`, checked before and while it is parsed, never
after: an XLSX file is a ZIP archive, and 1 MB of it may unpack to gigabytes. The sizes
the archive declares are checked before anything is unpacked (the ``zipfile`` module
never unpacks a member beyond its declared size); the sheet's rows and cells are counted
in its unpacked bytes, at C speed, before it is parsed; then the parts are read as a
stream with expat, and reading stops at the first row, cell or text over a limit. Nothing
is held but the rows read so far. openpyxl's own reader is not used for uploads: it builds
the whole shared-strings table and each whole row before a limit could be checked, and it
reads a 20,000-row roster two and a half times slower.
"""

from __future__ import annotations

import csv
import io
import posixpath
import re
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any
from xml.parsers import expat

from flask import has_request_context
from flask_babel import format_decimal, lazy_ngettext
from flask_babel import lazy_gettext as _l
from openpyxl import Workbook
from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format, is_timedelta_format
from openpyxl.utils.cell import column_index_from_string
from openpyxl.utils.datetime import MAC_EPOCH, WINDOWS_EPOCH, from_excel, from_ISO8601

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
MIB = 1024 * 1024
#: An XLSX roster has about ten parts; a thousand is no spreadsheet of people.
XLSX_MAX_MEMBERS = 1000
_CHUNK = 64 * 1024


@dataclass(frozen=True)
class Limits:
    """How much of an uploaded table is read (the defaults are those of ``lms.config``)."""

    max_rows: int = 20_000  # rows after the header
    max_columns: int = 30
    max_cell_chars: int = 1_000
    max_member_bytes: int = 32 * MIB  # XLSX: one part of the archive, unpacked
    max_total_bytes: int = 64 * MIB  # XLSX: all parts together, unpacked

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Limits:
        return cls(
            max_rows=config["ROSTER_MAX_ROWS"],
            max_columns=config["ROSTER_MAX_COLUMNS"],
            max_cell_chars=config["ROSTER_MAX_CELL_CHARS"],
            max_member_bytes=config["XLSX_MAX_MEMBER_BYTES"],
            max_total_bytes=config["XLSX_MAX_TOTAL_BYTES"],
        )


class SpreadsheetError(ValueError):
    """The file cannot be read as a table; ``message`` says why, in the reader's language."""

    def __init__(self, message: Any) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return str(self.message)


class _Number(int):
    """An integer shown with the reader's digit grouping (20,000 / 20.000) in a message."""

    def __str__(self) -> str:
        return format_decimal(int(self)) if has_request_context() else f"{int(self):,}"


def _not_xlsx() -> SpreadsheetError:
    return SpreadsheetError(_l("The file is not a valid .xlsx workbook."))


def _too_many_rows(limits: Limits) -> SpreadsheetError:
    return SpreadsheetError(
        lazy_ngettext(
            "The file has more than %(limit)s row after the header, the most one upload may have. "
            "Split it into smaller files.",
            "The file has more than %(limit)s rows after the header, the most one upload may have. "
            "Split it into smaller files.",
            limits.max_rows,
            limit=_Number(limits.max_rows),
        )
    )


def _too_many_columns(row: int, limits: Limits) -> SpreadsheetError:
    return SpreadsheetError(
        lazy_ngettext(
            "Row %(row)s has more than %(limit)s column, the most a row may have. "
            "Keep only the roster's columns and upload the file again.",
            "Row %(row)s has more than %(limit)s columns, the most a row may have. "
            "Keep only the roster's columns and upload the file again.",
            limits.max_columns,
            row=_Number(row),
            limit=_Number(limits.max_columns),
        )
    )


def _cell_too_long(row: int | None, limits: Limits) -> SpreadsheetError:
    if row is None:  # a shared string, read before the rows that use it
        return SpreadsheetError(
            lazy_ngettext(
                "The file has a cell longer than %(limit)s character, the most a cell may hold.",
                "The file has a cell longer than %(limit)s characters, the most a cell may hold.",
                limits.max_cell_chars,
                limit=_Number(limits.max_cell_chars),
            )
        )
    return SpreadsheetError(
        lazy_ngettext(
            "Row %(row)s has a cell longer than %(limit)s character, the most a cell may hold.",
            "Row %(row)s has a cell longer than %(limit)s characters, the most a cell may hold.",
            limits.max_cell_chars,
            row=_Number(row),
            limit=_Number(limits.max_cell_chars),
        )
    )


def _unpacks_too_large(limit_bytes: int, *, part: bool) -> SpreadsheetError:
    megabytes = _Number(limit_bytes // MIB)
    if part:
        message = _l(
            "The workbook is too large once unpacked: one of its parts is over %(limit)s MB, the most a part "
            "may hold. Save the roster as CSV, or copy the list of people into a new workbook.",
            limit=megabytes,
        )
    else:
        message = _l(
            "The workbook is too large once unpacked: over %(limit)s MB in all, the most a workbook may hold. "
            "Save the roster as CSV, or copy the list of people into a new workbook.",
            limit=megabytes,
        )
    return SpreadsheetError(message)


def escape_cell(value: Any) -> Any:
    """``value`` made safe for a spreadsheet: text that looks like a formula stays text."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def read_table(filename: str, data: bytes, limits: Limits | None = None) -> list[list[str]]:
    """The rows of an uploaded CSV (UTF-8; comma, semicolon or tab) or XLSX file, as text.

    Formulas in an XLSX file are read as their text, never evaluated. A file over one of
    ``limits`` is refused with a :class:`SpreadsheetError` naming the limit, as soon as
    it is found, so a file over a limit costs little to refuse whatever its size.
    """
    limits = limits or Limits()
    name = filename.lower()
    if name.endswith(".xlsx"):
        return _read_xlsx(data, limits)
    if name.endswith(".csv") or name.endswith(".txt"):
        return _read_csv(data, limits)
    raise SpreadsheetError(_l("Upload a .csv or .xlsx file."))


# CSV ---------------------------------------------------------------------------------------


def _read_csv(data: bytes, limits: Limits) -> list[list[str]]:
    try:
        text = data.decode("utf-8-sig")  # strict: a byte that is not UTF-8 refuses the file
    except UnicodeDecodeError as error:
        raise SpreadsheetError(
            _l("The file is not UTF-8 text. In your spreadsheet program, save it as 'CSV UTF-8'.")
        ) from error
    if "\x00" in text:
        raise SpreadsheetError(_l("The file is not a text file."))
    rows: list[list[str]] = []
    reader = csv.reader(io.StringIO(text), delimiter=_delimiter(text))
    try:
        for row in reader:
            number = len(rows) + 1  # as a spreadsheet program numbers it
            if number > limits.max_rows + 1:
                raise _too_many_rows(limits)
            if len(row) > limits.max_columns:
                raise _too_many_columns(number, limits)
            if any(len(cell) > limits.max_cell_chars for cell in row):
                raise _cell_too_long(number, limits)
            rows.append(row)
    except csv.Error as error:
        # The csv module refuses a field of more than 131,072 characters by itself.
        if "field larger than field limit" in str(error):
            raise _cell_too_long(len(rows) + 1, limits) from error
        raise SpreadsheetError(_l("The file is not a valid CSV file.")) from error
    return rows


def _delimiter(text: str) -> str:
    """The delimiter the header row uses most: comma, semicolon (spreadsheet programs in
    the region write it) or tab. ``csv.Sniffer`` is not used: its patterns take seconds on
    a few kilobytes of quotes and commas."""
    header = text[: text.find("\n")] if "\n" in text[:10_000] else text[:10_000]
    return max([",", ";", "\t"], key=header.count)


# XLSX --------------------------------------------------------------------------------------


def _read_xlsx(data: bytes, limits: Limits) -> list[list[str]]:
    _check_directory(data)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            _check_archive(archive, limits)
            workbook = _workbook_path(archive)
            relations = _relationships(archive, workbook)
            sheet, date1904 = _first_sheet(archive, workbook, relations)
            _survey_sheet(archive, sheet, limits)
            strings = _shared_strings(archive, relations.first.get("sharedStrings"), limits)
            dates = _date_styles(archive, relations.first.get("styles"))
            epoch = MAC_EPOCH if date1904 else WINDOWS_EPOCH
            return _SheetReader(strings, dates, epoch, limits).read(archive, sheet)
    except SpreadsheetError:
        raise
    except (
        zipfile.BadZipFile,
        zlib.error,
        expat.ExpatError,
        KeyError,
        IndexError,
        ValueError,
        OverflowError,
        EOFError,
        OSError,
        NotImplementedError,  # a compression method or encryption zipfile cannot read
        RuntimeError,  # an encrypted member
    ) as error:
        raise _not_xlsx() from error


def _check_directory(data: bytes) -> None:
    """Refuse an archive whose table of contents is too long, before ``zipfile`` reads it
    (150,000 empty members fit in 13 MB and take seconds to list). The table's size and
    count are in its last record; ``zipfile`` reads no more than that size."""
    end = data.rfind(b"PK\x05\x06", max(0, len(data) - 22 - 0xFFFF))
    if end < 0 or len(data) < end + 22:
        raise _not_xlsx()
    members, size = struct.unpack_from("<HI", data, end + 10)
    if members > XLSX_MAX_MEMBERS or size > XLSX_MAX_MEMBERS * 1024:  # ZIP64's markers included
        raise _not_xlsx()


def _check_archive(archive: zipfile.ZipFile, limits: Limits) -> None:
    """Refuse an archive by the sizes it declares, before unpacking anything."""
    members = archive.infolist()
    if len(members) > XLSX_MAX_MEMBERS:
        raise _not_xlsx()
    total = 0
    for member in members:
        if member.file_size > limits.max_member_bytes:
            raise _unpacks_too_large(limits.max_member_bytes, part=True)
        total += member.file_size
    if total > limits.max_total_bytes:
        raise _unpacks_too_large(limits.max_total_bytes, part=False)


class _Done(Exception):
    """Stop reading a part: everything needed from it has been read."""


def _refuse_declarations(*_args: Any) -> None:
    # Spreadsheets never declare a DTD or entities; refusing them rules out entity bombs.
    raise _not_xlsx()


def _stream(
    archive: zipfile.ZipFile,
    name: str,
    start: Callable[[str, dict[str, str]], None],
    end: Callable[[str], None] | None = None,
    text: Callable[[str], None] | None = None,
) -> None:
    """Feed part ``name`` to expat in chunks, calling the handlers as it goes.

    Handlers get tag names as written (``c`` or ``x:c``; see :func:`_local`). A part is
    never unpacked beyond the size it declares (``zipfile`` stops there and then finds
    the checksum wrong), so the sizes checked up front bound the reading.
    """
    parser = expat.ParserCreate()
    parser.buffer_text = True  # text arrives in pieces of at most 8 KiB, counted as it comes
    parser.StartDoctypeDeclHandler = _refuse_declarations
    parser.EntityDeclHandler = _refuse_declarations
    parser.StartElementHandler = start
    if end is not None:
        parser.EndElementHandler = end
    if text is not None:
        parser.CharacterDataHandler = text
    try:
        with archive.open(name) as part:
            while chunk := part.read(_CHUNK):
                parser.Parse(chunk, False)
        parser.Parse(b"", True)
    except _Done:
        return


def _local(tag: str) -> str:
    """A tag's name without its namespace prefix (most files have none, some write ``x:``)."""
    return tag.rpartition(":")[2]


class _TagCounter:
    """Counts the elements ``tag`` in unpacked bytes fed to it, chunk by chunk.

    Much faster than parsing (no Python per element), so a part with far too many
    elements is refused before they are parsed. Never less than the true count for a part
    written by a spreadsheet program; text that looks like a prefixed tag may add to it.
    """

    def __init__(self, tag: bytes) -> None:
        self.patterns = [opening + tag + closing for opening in (b"<", b":") for closing in (b" ", b">", b"/")]
        self.overlap = len(tag) + 1  # a tag split between two chunks is counted once
        self.tail = b""
        self.count = 0

    def feed(self, chunk: bytes) -> int:
        window = self.tail + chunk
        self.count += sum(window.count(pattern) for pattern in self.patterns)
        self.tail = window[-self.overlap :]
        return self.count


def _survey_sheet(archive: zipfile.ZipFile, name: str, limits: Limits) -> None:
    """Refuse a sheet with too many rows, or a row with too many cells, before parsing it.

    Rows and cells are counted in the unpacked bytes with no Python per cell (finding each
    row's end, counting cell tags up to it): a tenth of a second for the largest part
    allowed, where parsing such a sheet takes seconds before it reaches the row over a
    limit. The parser checks the same limits exactly; this only answers sooner.
    """
    with archive.open(name) as part:
        head = b""
        while (found := re.search(rb"<([A-Za-z_][\w.-]*:)?sheetData\b", head)) is None:
            chunk = part.read(_CHUNK)
            if not chunk:
                return
            head = head[-64:] + chunk
        prefix = found.group(1) or b""
        row_start, row_end = b"<" + prefix + b"row", b"</" + prefix + b"row>"
        cell_tags = [b"<" + prefix + b"c" + closing for closing in (b" ", b">", b"/")]
        overlap = len(row_end) - 1  # kept from one chunk to the next: a row's end split between them is found
        rows = cells = 0
        number: int | None = None  # the current row's own number, when its tag is in an earlier chunk
        window = head[found.end() :]
        while True:
            position = 0
            while True:
                end = window.find(row_end, position)
                segment = window[position:] if end < 0 else window[position:end]
                cells += sum(segment.count(tag) for tag in cell_tags)
                if cells > limits.max_columns:
                    raise _too_many_columns(_row_number(segment, row_start) or number or rows + 1, limits)
                if end < 0:
                    number = _row_number(segment, row_start) or number  # the row goes on in the next chunk
                    break
                rows += 1
                if rows > limits.max_rows + 1:
                    raise _too_many_rows(limits)
                cells, number, position = 0, None, end + len(row_end)
            chunk = part.read(_CHUNK)
            if not chunk:
                return
            if _endless_text(chunk, limits):
                raise _cell_too_long(number or rows + 1, limits)
            tail = window[max(position, len(window) - overlap) :]
            cells -= sum(tail.count(tag) for tag in cell_tags)  # counted again with the chunk
            window = tail + chunk


def _row_number(segment: bytes, row_start: bytes) -> int | None:
    """The number the last row tag in ``segment`` gives its row (``<row r="12" ...``), if any."""
    start = segment.rfind(row_start)
    found = re.match(rb"[^>]*?\sr\s*=\s*[\"'](\d{1,7})[\"']", segment[start:]) if start >= 0 else None
    return int(found.group(1)) if found else None


def _attribute(attributes: dict[str, str], name: str) -> str | None:
    """An attribute by its name without a prefix (``r:id`` is found as ``id``)."""
    for key, value in attributes.items():
        if key.rpartition(":")[2] == name:
            return value
    return None


def _part_name(base: str, target: str) -> str:
    """The archive name of a relationship's target, relative to the part ``base``."""
    if target.startswith("/"):
        return posixpath.normpath(target.lstrip("/"))
    return posixpath.normpath(posixpath.join(posixpath.dirname(base), target))


def _rels_path(part: str) -> str:
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", name + ".rels")


def _relationship_targets(archive: zipfile.ZipFile, part: str) -> list[tuple[str, str, str]]:
    """(id, kind, archive name) of each relationship of ``part``; kind is the type's last word."""
    found: list[tuple[str, str, str]] = []

    def start(tag: str, attributes: dict[str, str]) -> None:
        if _local(tag) == "Relationship" and attributes.get("TargetMode") != "External":
            kind = attributes.get("Type", "").rpartition("/")[2]
            found.append((attributes.get("Id", ""), kind, _part_name(part, attributes.get("Target", ""))))

    _stream(archive, _rels_path(part), start)
    return found


def _workbook_path(archive: zipfile.ZipFile) -> str:
    if "_rels/.rels" not in archive.NameToInfo:
        return "xl/workbook.xml"
    for _id, kind, target in _relationship_targets(archive, ""):
        if kind == "officeDocument":
            return target
    raise _not_xlsx()


@dataclass
class _Relations:
    """A workbook's related parts: (kind, archive name) by id, and the first of each kind."""

    by_id: dict[str, tuple[str, str]]
    first: dict[str, str]


def _relationships(archive: zipfile.ZipFile, workbook: str) -> _Relations:
    relations = _Relations({}, {})
    for rel_id, kind, target in _relationship_targets(archive, workbook):
        relations.by_id[rel_id] = (kind, target)
        relations.first.setdefault(kind, target)
    return relations


def _first_sheet(archive: zipfile.ZipFile, workbook: str, relations: _Relations) -> tuple[str, bool]:
    """The archive name of the workbook's first worksheet, and whether it counts dates from 1904."""
    found: list[str] = []
    date1904 = [False]

    def start(tag: str, attributes: dict[str, str]) -> None:
        tag = _local(tag)
        if tag == "workbookPr":
            date1904[0] = attributes.get("date1904", "").lower() in {"1", "true"}
        elif tag == "sheet":
            kind, target = relations.by_id.get(_attribute(attributes, "id") or "", ("", ""))
            if kind == "worksheet":  # not a chart sheet
                found.append(target)
                raise _Done  # workbookPr comes before the sheets

    _stream(archive, workbook, start)
    if not found:
        raise _not_xlsx()
    return found[0], date1904[0]


def _shared_strings(archive: zipfile.ZipFile, name: str | None, limits: Limits) -> list[str]:
    """The workbook's table of texts; a text over the cell limit refuses the file at once."""
    strings: list[str] = []
    if name is None:
        return strings
    _survey_strings(archive, name, limits)
    pieces: list[str] = []
    state = {"length": 0, "in_text": False, "phonetic": 0}

    def start(tag: str, _attributes: dict[str, str]) -> None:
        tag = _local(tag)
        if tag == "si":
            pieces.clear()
            state["length"] = 0
        elif tag == "rPh":  # a phonetic guide above the text, not part of it
            state["phonetic"] += 1
        elif tag == "t" and not state["phonetic"]:
            state["in_text"] = True

    def end(tag: str) -> None:
        tag = _local(tag)
        if tag == "si":
            strings.append(_unescape("".join(pieces)))
        elif tag == "rPh":
            state["phonetic"] -= 1
        elif tag == "t":
            state["in_text"] = False

    def text(data: str) -> None:
        if state["in_text"]:
            state["length"] += len(data)
            if state["length"] > limits.max_cell_chars:
                raise _cell_too_long(None, limits)
            pieces.append(data)

    _stream(archive, name, start, end, text)
    return strings


def _survey_strings(archive: zipfile.ZipFile, name: str, limits: Limits) -> None:
    """Refuse a table of texts before parsing it: more texts than the largest sheet could
    use, or one text too long to be a cell (counted in the unpacked bytes, at C speed)."""
    most = (limits.max_rows + 1) * limits.max_columns
    counter = _TagCounter(b"si")
    with archive.open(name) as part:
        while chunk := part.read(_CHUNK):
            if counter.feed(chunk) > most:
                raise SpreadsheetError(
                    _l(
                        "The workbook holds more than %(limit)s different texts, more than the largest roster "
                        "could use. Copy the list of people into a new workbook.",
                        limit=_Number(most),
                    )
                )
            if _endless_text(chunk, limits):
                raise _cell_too_long(None, limits)


def _endless_text(chunk: bytes, limits: Limits) -> bool:
    """Whether a whole chunk is text, more than a cell may hold: a character takes at
    most 10 bytes (``&#x10FFFF;``), so 64 KiB without a tag is over 6,553 characters."""
    return len(chunk) == _CHUNK and 10 * limits.max_cell_chars < _CHUNK and b"<" not in chunk


def _date_styles(archive: zipfile.ZipFile, name: str | None) -> dict[int, bool]:
    """Cell styles that show a number as a date: style index -> whether it is a duration."""
    if name is None:
        return {}
    formats: dict[int, str] = dict(BUILTIN_FORMATS)
    styles: dict[int, bool] = {}
    state = {"in_cell_xfs": False, "index": 0}

    def start(tag: str, attributes: dict[str, str]) -> None:
        tag = _local(tag)
        if tag == "numFmt":
            formats[int(attributes.get("numFmtId", "0"))] = attributes.get("formatCode", "")
        elif tag == "cellXfs":
            state["in_cell_xfs"] = True
        elif tag == "xf" and state["in_cell_xfs"]:
            code = formats.get(int(attributes.get("numFmtId", "0")), "")
            if code and is_date_format(code):
                styles[state["index"]] = is_timedelta_format(code)
            state["index"] += 1

    def end(tag: str) -> None:
        if _local(tag) == "cellXfs":
            raise _Done

    _stream(archive, name, start, end)
    return styles


_ESCAPED = re.compile("_x([0-9A-Fa-f]{4})_")


def _unescape(text: str) -> str:
    """OOXML writes some characters as ``_xHHHH_`` (and a literal ``_x`` as ``_x005F_x``)."""
    if "_x" not in text:
        return text
    return _ESCAPED.sub(lambda match: chr(int(match.group(1), 16)), text)


class _SheetReader:
    """Reads a worksheet's cells as a stream, within the limits, into rows of text."""

    def __init__(self, strings: list[str], dates: dict[int, bool], epoch: datetime, limits: Limits) -> None:
        self.strings = strings
        self.dates = dates
        self.epoch = epoch
        self.limits = limits
        self.rows: list[list[str]] = []
        self.row: list[str] = []
        self.row_number = 0
        self.cells_in_row = 0
        self.column = 0
        self.kind = "n"
        self.style = 0
        self.value: list[str] = []
        self.formula: list[str] | None = None
        self.capture: list[str] | None = None
        self.length = 0
        self.phonetic = 0

    def read(self, archive: zipfile.ZipFile, name: str) -> list[list[str]]:
        _stream(archive, name, self.start, self.end, self.text)
        return self.rows

    def start(self, tag: str, attributes: dict[str, str]) -> None:
        tag = _local(tag)
        if tag == "c":
            self.start_cell(attributes)
        elif tag == "v" or (tag == "t" and not self.phonetic):
            self.capture = self.value
        elif tag == "f":
            self.formula = []
            self.capture = self.formula
        elif tag == "rPh":
            self.phonetic += 1
        elif tag == "row":
            self.start_row(attributes)

    def end(self, tag: str) -> None:
        tag = _local(tag)
        if tag in {"v", "t", "f"}:
            self.capture = None
        elif tag == "c":
            self.end_cell()
        elif tag == "rPh":
            self.phonetic -= 1
        elif tag == "sheetData":
            raise _Done  # what follows (merged cells, print settings...) is not needed

    def text(self, data: str) -> None:
        if self.capture is not None:
            self.length += len(data)
            if self.length > self.limits.max_cell_chars:
                raise _cell_too_long(self.row_number, self.limits)
            self.capture.append(data)

    def start_row(self, attributes: dict[str, str]) -> None:
        reference = attributes.get("r")
        number = int(reference) if reference is not None else self.row_number + 1
        if number <= self.row_number:
            raise _not_xlsx()  # rows out of order
        if number > self.limits.max_rows + 1:
            raise _too_many_rows(self.limits)
        self.row_number = number
        while len(self.rows) < number - 1:
            self.rows.append([])
        self.row = []
        self.rows.append(self.row)
        self.cells_in_row = 0
        self.column = 0

    def start_cell(self, attributes: dict[str, str]) -> None:
        if not self.rows:  # a cell outside any row
            raise _not_xlsx()
        self.cells_in_row += 1  # empty cells count too: each costs as much to read
        if self.cells_in_row > self.limits.max_columns:
            raise _too_many_columns(self.row_number, self.limits)
        reference = attributes.get("r")
        if reference:
            letters = reference.rstrip("0123456789")
            column = column_index_from_string(letters.upper())
            if column <= self.column:
                raise _not_xlsx()  # cells out of order
            self.column = column
        else:
            self.column += 1
        self.kind = attributes.get("t", "n")
        self.style = int(attributes.get("s", "0") or 0)
        self.value = []
        self.formula = None
        self.capture = None
        self.length = 0

    def end_cell(self) -> None:
        value = self.cell_value()
        if value == "":
            return  # an empty cell far to the right (only formatted) is no column of the table
        if self.column > self.limits.max_columns:
            raise _too_many_columns(self.row_number, self.limits)
        self.row.extend([""] * (self.column - 1 - len(self.row)))
        self.row.append(value)

    def cell_value(self) -> str:
        text = "".join(self.value)
        if self.formula:  # formulas are kept as their text, never evaluated
            return "=" + "".join(self.formula)
        if self.kind == "s":
            if not text:
                return ""
            index = int(text)
            if not 0 <= index < len(self.strings):
                raise _not_xlsx()  # a text the workbook does not have
            return self.strings[index]
        if self.kind == "inlineStr":
            return _unescape(text)
        if self.kind in {"str", "e"}:
            return text
        if self.kind == "b":
            return str(text.strip() in {"1", "true"})
        if self.kind == "d":
            return _cell_text(from_ISO8601(text)) if text else ""
        return self.number(text.strip())

    def number(self, text: str) -> str:
        if not text:
            return ""
        value: float | int = float(text) if any(mark in text for mark in ".eE") else int(text)
        if self.style in self.dates:
            try:
                return _cell_text(from_excel(value, self.epoch, timedelta=self.dates[self.style]))
            except (OverflowError, ValueError):
                pass  # not a date after all: keep the number
        return _cell_text(value)


# Writing -----------------------------------------------------------------------------------


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
