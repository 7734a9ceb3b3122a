"""Staff trained: the counting rule, breakdowns that add up, filters, the people behind a
number, exports (escaped, audited), access, and a constant number of queries."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime

import openpyxl
import pytest
import sqlalchemy as sa

from lms.certificates import eligibility
from lms.certificates import service as certificates
from lms.models import AuditEvent, Category, Certificate, Enrolment, Role, Sex, Track
from tests.certificates.helpers import completed_course, pdf_pages
from tests.conftest import country_id, login_as


@pytest.fixture
def world(app, make_user, session):
    """Two courses in Serbia and one in North Macedonia, with people of every kind."""
    trainer = make_user("trainer@example.org", roles={Role.TRAINER: None})
    other_trainer = make_user("trainer2@example.org", roles={Role.TRAINER: None})
    ana = make_user(name="Ana Anić", roles=[Role.TRAINEE], sex=Sex.FEMALE, category=Category.CADET)
    marko = make_user(name="Marko Marković", roles=[Role.TRAINEE], sex=Sex.MALE, category=Category.COMMANDER)
    anon = make_user(name="=HYPERLINK(\"http://evil.example\")", roles=[Role.TRAINEE], sex=Sex.NOT_RECORDED,
                     category=None)  # fmt: skip
    elena = make_user(name="Елена Петровска", roles=[Role.TRAINEE], sex=Sex.FEMALE, country="MK",
                      category=Category.CIVILIAN_STAFF)  # fmt: skip
    bystander = make_user(name="Never Trained", roles=[Role.TRAINEE])
    first = completed_course(session, trainer, [ana, marko, anon], title="Basic course", start=date(2025, 3, 2))
    second = completed_course(session, trainer, [ana], title="Advanced course", start=date(2026, 3, 2))
    macedonian = completed_course(session, other_trainer, [elena], title="Skopje course", country="MK",
                                  start=date(2026, 5, 4))  # fmt: skip
    session.commit()
    return {
        "trainer": trainer, "other_trainer": other_trainer, "ana": ana, "marko": marko, "anon": anon,
        "elena": elena, "bystander": bystander, "first": first, "second": second, "macedonian": macedonian,
    }  # fmt: skip


def _coordinator(make_user, scope=None, email="coordinator@example.org"):
    return make_user(email, roles={Role.COORDINATOR: scope}, country=scope or "REG")


def _numbers(client, url="/reports/"):
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return response.get_data(as_text=True)


def _csv_rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def _table(rows, title):
    return {row[1]: row[2:] for row in rows[1:] if row[0] == title}


def test_each_person_counts_once_and_not_recorded_is_shown(app, make_user, session, world) -> None:
    client = app.test_client()
    login_as(client, _coordinator(make_user))
    rows = _csv_rows(client.get("/reports/export.csv").data)
    country = _table(rows, "By country")
    # Ana took two courses and counts once; the person of unrecorded sex is counted, not dropped.
    assert country["Serbia"] == ["1", "1", "1", "3", "33.3"]
    assert country["North Macedonia"] == ["1", "0", "0", "1", "100.0"]
    assert country["Total"] == ["2", "1", "1", "4", "50.0"]
    page = _numbers(client)
    assert "4 staff trained of the target of 4,700" in page
    assert re.search(r"Sex not recorded: <a href=\"/reports/people\?g_sex=not_recorded\">1</a> \(25%\)", page)


def test_revoked_certificates_do_not_count(app, make_user, session, world) -> None:
    # A learning-track certificate is this person's only training: revoked, it counts no more.
    holder = make_user(name="Track Only", roles=[Role.TRAINEE])
    track = session.scalar(sa.select(Track).where(Track.slug == "basics"))
    achievement = eligibility.Achievement(
        kind=eligibility.AchievementKind.TRACK, key=eligibility.track_key(track.id), holder=holder, title=track.title,
        minutes=60, start_date=date(2026, 1, 1), end_date=date(2026, 1, 2), country_id=holder.country_id,
        issuers=[eligibility.NETWORK], track_id=track.id,
    )  # fmt: skip
    (certificate,) = certificates.issue(session, [achievement], actor=None)
    session.commit()
    client = app.test_client()
    login_as(client, _coordinator(make_user))
    assert "5 staff trained" in _numbers(client)
    certificates.revoke(session, session.get(Certificate, certificate.id), "Wrong person", actor=world["trainer"])
    session.commit()
    assert "4 staff trained" in _numbers(client)


def test_every_breakdown_adds_up_to_the_total(app, make_user, session, world) -> None:
    client = app.test_client()
    login_as(client, _coordinator(make_user))
    workbook = openpyxl.load_workbook(io.BytesIO(client.get("/reports/export.xlsx").data))
    sheets = [name for name in workbook.sheetnames if name != "About this report"]
    assert len(sheets) == 5
    for name in sheets:
        rows = list(workbook[name].iter_rows(values_only=True))[1:]
        body, total = rows[:-1], rows[-1]
        for column in range(1, 5):  # women, men, not recorded, total
            assert sum(row[column] for row in body) == total[column], (name, column)
        assert all(row[1] + row[2] + row[3] == row[4] for row in rows), name
        assert total[4] == 4


def test_filters_narrow_what_counts(app, make_user, session, world) -> None:
    client = app.test_client()
    login_as(client, _coordinator(make_user))
    mk = country_id(session, "MK")
    assert "1 staff trained" in _numbers(client, f"/reports/?country={mk}")
    # 2025: only the first course; Ana's 2026 course does not count then, her 2025 one does.
    session.execute(
        sa.update(Enrolment)
        .where(Enrolment.course_id == world["first"].id)
        .values(completed_at=datetime(2025, 3, 5, 16, tzinfo=UTC))
    )
    session.commit()
    assert "3 staff trained" in _numbers(client, "/reports/?start=2025-01-01&end=2025-12-31")
    assert "2 staff trained" in _numbers(client, "/reports/?start=2026-01-01&end=2026-12-31")
    assert "1 staff trained" in _numbers(client, f"/reports/?course={world['second'].id}")
    bad = client.get("/reports/?start=2026-05-01&end=2026-01-01")
    assert bad.status_code == 400 and "The end date is before the start date." in bad.get_data(as_text=True)
    assert client.get("/reports/?country=99999").status_code == 400
    assert client.get("/reports/?start=not-a-date").status_code == 400


def test_filters_out_of_range_are_refused_on_every_page(app, make_user, session, world) -> None:
    """Extreme dates, ids beyond the database's integers and bad filters: a 400, never a 500."""
    client = app.test_client()
    login_as(client, _coordinator(make_user))
    pages = ["/reports/", "/reports/people", "/reports/hr", "/reports/export.csv", "/reports/people/export.csv"]
    for query in ("end=9999-12-31", "start=0001-01-01", "start=2026-05-01&end=2026-01-01", f"course={10**30}"):
        for page in pages:
            assert client.get(f"{page}?{query}").status_code == 400, (page, query)
    shown = client.get("/reports/hr?end=9999-12-31").get_data(as_text=True)
    assert "Enter a date from the year 1900 to 2199." in shown
    for group in (f"g_country={10**30}", f"g_institution={10**30}", "g_country=-1", "g_country=2147483648"):
        assert client.get(f"/reports/people?{group}").status_code == 400, group
    assert "0 staff trained" in _numbers(client, "/reports/?start=1900-01-01&end=1900-12-31")


