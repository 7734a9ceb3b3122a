"""Roster uploads within limits: bombs refused before they are unpacked or read in full,
saying which limit; no write transaction while a file is read; one import per roster,
however many people confirm it at once."""

from __future__ import annotations

import csv
import html
import io
import re
import sqlite3
import struct
import threading
import zlib
from collections.abc import Iterable

import pytest
import sqlalchemy as sa
from babel.support import NullTranslations
from flask_babel import Domain, get_locale
from openpyxl import Workbook

from lms import db, spreadsheets
from lms.courses import roster_views
from lms.courses.service import CourseAction
from lms.models import Enrolment, RosterImport, User
from lms.spreadsheets import Limits, SpreadsheetError, read_table
from tests.conftest import login, login_as
from tests.courses.helpers import make_course

HEADER = ["full_name", "email", "sex", "country", "institution", "category", "rank"]
GOOD = [
    ["Ђорђе Јовановић", "djordje@example.org", "male", "RS", "", "military staff", "капетан"],
    ["Arbër Çela", "arber@example.org", "M", "North Macedonia", "", "commander", "Kolonel"],
    ["Ljiljana Đukanović", "ljiljana@example.org", "female", "ME", "", "cadet", "kadet"],
]
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
KIND = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
GIB = 1 << 30
#: zlib.crc32(bytes(GIB)), written out: computing it takes a second.
CRC_OF_A_GIB_OF_ZEROS = 1533330096


# Building workbooks by hand, as an attacker would ---------------------------------------


def _deflate(data: bytes) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    return packer.compress(data) + packer.flush()


def _gib_of_zeros() -> bytes:
    """1 GiB of zeros deflated (1 MB), in 50 ms: after a full flush every MiB of zeros
    deflates to the same bytes, so one is repeated."""
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = packer.compress(bytes(1 << 20)) + packer.flush(zlib.Z_FULL_FLUSH)
    return block * 1024 + packer.flush()


def _zip(members: Iterable[tuple[str, bytes, int, int]]) -> bytes:
    """A ZIP archive of (name, deflated bytes, unpacked size, CRC-32) members."""
    out = io.BytesIO()
    directory = []
    count = 0
    for name, body, size, crc in members:
        count += 1
        offset = out.tell()
        encoded = name.encode()
        fields = (20, 0, 8, 0, 0, crc, len(body), size, len(encoded), 0)
        out.write(struct.pack("<4s5H3I2H", b"PK\x03\x04", *fields) + encoded + body)
        directory.append(struct.pack("<4s6H3I5H2I", b"PK\x01\x02", 20, *fields[:-1], 0, 0, 0, 0, 0, offset) + encoded)
    start = out.tell()
    central = b"".join(directory)
    out.write(central + struct.pack("<4s4H2IH", b"PK\x05\x06", 0, 0, count, count, len(central), start, 0))
    return out.getvalue()


def _member(name: str, text: str | bytes) -> tuple[str, bytes, int, int]:
    data = text.encode() if isinstance(text, str) else text
    return name, _deflate(data), len(data), zlib.crc32(data)


def _workbook(sheet: str | bytes | tuple[str, bytes, int, int], strings: str | bytes | None = None) -> bytes:
    """A minimal valid XLSX: one worksheet (XML, or a ready member), maybe shared strings."""
    relations = f'<Relationship Id="rId1" Type="{KIND}worksheet" Target="worksheets/sheet1.xml"/>'
    members = [
        _member(
            "_rels/.rels",
            f'<Relationships xmlns="{RELS}"><Relationship Id="rId1" Type="{KIND}officeDocument" '
            'Target="xl/workbook.xml"/></Relationships>',
        ),
        _member(
            "xl/workbook.xml",
            f'<workbook xmlns="{MAIN}" xmlns:r="{KIND[:-1]}"><sheets>'
            '<sheet name="Roster" sheetId="1" r:id="rId1"/></sheets></workbook>',
        ),
    ]
    if strings is not None:
        relations += f'<Relationship Id="rId2" Type="{KIND}sharedStrings" Target="sharedStrings.xml"/>'
        members.append(_member("xl/sharedStrings.xml", strings))
    members.append(_member("xl/_rels/workbook.xml.rels", f'<Relationships xmlns="{RELS}">{relations}</Relationships>'))
    if isinstance(sheet, tuple):
        members.append(sheet)
    else:
        members.append(_member("xl/worksheets/sheet1.xml", sheet))
    return _zip(members)


