"""Roster import: every problem shown first, nothing written until confirmed, then all at once."""

import csv
import html
import io
import re

import sqlalchemy as sa
from openpyxl import Workbook, load_workbook

from lms.models import Enrolment, RosterImport, User
from tests.conftest import login_as
from tests.courses.helpers import make_course

HEADER = ["full_name", "email", "sex", "country", "institution", "category", "rank"]
GOOD = [
    ["Ђорђе Јовановић", "djordje@example.org", "male", "RS", "Serbian Armed Forces", "military staff", "капетан"],
    ["Arbër Çela", "arber@example.org", "M", "North Macedonia", "ARNM", "commander", "Kolonel"],
    ["Ljiljana Đukanović", "ljiljana@example.org", "female", "ME", "", "cadet", "kadet"],
]


def _csv(rows, delimiter=",", bom=False) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)
    writer.writerows([HEADER, *rows])
    return (("\ufeff" if bom else "") + buffer.getvalue()).encode("utf-8")


def _upload(client, course, data: bytes, name="roster.csv"):
    return client.post(
        f"/courses/{course.id}/import", data={"roster": (io.BytesIO(data), name)}, content_type="multipart/form-data"
    )


def _counts(session) -> tuple[int, int]:
    session.rollback()
    people = session.scalar(sa.select(sa.func.count()).select_from(User))
    enrolled = session.scalar(sa.select(sa.func.count()).select_from(Enrolment))
    return people, enrolled


def _trainer_course(make_user, session, client, **kwargs):
    trainer = make_user("trainer@example.org", roles=["trainer"])
    course = make_course(session, trainer, **kwargs)
    login_as(client, trainer)
    return course


def test_a_bad_row_is_reported_and_nothing_is_written_then_the_fixed_file_imports(client, make_user, session) -> None:
    course = _trainer_course(make_user, session, client)
    before = _counts(session)
    bad = [
        *GOOD,
        ["Nema Adrese", "not-an-email", "female", "RS", "", "", ""],
        ["Dupli Red", "DJORDJE@example.org", "", "Atlantis", "", "", ""],
    ]
    preview = _upload(client, course, _csv(bad))
    page = html.unescape(preview.get_data(as_text=True))
    assert preview.status_code == 200
    assert "Nothing has been saved" in page and "2 rows have problems" in page
    assert "'not-an-email' is not a valid email address." in page
    assert "The same email address is already in row 2." in page
    assert "Unknown country 'Atlantis'" in page
    assert "Import and enrol everyone" not in page
    assert _counts(session) == before
    assert session.scalar(sa.select(sa.func.count()).select_from(RosterImport)) == 0

    fixed = _upload(client, course, _csv(GOOD))
    page = fixed.get_data(as_text=True)
    assert "All 3 rows are in order" in page
    assert _counts(session) == before  # still nothing written before confirming
    import_id = re.search(r'name="import_id" type="hidden" value="(\d+)"', page).group(1)
    done = client.post(f"/courses/{course.id}/import/confirm", data={"import_id": import_id})
    assert done.status_code == 302
    people, enrolled = _counts(session)
    assert (people, enrolled) == (before[0] + 3, before[1] + 3)
    djordje = session.scalar(sa.select(User).where(User.email == "djordje@example.org"))
    assert (
        djordje.full_name == "Ђорђе Јовановић" and djordje.rank == "капетан" and djordje.institution.short_name == "SAF"
    )
    assert djordje.has_role("trainee") and djordje.password_hash is None
    again = client.post(f"/courses/{course.id}/import/confirm", data={"import_id": import_id}, follow_redirects=True)
    assert "already been imported" in again.get_data(as_text=True)
    assert _counts(session) == (people, enrolled)


def test_people_already_registered_are_matched_by_email(client, make_user, session) -> None:
    course = _trainer_course(make_user, session, client)
    make_user("Ljiljana@Example.org", name="Ljiljana Đukanović", country="ME", password=False)
    page = _upload(client, course, _csv(GOOD)).get_data(as_text=True)
    assert "Already registered: will be enrolled" in page
    import_id = re.search(r'name="import_id" type="hidden" value="(\d+)"', page).group(1)
    client.post(f"/courses/{course.id}/import/confirm", data={"import_id": import_id})
    assert session.scalar(sa.select(sa.func.count()).where(User.email == "ljiljana@example.org")) == 1


def test_capacity_is_respected_on_import(client, make_user, session) -> None:
    course = _trainer_course(make_user, session, client, capacity=2)
    page = _upload(client, course, _csv(GOOD)).get_data(as_text=True)
    import_id = re.search(r'name="import_id" type="hidden" value="(\d+)"', page).group(1)
    result = client.post(f"/courses/{course.id}/import/confirm", data={"import_id": import_id}, follow_redirects=True)
    assert "2 enrolled, 1 on the waitlist" in result.get_data(as_text=True)


