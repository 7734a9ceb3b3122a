"""Calendars: RFC 5545 feeds per person and for a course's staff at secret addresses; the agenda."""

import re
from datetime import date

import pytest
import sqlalchemy as sa
from freezegun import freeze_time
from icalendar import Calendar

from lms.courses import enrolment
from lms.models import CourseTrainer, Enrolment, EnrolmentMode, EnrolmentStatus, Role, User
from tests.conftest import login_as
from tests.courses.helpers import enrol_all, make_course


def _events(body: bytes) -> list:
    calendar = Calendar.from_ical(body)
    assert calendar["VERSION"] == "2.0" and "PRODID" in calendar
    return list(calendar.walk("VEVENT"))


def test_course_calendar_is_valid_icalendar_with_local_times(client, make_user, session) -> None:
    trainer = make_user("trainer@example.org", roles=[Role.TRAINER])
    course = make_course(session, trainer, title="Рад са родном перспективом")
    login_as(client, trainer)
    client.post(f"/courses/{course.id}/sessions/{course.sessions[2].id}/cancel", data={"reason": "Snow"})
    response = client.get(f"/courses/{course.id}/calendar.ics")
    assert response.mimetype == "text/calendar"
    events = _events(response.data)
    assert len(events) == 3
    first = events[0]
    assert str(first["SUMMARY"]) == "Рад са родном перспективом: Day 1"
    assert first["DTSTART"].dt.hour == 9 and str(first["DTSTART"].dt.tzinfo) == "Europe/Belgrade"
    assert first["DTSTART"].params["TZID"] == "Europe/Belgrade"
    assert str(events[2]["STATUS"]) == "CANCELLED" and int(events[2]["SEQUENCE"]) == 1
    assert len({str(event["UID"]) for event in events}) == 3
    assert b"BEGIN:VTIMEZONE" in response.data


def _address(page: str, field: str) -> str:
    """The path of the secret address shown in ``field``, which starts with LMS_PUBLIC_URL."""
    return re.search(rf'id="{field}"[^>]*value="{re.escape(PUBLIC_URL)}([^"]+)"', page).group(1)


PUBLIC_URL = "http://127.0.0.1:5000"


@pytest.fixture(autouse=True)
def _public_url(app) -> None:
    app.config["PUBLIC_URL"] = PUBLIC_URL


def test_course_feed_is_for_its_staff_and_works_without_login_only_with_its_secret(
    app, client, make_user, session
) -> None:
    trainer = make_user("trainer@example.org", roles=[Role.TRAINER])
    course = make_course(session, trainer)
    login_as(client, trainer)
    feed = _address(client.get(f"/courses/{course.id}").get_data(as_text=True), "course-feed")
    assert feed.startswith(f"/courses/{course.id}/calendar/{trainer.id}/")
    anonymous = app.test_client()
    assert len(_events(anonymous.get(feed).data)) == 3
    assert anonymous.get(feed.replace(feed.rsplit("/", 1)[1], "guessed.ics")).status_code == 404
    assert anonymous.get(f"/courses/{course.id}/calendar.ics").status_code == 302  # the plain address needs a login


def test_participants_get_no_course_feed_and_are_pointed_to_their_own_calendar(app, client, make_user, session) -> None:
    trainer = make_user("trainer@example.org", roles=[Role.TRAINER])
    course = make_course(session, trainer)
    cadet = make_user("cadet@example.org", roles=[Role.TRAINEE])
    enrol_all(session, course, [cadet], trainer)
    login_as(client, cadet)
    page = client.get(f"/courses/{course.id}").get_data(as_text=True)
    assert "course-feed" not in page and "calendar.ics" not in page
    assert 'href="/calendar/#feed"' in page
    assert client.get(f"/courses/{course.id}/calendar.ics").status_code == 403