def _sheet(rows: Iterable[str]) -> bytes:
    return (f'<worksheet xmlns="{MAIN}"><sheetData>' + "".join(rows) + "</sheetData></worksheet>").encode()


def _inline(text: str) -> str:
    return f'<c t="inlineStr"><is><t>{text}</t></is></c>'


def _row(cells: Iterable[str]) -> str:
    return "<row>" + "".join(_inline(cell) for cell in cells) + "</row>"


def _xlsx(rows: list[list[str]]) -> bytes:
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _csv(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode()


# The bombs of the issue -------------------------------------------------------------------

ZIP_BOMB = _workbook(("xl/worksheets/sheet1.xml", _gib_of_zeros(), GIB, CRC_OF_A_GIB_OF_ZEROS))
SHARED_STRING_BOMB = _workbook(
    _sheet(['<row r="1"><c r="A1" t="s"><v>0</v></c></row>']),
    b"<sst xmlns='" + MAIN.encode() + b"'><si><t>" + b"A" * 20_000_000 + b"</t></si></sst>",
)
ROWS_BOMB = _workbook(  # texts shared, as Excel writes them: 100,000 rows in 16 MB unpacked
    _sheet(
        "<row>" + "".join(f'<c t="s"><v>{n}</v></c>' for n in range(offset, offset + 7)) + "</row>"
        for offset in [0] + [7] * 100_000
    ),
    f'<sst xmlns="{MAIN}">' + "".join(f"<si><t>{text}</t></si>" for text in HEADER + GOOD[0]) + "</sst>",
)
COLUMNS_BOMB = _workbook(_sheet([_row(HEADER + [f"c{n}" for n in range(10_000)])]))
CELL_BOMB = _workbook(_sheet([_row(HEADER), _row(["A" * 1_000_000, *GOOD[0][1:]])]))


def _upload(client, course, data: bytes, name: str):
    """Post a file as a browser does. The body is built here: werkzeug's test client would
    spool a body over 500 KB to a temporary file it never closes."""
    boundary = "roster-upload-boundary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{client.csrf_token()}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="roster"; filename="{name}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return client.post(
        f"/courses/{course.id}/import", data=body, content_type=f"multipart/form-data; boundary={boundary}"
    )


def _trainer_course(make_user, session, client):
    trainer = make_user("trainer@example.org", roles=["trainer"])
    course = make_course(session, trainer)
    login_as(client, trainer)
    return course


def _nothing_staged(session) -> bool:
    session.rollback()
    return session.scalar(sa.select(sa.func.count()).select_from(RosterImport)) == 0


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        pytest.param("bomb.xlsx", ZIP_BOMB, "one of its parts is over 32 MB", id="1 GiB unpacked"),
        pytest.param("bomb.xlsx", SHARED_STRING_BOMB, "a cell longer than 1,000 characters", id="20 MB string"),
        pytest.param("bomb.xlsx", ROWS_BOMB, "more than 20,000 rows after the header", id="100,000 rows"),
        pytest.param("bomb.xlsx", COLUMNS_BOMB, "Row 1 has more than 30 columns", id="10,000 columns"),
        pytest.param("bomb.xlsx", CELL_BOMB, "Row 2 has a cell longer than 1,000 characters", id="1 MB cell"),
        pytest.param(
            "bomb.csv", _csv([HEADER, *(GOOD[0] for _ in range(100_000))]), "more than 20,000 rows", id="csv rows"
        ),
        pytest.param("bomb.csv", _csv([HEADER + ["x"] * 10_000]), "Row 1 has more than 30 columns", id="csv columns"),
        pytest.param(
            "bomb.csv",
            _csv([HEADER, GOOD[0], ["A" * 1_000_000, *GOOD[1][1:]]]),
            "Row 3 has a cell longer than 1,000 characters",
            id="csv 1 MB cell",
        ),
    ],
)
def test_each_bomb_is_refused_naming_its_limit_and_nothing_is_staged(
    client, make_user, session, name, data, message
) -> None:
    course = _trainer_course(make_user, session, client)
    response = _upload(client, course, data, name)
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 400
    assert message in page
    assert len(response.data) < 100_000  # the page does not echo the file
    assert _nothing_staged(session)