def test_every_number_leads_to_the_people_behind_it(app, make_user, session, world) -> None:
    client = app.test_client()
    login_as(client, _coordinator(make_user))
    rs = country_id(session, "RS")
    page = _numbers(client, f"/reports/people?g_country={rs}&g_sex=female")
    assert "Ana Anić" in page and "Marko" not in page
    page = _numbers(client, "/reports/people?g_category=none")
    assert "HYPERLINK" in page and "Ana Anić" not in page
    page = _numbers(client, "/reports/people?g_branch=civilian")
    assert "Елена Петровска" in page and "Never Trained" not in _numbers(client, "/reports/people")
    for bad in ("g_country=x", "g_sex=other", "g_month=2026-1", "g_category=general", "g_branch=navy"):
        assert client.get(f"/reports/people?{bad}").status_code == 400, bad


def test_exports_escape_formulas_and_are_audited(app, make_user, session, world) -> None:
    client = app.test_client()
    login_as(client, _coordinator(make_user))
    people = _csv_rows(client.get("/reports/people/export.csv").data)
    names = [row[0] for row in people[1:]]
    assert '\'=HYPERLINK("http://evil.example")' in names
    assert "Елена Петровска" in names and "Never Trained" not in names
    workbook = openpyxl.load_workbook(io.BytesIO(client.get("/reports/people/export.xlsx").data))
    cells = [row[0] for row in workbook.active.iter_rows(values_only=True)]
    assert all(not str(cell).startswith("=") for cell in cells)
    summary = client.get("/reports/export.pdf")
    assert summary.mimetype == "application/pdf"
    text = "\n".join(pdf_pages(summary.data))
    assert "4 staff trained of the target of 4,700" in text and "North Macedonia" in text
    session.rollback()
    exported = session.scalars(sa.select(AuditEvent.details).where(AuditEvent.action == "report.exported")).all()
    assert len(exported) == 3 and any('"people"' in details for details in exported)