def test_course_feed_stops_when_its_holder_no_longer_runs_the_course(app, client, make_user, session) -> None:
    trainer = make_user("trainer@example.org", roles=[Role.TRAINER])
    colleague = make_user("colleague@example.org", roles=[Role.TRAINER])
    course = make_course(session, trainer)
    session.add(CourseTrainer(course_id=course.id, user_id=colleague.id))
    session.commit()
    feeds = {}
    for person in (trainer, colleague):
        login_as(client, person)
        feeds[person.id] = _address(client.get(f"/courses/{course.id}").get_data(as_text=True), "course-feed")
    anonymous = app.test_client()
    assert {anonymous.get(feed).status_code for feed in feeds.values()} == {200}
    session.execute(sa.delete(CourseTrainer).where(CourseTrainer.user_id == colleague.id))
    session.commit()
    assert anonymous.get(feeds[colleague.id]).status_code == 404
    assert anonymous.get(feeds[trainer.id]).status_code == 200
    # Nor does an address made for one person open with another's id in it.
    assert anonymous.get(feeds[trainer.id].replace(f"/{trainer.id}/", f"/{colleague.id}/")).status_code == 404


def test_course_feed_gets_new_addresses_for_all_its_staff(app, client, make_user, session, audit_rows) -> None:
    trainer = make_user("trainer@example.org", roles=[Role.TRAINER])
    course = make_course(session, trainer)
    login_as(client, trainer)
    old = _address(client.get(f"/courses/{course.id}").get_data(as_text=True), "course-feed")
    response = client.post(f"/courses/{course.id}/calendar/new-address")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/courses/{course.id}#calendar")
    new = _address(client.get(f"/courses/{course.id}").get_data(as_text=True), "course-feed")
    anonymous = app.test_client()
    assert new != old
    assert anonymous.get(old).status_code == 404
    assert anonymous.get(new).status_code == 200
    (row,) = audit_rows("calendar.course_feed_reset")
    assert row.actor_id == trainer.id and row.target_id == str(course.id)
    # Without the form's token nothing changes.
    assert client.post(f"/courses/{course.id}/calendar/new-address", csrf=False).status_code == 400
    assert anonymous.get(new).status_code == 200


@freeze_time("2026-03-01")
def test_personal_feed_can_be_reset(app, client, make_user, session, audit_rows) -> None:
    trainer = make_user("trainer@example.org", roles=[Role.TRAINER])
    course = make_course(session, trainer)
    cadet = make_user("cadet@example.org", roles=[Role.TRAINEE])
    enrol_all(session, course, [cadet], trainer)
    login_as(client, cadet)
    assert "feed-url" not in client.get("/calendar/").get_data(as_text=True)
    client.post("/calendar/feed")
    first = _address(client.get("/calendar/").get_data(as_text=True), "feed-url")
    anonymous = app.test_client()
    assert len(_events(anonymous.get(first).data)) == 3
    client.post("/calendar/feed")
    second = _address(client.get("/calendar/").get_data(as_text=True), "feed-url")
    assert second != first
    assert anonymous.get(first).status_code == 404
    assert anonymous.get(second).status_code == 200
    rows = audit_rows("calendar.person_feed_reset")
    assert [row.actor_id for row in rows] == [cadet.id, cadet.id]
    assert [row.details for row in rows] == ['{"replaced": false}', '{"replaced": true}']


@freeze_time("2026-03-01")
def test_people_who_leave_a_course_stop_getting_its_sessions(app, client, make_user, session) -> None:
    trainer = make_user("trainer@example.org", roles=[Role.TRAINER])
    course = make_course(session, trainer, capacity=1, enrolment_mode=EnrolmentMode.OPEN_WITH_APPROVAL)
    leaves, moves_up, waits, asks = (make_user(f"p{n}@example.org", roles=[Role.TRAINEE]) for n in range(4))
    enrol_all(session, course, [leaves, moves_up, waits], trainer)  # one place: the others wait
    feeds = {}
    for person in (leaves, moves_up, waits, asks):
        login_as(client, person)
        client.post("/calendar/feed")
        feeds[person.id] = _address(client.get("/calendar/").get_data(as_text=True), "feed-url")
    login_as(client, asks)
    assert client.post(f"/courses/{course.id}/join").status_code == 302
    by_id = {e.user_id: e for e in session.scalars(sa.select(Enrolment).where(Enrolment.course_id == course.id))}
    assert by_id[asks.id].status == EnrolmentStatus.REQUESTED
    anonymous = app.test_client()

    def sessions_of(person) -> int:
        return len(Calendar.from_ical(anonymous.get(feeds[person.id]).data).walk("VEVENT"))

    assert [sessions_of(person) for person in (leaves, moves_up, waits, asks)] == [3, 0, 0, 0]
    actor = session.get(User, trainer.id)
    enrolment.withdraw(session, by_id[leaves.id], actor=actor)  # the first on the waitlist takes the place
    enrolment.decide_request(session, by_id[asks.id], approve=False, actor=actor)
    session.commit()
    assert [sessions_of(person) for person in (leaves, moves_up, waits, asks)] == [0, 3, 0, 0]
    login_as(client, leaves)
    assert "Day 1" not in client.get("/calendar/").get_data(as_text=True)
    login_as(client, moves_up)
    assert "Day 1" in client.get("/calendar/").get_data(as_text=True)