def test_the_preview_shows_at_most_80_characters_of_a_cell(client, make_user, session) -> None:
    course = _trainer_course(make_user, session, client)
    long_name = "Ana " + "A" * 995  # within the cell limit, over the name's
    page = html.unescape(
        _upload(client, course, _csv([HEADER, [long_name, *GOOD[0][1:]]]), "r.csv").get_data(as_text=True)
    )
    assert "full_name is longer than 200 characters." in page
    assert "Ana " + "A" * 75 + "…" in page and "A" * 77 not in page


class _MarkedTranslations(NullTranslations):
    """Stands in for the catalogues (new messages are translated at the end): marks every
    message looked up in Bosnian, so a page shows which ones went through translation."""

    def gettext(self, message: str) -> str:
        return "[bs] " + message if str(get_locale()) == "bs" else message

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.gettext(singular if n == 1 else plural)

    ugettext = gettext
    ungettext = ngettext


def test_file_level_refusals_are_in_the_readers_language(client, make_user, session, monkeypatch) -> None:
    course = _trainer_course(make_user, session, client)
    trainer = session.scalar(sa.select(User).where(User.email == "trainer@example.org"))
    trainer.preferred_language = "bs"
    session.commit()
    monkeypatch.setattr(Domain, "get_translations", lambda _self: _MarkedTranslations())
    refusals = {
        "[bs] The file is not UTF-8 text.": ("roster.csv", "Čedomir Šarić".encode("cp1250")),
        "[bs] The file is not a text file.": ("roster.csv", b"full_name\x00"),
        "[bs] The file is not a valid .xlsx workbook.": ("roster.xlsx", b"PK\x03\x04 broken"),
        "[bs] Upload a .csv or .xlsx file.": ("roster.pdf", b"%PDF"),
        "[bs] The file has more than 20.000 rows after the header": ("roster.xlsx", ROWS_BOMB),
        "[bs] Row 1 has more than 30 columns": ("roster.xlsx", COLUMNS_BOMB),
        "[bs] The file has a cell longer than 1.000 characters": ("roster.xlsx", SHARED_STRING_BOMB),
        "[bs] The workbook is too large once unpacked: one of its parts is over 32 MB": ("roster.xlsx", ZIP_BOMB),
    }
    for message, (name, data) in refusals.items():
        page = html.unescape(_upload(client, course, data, name).get_data(as_text=True))
        assert message in page, message


def test_the_limits_are_settings_the_upload_page_states(app, client, make_user, session, monkeypatch) -> None:
    from lms.config import build_config

    monkeypatch.setenv("LMS_ROSTER_MAX_ROWS", "2")
    assert Limits.from_config(build_config()).max_rows == 2
    course = _trainer_course(make_user, session, client)
    app.config["ROSTER_MAX_ROWS"] = 2
    page = client.get(f"/courses/{course.id}/import").get_data(as_text=True)
    assert "up to 2 people, with at most 30 columns and 1,000 characters in a cell" in page
    refused = html.unescape(_upload(client, course, _csv([HEADER, *GOOD]), "roster.csv").get_data(as_text=True))
    assert "The file has more than 2 rows after the header" in refused


