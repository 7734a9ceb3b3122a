"""Calendars: RFC 5545 feeds per course and per person at secret addresses; the agenda."""

import re
from datetime import date

from freezegun import freeze_time
from icalendar import Calendar

from lms.models import Role
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


def test_the_subscription_address_works_without_login_and_only_with_its_secret(app, client, make_user, session) -> None:
    trainer = make_user("trainer@example.org", roles=[Role.TRAINER])
    course = make_course(session, trainer)
    login_as(client, trainer)
    page = client.get(f"/courses/{course.id}").get_data(as_text=True)
    feed = re.search(r'value="http://localhost(/courses/\d+/calendar/[^"]+\.ics)"', page).group(1)
    anonymous = app.test_client()
    assert len(_events(anonymous.get(feed).data)) == 3
    assert anonymous.get(feed.replace(feed.rsplit("/", 1)[1], "guessed.ics")).status_code == 404
    assert anonymous.get(f"/courses/{course.id}/calendar.ics").status_code == 302  # the plain address needs a login


@freeze_time("2026-03-01")
def test_personal_feed_can_be_reset(app, client, make_user, session) -> None:
    trainer = make_user("trainer@example.org", roles=[Role.TRAINER])
    course = make_course(session, trainer)
    cadet = make_user("cadet@example.org", roles=[Role.TRAINEE])
    enrol_all(session, course, [cadet], trainer)
    login_as(client, cadet)
    assert "feed-url" not in client.get("/calendar/").get_data(as_text=True)
    client.post("/calendar/feed")
    first = re.search(
        r'id="feed-url"[^>]*value="http://localhost([^"]+)"', client.get("/calendar/").get_data(as_text=True)
    ).group(1)
    anonymous = app.test_client()
    assert len(_events(anonymous.get(first).data)) == 3
    client.post("/calendar/feed")
    second = re.search(
        r'id="feed-url"[^>]*value="http://localhost([^"]+)"', client.get("/calendar/").get_data(as_text=True)
    ).group(1)
    assert second != first
    assert anonymous.get(first).status_code == 404
    assert anonymous.get(second).status_code == 200


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


def test_trainee_dashboard_shows_the_course_and_next_session(client, make_user, session) -> None:
    trainer = make_user("trainer@example.org", roles=[Role.TRAINER])
    course = make_course(session, trainer, title="Future course", start=date(2030, 5, 6))
    cadet = make_user("cadet@example.org", roles=[Role.TRAINEE])
    enrol_all(session, course, [cadet], trainer)
    login_as(client, cadet)
    page = client.get("/").get_data(as_text=True)
    assert "Future course" in page and "Next session:" in page and "Day 1" in page