@freeze_time("2026-03-03")
def test_agenda_month_and_week_show_the_sessions(client, make_user, session) -> None:
    trainer = make_user("trainer@example.org", roles=[Role.TRAINER])
    course = make_course(session, trainer, title="Planning course", start=date(2026, 3, 2))
    cadet = make_user("cadet@example.org", roles=[Role.TRAINEE])
    enrol_all(session, course, [cadet], trainer)
    for person in (trainer, cadet):
        login_as(client, person)
        month = client.get("/calendar/").get_data(as_text=True)
        assert month.count("Planning course: Day") == 3
        week = client.get("/calendar/?view=week&date=2026-03-04").get_data(as_text=True)
        assert week.count("Planning course: Day") == 3
        other_week = client.get("/calendar/?view=week&date=2026-03-20").get_data(as_text=True)
        assert "Planning course" not in other_week
    assert client.get("/calendar/?date=not-a-date").status_code == 200


@freeze_time("2026-03-01")
def test_agenda_at_the_ends_of_the_calendar_shows_this_month(client, make_user) -> None:
    """A date whose week or month would step past year 1 or 9999 is not one people enter: today instead."""
    login_as(client, make_user(roles=[Role.TRAINEE]))
    for day in ("0001-01-01", "9999-12-31", "1899-12-31", "2200-01-01", "99999-01-01"):
        for view in ("month", "week"):
            response = client.get(f"/calendar/?view={view}&date={day}")
            assert response.status_code == 200, (view, day)
            assert "2026" in response.get_data(as_text=True)
    assert client.get("/calendar/?view=week&date=2199-12-31").status_code == 200


def test_feed_addresses_with_other_characters_are_not_found(app, client, make_user, session) -> None:
    """A token is compared in constant time as ASCII; any other text in it is simply wrong."""
    trainer = make_user("trainer@example.org", roles=[Role.TRAINER])
    course = make_course(session, trainer)
    login_as(client, trainer)
    client.post("/calendar/feed")
    page = client.get("/calendar/").get_data(as_text=True)
    mine = _address(page, "feed-url")
    theirs = _address(client.get(f"/courses/{course.id}").get_data(as_text=True), "course-feed")
    anonymous = app.test_client()
    for feed in (mine, theirs):
        assert anonymous.get(feed).status_code == 200
        for token in ("%C3%A4%C3%B6", "%F0%9F%98%80", "%C0%AE%C0%AE", "%00"):
            assert anonymous.get(feed.rsplit("/", 1)[0] + f"/{token}.ics").status_code == 404


def test_trainee_dashboard_shows_the_course_and_next_session(client, make_user, session) -> None:
    trainer = make_user("trainer@example.org", roles=[Role.TRAINER])
    course = make_course(session, trainer, title="Future course", start=date(2030, 5, 6))
    cadet = make_user("cadet@example.org", roles=[Role.TRAINEE])
    enrol_all(session, course, [cadet], trainer)
    login_as(client, cadet)
    page = client.get("/").get_data(as_text=True)
    assert "Future course" in page and "Next session:" in page and "Day 1" in page