def test_sizes_declared_by_the_archive_are_checked_before_unpacking() -> None:
    pictures = [_member(f"xl/media/image{n}.png", bytes(2 << 20)) for n in range(3)]
    archive = _zip([*pictures, _member("_rels/.rels", "<Relationships/>")])
    with pytest.raises(SpreadsheetError, match="over 5 MB in all"):
        read_table("r.xlsx", archive, Limits(max_member_bytes=3 << 20, max_total_bytes=5 << 20))
    with pytest.raises(SpreadsheetError, match="one of its parts is over 1 MB"):
        read_table("r.xlsx", archive, Limits(max_member_bytes=1 << 20))


def test_an_archive_of_many_parts_is_refused_before_it_is_listed(monkeypatch) -> None:
    crowded = _zip(_member(f"xl/media/{n}.png", b"") for n in range(1001))
    monkeypatch.setattr(spreadsheets.zipfile, "ZipFile", lambda *_args: pytest.fail("the archive was listed"))
    with pytest.raises(SpreadsheetError, match=r"not a valid \.xlsx"):
        read_table("r.xlsx", crowded)


def test_a_member_that_unpacks_beyond_what_it_declares_is_refused() -> None:
    lying = ("xl/worksheets/sheet1.xml", _gib_of_zeros(), 1000, 0)
    with pytest.raises(SpreadsheetError, match=r"not a valid \.xlsx"):
        read_table("r.xlsx", _workbook(lying))


def test_rows_numbered_past_the_limit_are_refused_though_few() -> None:
    sparse = _sheet([_row(HEADER), '<row r="1048576"><c r="A1048576" t="inlineStr"><is><t>x</t></is></c></row>'])
    with pytest.raises(SpreadsheetError, match="more than 20,000 rows"):
        read_table("r.xlsx", _workbook(sparse))


def test_a_table_of_more_texts_than_any_roster_uses_is_refused_before_it_is_read() -> None:
    flood = f'<sst xmlns="{MAIN}">' + "<si/>" * 600_031 + "</sst>"  # (20,000 + 1) x 30 + 1
    with pytest.raises(SpreadsheetError, match="more than 600,030 different texts"):
        read_table("r.xlsx", _workbook(_sheet([_row(HEADER)]), flood))


def test_rows_columns_and_texts_over_the_limits_are_refused_before_the_sheet_is_parsed(monkeypatch) -> None:
    def wide(number: int, cells: int, prefix: str = "") -> str:
        return (
            f'<{prefix}row r="{number}">'
            + f"<{prefix}c><{prefix}v>1</{prefix}v></{prefix}c>" * cells
            + f"</{prefix}row>"
        )

    late = _sheet([wide(n, 30) for n in range(1, 5001)] + [wide(5001, 31)])  # 3 MB: many chunks
    prefixed = (
        f'<x:worksheet xmlns:x="{MAIN}"><x:sheetData>'
        + "".join(wide(n, 2, "x:") for n in range(1, 8))
        + wide(9, 40, "x:")
        + "</x:sheetData></x:worksheet>"
    )
    tall = _sheet([wide(n, 1) for n in range(1, 20_003)])
    long = _sheet([wide(n, 30) for n in range(1, 5001)] + [f'<row r="5001">{_inline("A" * 200_000)}</row>'])
    monkeypatch.setattr(spreadsheets._SheetReader, "read", lambda *_args: pytest.fail("the sheet was parsed"))
    with pytest.raises(SpreadsheetError, match="Row 5,001 has more than 30 columns"):
        read_table("r.xlsx", _workbook(late))
    with pytest.raises(SpreadsheetError, match="Row 9 has more than 30 columns"):
        read_table("r.xlsx", _workbook(prefixed))
    with pytest.raises(SpreadsheetError, match="more than 20,000 rows"):
        read_table("r.xlsx", _workbook(tall))
    with pytest.raises(SpreadsheetError, match="Row 5,001 has a cell longer than 1,000 characters"):
        read_table("r.xlsx", _workbook(long))