def test_who_sees_what(app, make_user, session, world) -> None:
    client = app.test_client()
    login_as(client, _coordinator(make_user, "MK", "coord.mk@example.org"))
    assert "1 staff trained" in _numbers(client)
    assert (
        client.get(f"/reports/people?g_country={country_id(session, 'RS')}").get_data(as_text=True).count("Ana Anić")
        == 0
    )
    # A trainer sees the people of their own courses only, and no person-level export.
    login_as(client, world["other_trainer"])
    page = _numbers(client)
    assert "1 staff trained" in page and "Ana Anić" not in _numbers(client, "/reports/people")
    assert client.get("/reports/people/export.csv").status_code == 403
    login_as(client, world["trainer"])
    assert "3 staff trained" in _numbers(client)
    login_as(client, world["ana"])
    assert client.get("/reports/").status_code == 403
    assert client.get("/reports/export.csv").status_code == 403


def test_the_dashboard_makes_a_constant_number_of_queries(app, make_user, session, world) -> None:
    client = app.test_client()
    coordinator = _coordinator(make_user)
    login_as(client, coordinator)
    engine = app.extensions["lms.engine"]
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args):  # type: ignore[no-untyped-def]
        statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        _numbers(client)
        small = len(statements)
        more = [make_user(name=f"Polaznik {n}", roles=[Role.TRAINEE], sex=[Sex.FEMALE, Sex.MALE][n % 2],
                          country=["BA", "ME", "MK", "RS"][n % 4]) for n in range(30)]  # fmt: skip
        completed_course(session, world["trainer"], more, title="Large course", start=date(2026, 6, 1), capacity=40)
        statements.clear()
        page = _numbers(client)
        assert "34 staff trained" in page
        assert len(statements) == small
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    assert small <= 15


def test_the_shell_command_writes_the_same_tables(app, make_user, session, world, runner, tmp_path) -> None:
    client = app.test_client()
    login_as(client, _coordinator(make_user))
    on_the_page = _csv_rows(client.get("/reports/export.csv").data)
    for fmt in ("csv", "xlsx", "pdf"):
        output = tmp_path / f"report.{fmt}"
        result = runner.invoke(args=["lms", "report", "--format", fmt, "--output", str(output)])
        assert result.exit_code == 0, result.output
        assert output.stat().st_size > 0
    assert _csv_rows((tmp_path / "report.csv").read_bytes()) == on_the_page
    people = tmp_path / "people.csv"
    result = runner.invoke(
        args=["lms", "report", "--format", "csv", "--people", "--country", "mk", "--output", str(people)]
    )
    assert result.exit_code == 0, result.output
    assert [row[0] for row in _csv_rows(people.read_bytes())[1:]] == ["Елена Петровска"]
    assert (
        runner.invoke(args=["lms", "report", "--format", "csv", "--country", "XX", "--output", str(people)]).exit_code
        == 2
    )