def test_xlsx_formulas_are_kept_as_text_and_exported_escaped(client, make_user, session) -> None:
    course = _trainer_course(make_user, session, client)
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADER)
    sheet.append(
        ['=HYPERLINK("http://evil.example","Click")', "formula@example.org", "female", "RS", "", "", "@SUM(1+1)"]
    )
    sheet.append(["+Plus Name", "plus@example.org", "male", "BA", "", "", "-1"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    page = _upload(client, course, buffer.getvalue(), "roster.xlsx").get_data(as_text=True)
    import_id = re.search(r'name="import_id" type="hidden" value="(\d+)"', page).group(1)
    client.post(f"/courses/{course.id}/import/confirm", data={"import_id": import_id})
    stored = session.scalar(sa.select(User).where(User.email == "formula@example.org"))
    assert stored.full_name == '=HYPERLINK("http://evil.example","Click")' and stored.rank == "@SUM(1+1)"

    exported_csv = client.get(f"/courses/{course.id}/people.csv")
    assert exported_csv.headers["Content-Disposition"].startswith("attachment;")
    rows = list(csv.reader(io.StringIO(exported_csv.get_data(as_text=True).lstrip("\ufeff"))))
    cells = [cell for row in rows for cell in row]
    assert '\'=HYPERLINK("http://evil.example","Click")' in cells and "'@SUM(1+1)" in cells and "'+Plus Name" in cells
    assert not any(cell.startswith(("=", "+", "@")) for cell in cells)

    exported_xlsx = client.get(f"/courses/{course.id}/people.xlsx")
    sheet = load_workbook(io.BytesIO(exported_xlsx.data)).active
    values = [cell.value for row in sheet.iter_rows() for cell in row if cell.value is not None]
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
    assert '\'=HYPERLINK("http://evil.example","Click")' in values


def test_semicolons_bom_and_templates(client, make_user, session) -> None:
    course = _trainer_course(make_user, session, client)
    page = _upload(client, course, _csv(GOOD, delimiter=";", bom=True)).get_data(as_text=True)
    assert "All 3 rows are in order" in page
    template = client.get("/courses/roster-template.xlsx")
    assert [cell.value for cell in load_workbook(io.BytesIO(template.data)).active[1]] == HEADER
    assert client.get("/courses/roster-template.csv").get_data(as_text=True).lstrip("\ufeff").strip() == ",".join(
        HEADER
    )


def test_unreadable_files_get_a_clear_message(client, make_user, session) -> None:
    course = _trainer_course(make_user, session, client)
    windows = _csv([["Čedomir Šarić", "c@example.org", "male", "RS", "", "", ""]]).decode("utf-8").encode("cp1250")
    response = _upload(client, course, windows)
    assert response.status_code == 400 and "save it as 'CSV UTF-8'" in html.unescape(response.get_data(as_text=True))
    assert "not a valid .xlsx" in _upload(client, course, b"PK\x03\x04 broken", "roster.xlsx").get_data(as_text=True)
    assert "Upload a .csv or .xlsx file." in _upload(client, course, b"x", "roster.pdf").get_data(as_text=True)
    missing = _upload(client, course, b"name,mail\nA,a@example.org\n").get_data(as_text=True)
    assert "missing: country" in missing


def test_another_trainers_roster_check_cannot_be_confirmed(app, client, make_user, session) -> None:
    course = _trainer_course(make_user, session, client)
    page = _upload(client, course, _csv(GOOD)).get_data(as_text=True)
    import_id = re.search(r'name="import_id" type="hidden" value="(\d+)"', page).group(1)
    coordinator = make_user("k@example.org", roles={"coordinator": None}, country="REG")
    other = app.test_client()
    login_as(other, coordinator)
    result = other.post(f"/courses/{course.id}/import/confirm", data={"import_id": import_id}, follow_redirects=True)
    assert "was not found" in result.get_data(as_text=True)
    assert session.scalar(sa.select(sa.func.count()).select_from(Enrolment)) == 0


def test_names_with_invisible_characters_are_refused_row_by_row(client, make_user, session) -> None:
    course = _trainer_course(make_user, session, client)
    rows = [
        ["Ana\u200bPetrović", "ana@example.org", "female", "RS", "", "", ""],
        ["\u202eJovan Jovanović", "jovan@example.org", "male", "RS", "", "", ""],
        ["Đorđe Šćekić", "djordje@example.org", "male", "ME", "", "", ""],
    ]
    page = html.unescape(_upload(client, course, _csv(rows)).get_data(as_text=True))
    assert page.count("Names cannot contain invisible characters") == 2
    assert _counts(session) == (1, 0)  # only the trainer; nothing imported