def test_csv_delimiters_are_those_of_the_header() -> None:
    assert read_table("r.csv", b"full_name\temail\nAna\ta@example.org\n") == [
        ["full_name", "email"],
        ["Ana", "a@example.org"],
    ]
    assert read_table("r.csv", b'full_name;email\n"Ana, B";a@example.org\n') == [
        ["full_name", "email"],
        ["Ana, B", "a@example.org"],
    ]


def test_a_far_away_cell_counts_only_when_it_holds_something() -> None:
    formatted = '<row r="2"><c r="A2" t="inlineStr"><is><t>Ana</t></is></c><c r="XFD2" s="1"/></row>'
    assert read_table("r.xlsx", _workbook(_sheet([_row(HEADER), formatted]))) == [HEADER, ["Ana"]]
    filled = '<row r="2"><c r="XFD2" t="inlineStr"><is><t>x</t></is></c></row>'
    with pytest.raises(SpreadsheetError, match="Row 2 has more than 30 columns"):
        read_table("r.xlsx", _workbook(_sheet([_row(HEADER), filled])))


def test_entity_declarations_are_refused() -> None:
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
        b'<worksheet xmlns="' + MAIN.encode() + b'"><sheetData><row><c t="inlineStr"><is><t>&lol2;</t></is></c>'
        b"</row></sheetData></worksheet>"
    )
    with pytest.raises(SpreadsheetError, match=r"not a valid \.xlsx"):
        read_table("r.xlsx", _workbook(laughs))


def test_workbooks_are_read_as_spreadsheet_programs_write_them() -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADER)
    sheet.append(["=A1", "x@example.org", True, 3.0, 2.5, "_x000D_", None, "kadet"])
    sheet["D3"] = "after an empty row"
    import datetime

    sheet["A4"] = datetime.date(2026, 3, 2)
    buffer = io.BytesIO()
    workbook.save(buffer)
    rows = read_table("r.xlsx", buffer.getvalue())
    assert rows[0] == HEADER
    assert rows[1] == ["=A1", "x@example.org", "True", "3", "2.5", "\r", "", "kadet"]
    assert rows[2] == ["", "", "", "after an empty row"]
    assert rows[3] == ["2026-03-02T00:00:00"]


def test_shared_strings_rich_text_and_prefixed_tags() -> None:
    strings = (
        f'<x:sst xmlns:x="{MAIN}"><x:si><x:t>Ana</x:t></x:si>'
        "<x:si><x:r><x:t>Đor</x:t></x:r><x:r><x:t>đe</x:t></x:r><x:rPh><x:t>ignored</x:t></x:rPh></x:si></x:sst>"
    )
    sheet = (
        f'<x:worksheet xmlns:x="{MAIN}"><x:sheetData><x:row r="1"><x:c r="A1" t="s"><x:v>0</x:v></x:c>'
        '<x:c r="C1" t="s"><x:v>1</x:v></x:c></x:row></x:sheetData></x:worksheet>'
    )
    assert read_table("r.xlsx", _workbook(sheet, strings)) == [["Ana", "", "Đorđe"]]


def test_a_normal_roster_of_the_largest_size_is_read() -> None:
    rows = [HEADER, *([f"Osoba {n}", f"o{n}@example.org", "", "RS", "", "", ""] for n in range(20_000))]
    assert read_table("r.csv", _csv(rows)) == rows
    narrow = [row[:2] for row in rows]  # quicker to build; the length is the point
    assert read_table("r.xlsx", _xlsx(narrow)) == narrow
    assert read_table("r.xlsx", _xlsx(rows[:50])) == [HEADER] + [
        row[:4] for row in rows[1:50]
    ]  # no trailing empty cells