def test_the_human_resources_report(app, make_user, session, world) -> None:
    make_user("trainer3@example.org", roles={Role.TRAINER: None}, sex=Sex.MALE)
    # Marko (a commander) did not complete: the course's result is changed for him.
    from lms.courses import attendance

    enrolment = session.scalar(
        sa.select(Enrolment).where(Enrolment.course_id == world["first"].id, Enrolment.user_id == world["marko"].id)
    )
    attendance.override_result(session, enrolment, False, "Absent from the exercise", actor=world["trainer"])
    session.commit()
    client = app.test_client()
    login_as(client, _coordinator(make_user))
    workbook = openpyxl.load_workbook(io.BytesIO(client.get("/reports/hr/export.xlsx").data))
    by_course = {row[0].split(" (")[0]: row for row in list(workbook["By course"].iter_rows(values_only=True))[1:]}
    # Basic course: women 1, men 1, not recorded 1 took part; the man did not complete.
    assert by_course["Basic course"][1:9] == (1, 1, 1, 3, 1, 0, 1, 2)
    assert by_course["Basic course"][9:12] == (100, 0, 66.7)
    assert by_course["Basic course"][12:] == (0, 0, 0, 0, "Ended")
    assert by_course["Total"][4] == 5 and by_course["Total"][8] == 4
    by_country = {row[0]: row for row in list(workbook["By country"].iter_rows(values_only=True))[1:]}
    assert by_country["North Macedonia"][4] == 1 and by_country["Serbia"][4] == 4
    page = client.get("/reports/hr").get_data(as_text=True)
    # Trainers: two women (the test's default) and one man; no commander completed any more.
    assert "67% (2 of 3)" in page
    assert "Among commanders trained" in page
    assert "The Gender Coach Programme" in page
    login_as(client, world["other_trainer"])
    page = client.get("/reports/hr").get_data(as_text=True)
    assert "Skopje course" in page and "Basic course" not in page
    assert "The Gender Coach Programme" not in page


def test_courses_under_way_are_marked_and_left_out_of_completion(app, make_user, session, world) -> None:
    """A course under way counts its participants (in their own columns too) but no
    completion, even decided ahead by its trainer, until its last session has ended."""
    from freezegun import freeze_time

    from lms.courses import attendance
    from tests.courses.helpers import enrol_all, make_course

    def hr_sheets(client):
        workbook = openpyxl.load_workbook(io.BytesIO(client.get("/reports/hr/export.xlsx").data))
        return {
            title: {row[0].split(" (")[0]: row for row in list(workbook[title].iter_rows(values_only=True))[1:]}
            for title in ("By course", "By country")
        }

    # Sessions on 4, 5 and 6 January 2027, 09:00–12:00 in Belgrade.
    with freeze_time("2027-01-05 12:00"):
        bojan = make_user(name="Bojan Bojić", roles=[Role.TRAINEE], sex=Sex.MALE, category=Category.COMMANDER)
        course = make_course(session, world["trainer"], title="Course under way", start=date(2027, 1, 4))
        enrol_all(session, course, [world["ana"], bojan], world["trainer"])
        for entry in session.scalars(sa.select(Enrolment).where(Enrolment.course_id == course.id)):
            attendance.override_result(session, entry, True, "Attends every session", actor=world["trainer"])
        session.commit()
        client = app.test_client()
        login_as(client, _coordinator(make_user))
        sheets = hr_sheets(client)
        under_way = sheets["By course"]["Course under way"]
        assert under_way[1:5] == (1, 1, 0, 2) and under_way[5:12] == (None,) * 7
        assert under_way[12:] == (1, 1, 0, 2, "Under way")
        # The totals count everyone as a participant; completion only on the courses ended.
        total = sheets["By course"]["Total"]
        assert total[1:5] == (4, 2, 1, 7) and total[5:9] == (3, 1, 1, 5) and total[9:12] == (100, 100, 100)
        assert total[12:16] == (1, 1, 0, 2)
        assert sheets["By country"]["Serbia"][4] == 6 and sheets["By country"]["Serbia"][8] == 4
        assert sheets["By country"]["Serbia"][15] == 2
        page = _numbers(client, "/reports/hr")
        assert "1 course under way, with 2 participants" in page and "In courses under way" in page
        assert "Bojan Bojić" not in _numbers(client, "/reports/people")  # not trained yet

    with freeze_time("2027-01-06 11:00"):  # 12:00 in Belgrade: the last session is over
        client = app.test_client()
        login_as(client, _coordinator(make_user, email="coordinator2@example.org"))
        sheets = hr_sheets(client)
        assert sheets["By course"]["Course under way"][1:] == (
            1,
            1,
            0,
            2,
            1,
            1,
            0,
            2,
            100,
            100,
            100,
            0,
            0,
            0,
            0,
            "Ended",
        )
        assert sheets["By course"]["Total"][5:9] == (4, 2, 1, 7)
        page = _numbers(client, "/reports/hr")
        assert "under way, with" not in page and "In courses under way" not in page
        assert "Bojan Bojić" in _numbers(client, "/reports/people")