# No write transaction while a file is read ------------------------------------------------


def test_others_sign_in_while_a_file_is_being_read(app, client, make_user, session, monkeypatch) -> None:
    course = _trainer_course(make_user, session, client)
    make_user("other@example.org")
    session.rollback()
    seen: dict[str, object] = {}
    read = roster_views.read_table

    def watched_read(*args, **kwargs):
        # From inside the parser: this request holds no transaction...
        seen["in transaction"] = db.get_session().in_transaction()
        url = app.config["DATABASE_URL"]
        if url.startswith("sqlite"):
            # ...so nobody holds SQLite's write lock: a writer that will not wait gets it.
            other = sqlite3.connect(url.removeprefix("sqlite:///"), timeout=0, isolation_level=None)
            try:
                other.execute("BEGIN IMMEDIATE")
                other.execute("ROLLBACK")
                seen["write lock free"] = True
            except sqlite3.OperationalError as error:
                seen["write lock free"] = str(error)
            finally:
                other.close()
        # ...and another person signs in (a write: the audit log), on another connection.
        result: dict[str, int] = {}

        def sign_in() -> None:
            result["status"] = login(app.test_client(), "other@example.org").status_code

        thread = threading.Thread(target=sign_in)
        thread.start()
        thread.join()
        seen["sign-in"] = result.get("status")
        return read(*args, **kwargs)

    monkeypatch.setattr(roster_views, "read_table", watched_read)
    response = _upload(client, course, _csv([HEADER, *GOOD]), "roster.csv")
    assert "All 3 rows are in order" in response.get_data(as_text=True)
    assert seen["in transaction"] is False
    assert seen.get("write lock free", True) is True
    assert seen["sign-in"] == 302
    session.rollback()
    assert session.scalar(sa.select(sa.func.count()).select_from(RosterImport)) == 1


# Confirming at once -----------------------------------------------------------------------

CONFIRMERS = 8


def test_simultaneous_confirms_import_once_and_say_so_honestly(app, client, make_user, session, audit_rows) -> None:
    course = _trainer_course(make_user, session, client)
    page = _upload(client, course, _csv([HEADER, *GOOD]), "roster.csv").get_data(as_text=True)
    import_id = re.search(r'name="import_id" type="hidden" value="(\d+)"', page).group(1)
    trainer_id = session.scalar(sa.select(User.id).where(User.email == "trainer@example.org"))
    url = f"/courses/{course.id}/import/confirm"
    session.rollback()  # the threads must not touch the test's own session
    start = threading.Barrier(CONFIRMERS)
    flashes: list[str] = []
    errors: list[BaseException] = []

    def confirm() -> None:
        browser = app.test_client()
        login_as(browser, trainer_id)
        data = {"import_id": import_id, "csrf_token": browser.csrf_token()}
        start.wait()
        try:
            response = browser.post(url, data=data)
            assert response.status_code == 302
            with browser.session_transaction() as cookie:
                flashes.extend(message for _category, message in cookie.get("_flashes", []))
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=confirm) for _ in range(CONFIRMERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert not errors, errors[:3]
    assert len(audit_rows(CourseAction.ROSTER_IMPORTED)) == 1
    done = [message for message in flashes if message.startswith("Roster imported")]
    again = [message for message in flashes if message.startswith("This roster has already been imported")]
    assert done == ["Roster imported: 3 people added to the platform, 0 already known; 3 enrolled, 0 on the waitlist."]
    assert len(again) == CONFIRMERS - 1
    assert set(again) == {
        "This roster has already been imported: 3 people added to the platform, 0 already known; "
        "3 enrolled, 0 on the waitlist."
    }
    session.rollback()
    assert session.scalar(sa.select(sa.func.count()).where(User.email.in_([row[1] for row in GOOD]))) == 3
    assert session.scalar(sa.select(sa.func.count()).select_from(Enrolment)) == 3
