"""Completion only when a course is over: the rule on the sessions held when it closes,
attendance from a session's start, and every reader (results, certificates, reports)
seeing a completion from the moment the course ends, with nothing run then."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import openpyxl
import sqlalchemy as sa
from freezegun import freeze_time

from lms.courses import attendance, schedule, service
from lms.models import AttendanceMark, Certificate, Course, CourseStatus, Enrolment, Role, User
from lms.reports import service as reports
from tests.conftest import login_as
from tests.courses.helpers import enrol_all, make_course

BELGRADE = ZoneInfo("Europe/Belgrade")


def _utc(day: date, hour: int, minute: int = 0) -> datetime:
    """A wall-clock time in the region, as the naive UTC moment freezegun takes."""
    return datetime.combine(day, time(hour, minute), tzinfo=BELGRADE).astimezone(UTC).replace(tzinfo=None)


def _mark(client, course, index, marks):
    sitting = course.sessions[index]
    return client.post(
        f"/courses/{course.id}/sessions/{sitting.id}/attendance",
        data={f"mark-{person.id}": mark for person, mark in marks.items()},
    )


def _completed(session, course) -> set[int]:
    session.rollback()
    return set(
        session.scalars(sa.select(Enrolment.user_id).where(Enrolment.course_id == course.id, Enrolment.is_completed))
    )


def _hr_row(client, title):
    workbook = openpyxl.load_workbook(io.BytesIO(client.get("/reports/hr/export.xlsx").data))
    rows = list(workbook["By course"].iter_rows(values_only=True))[1:]
    return next((row for row in rows if str(row[0]).startswith(title)), None)


def test_a_course_under_way_completes_nobody_until_its_last_session_ends(app, client, make_user, session) -> None:
    """Sessions on 2, 3 and 4 March 2026, 09:00–12:00 in Belgrade; the course's planned end
    date is the 5th, but it is over when the last session ends, on the 4th at 12:00."""
    with freeze_time(_utc(date(2026, 3, 3), 13)) as clock:
        trainer = make_user("trainer@example.org", roles=[Role.TRAINER])
        coordinator = make_user("coordinator@example.org", roles={Role.COORDINATOR: None}, country="REG")
        course = make_course(session, trainer, title="Course under way", sessions=3)
        ana, boro = (make_user(f"{name}@example.org", roles=[Role.TRAINEE]) for name in ("ana", "boro"))
        enrol_all(session, course, [ana, boro], trainer)
        course = session.get(Course, course.id)
        login_as(client, trainer)
        for index in (0, 1):
            assert _mark(client, course, index, {ana: "present", boro: "present"}).status_code == 302
        # Everyone present at every session held so far: still nobody completed.
        assert _completed(session, course) == set()
        page = client.get(f"/courses/{course.id}/results").get_data(as_text=True)
        assert "2/2 (100%)" in page and "1 session to come" in page and "Under way" in page
        assert "status--done" not in page and "0/0" not in page
        assert "Results are decided when its last session ends" in page
        detail = client.get(f"/courses/{course.id}").get_data(as_text=True)
        assert "This course is under way: nobody has completed it yet." in detail
        assert detail.count("/attendance") == 2  # the session to come offers none
        # Attendance for the session to come is refused, and its page offers no form.
        refused = _mark(client, course, 2, {ana: "present", boro: "present"})
        assert refused.status_code == 400 and "has not started yet" in refused.get_data(as_text=True)
        form = client.get(f"/courses/{course.id}/sessions/{course.sessions[2].id}/attendance").get_data(as_text=True)
        assert 'type="radio"' not in form and "This session has not started yet" in form
        # Marking the course completed waits for its end.
        client.post(f"/courses/{course.id}/status", data={"status": "in_progress"})
        response = client.post(f"/courses/{course.id}/status", data={"status": "completed"}, follow_redirects=True)
        assert "This course is not over" in response.get_data(as_text=True)
        session.rollback()
        assert session.get(Course, course.id).status == CourseStatus.IN_PROGRESS

        # The last day: at 10:00 its session has started; Ana is there, Boro is not.
        clock.move_to(_utc(date(2026, 3, 4), 10))
        login_as(client, trainer)
        assert _mark(client, course, 2, {ana: "present", boro: "absent"}).status_code == 302
        assert _completed(session, course) == set()
        entry = session.scalar(sa.select(Enrolment).where(Enrolment.user_id == ana.id))
        # Ana meets the rule whatever happens now: her completion takes effect at the end.
        assert entry.completed_at == datetime(2026, 3, 4, 11, tzinfo=UTC) and not entry.is_completed
        page = client.get(f"/courses/{course.id}/results").get_data(as_text=True)
        assert "Completes when the course ends" in page and "status--done" not in page
        login_as(client, coordinator)
        certificates = client.get(f"/certificates/courses/{course.id}").get_data(as_text=True)
        assert "This course has not ended" in certificates and 'name="holders"' not in certificates
        issued = client.post(
            f"/certificates/courses/{course.id}/issue", data={"scope": "all", "language": ""}, follow_redirects=True
        )
        assert "certificates can be issued once its last session is over" in issued.get_data(as_text=True)
        assert session.scalar(sa.select(sa.func.count()).select_from(Certificate)) == 0
        row = _hr_row(client, "Course under way")
        # Women 2 (the tests' default), men 0, not recorded 0; no completion figure, not zeros.
        assert row[1:5] == (2, 0, 0, 2) and row[5:12] == (None,) * 7
        assert row[12:] == (2, 0, 0, 2, "Under way")
        hr_page = client.get("/reports/hr").get_data(as_text=True)
        assert "Under way" in hr_page and "1 course under way, with 2 participants" in hr_page
        with app.app_context():
            figures = reports.figures(session, reports.Filters(), reports.Scope(None))
            assert figures.total.total == 0  # nobody counts as trained yet

        # 12:00, the last session is over. Nothing runs: every reader sees Ana complete.
        clock.move_to(_utc(date(2026, 3, 4), 12))
        assert _completed(session, course) == {ana.id}
        login_as(client, trainer)
        page = client.get(f"/courses/{course.id}/results").get_data(as_text=True)
        assert page.count("status--done") == 1 and "3/3 (100%)" in page and "2/3 (66%)" in page
        assert "Under way" not in page
        learner = app.test_client()
        login_as(learner, ana)
        assert "Completed on" in learner.get(f"/courses/{course.id}").get_data(as_text=True)
        login_as(client, coordinator)
        certificates = client.get(f"/certificates/courses/{course.id}").get_data(as_text=True)
        assert f'name="holders" value="{ana.id}"' in certificates and f'value="{boro.id}"' not in certificates
        assert (
            client.post(f"/certificates/courses/{course.id}/issue", data={"scope": "all", "language": ""}).status_code
            == 302
        )
        certificate = session.scalar(sa.select(Certificate))
        # Dated by the days the course was held, never after today.
        assert (certificate.start_date, certificate.end_date) == (date(2026, 3, 2), date(2026, 3, 4))
        assert _hr_row(client, "Course under way")[1:] == (2, 0, 0, 2, 1, 0, 0, 1, 50, None, 50, 0, 0, 0, 0, "Ended")
        login_as(client, trainer)
        assert "The course status has been changed" in client.post(
            f"/courses/{course.id}/status", data={"status": "completed"}, follow_redirects=True
        ).get_data(as_text=True)


def test_attendance_opens_at_the_start_of_a_session_in_the_regions_time(make_user, session) -> None:
    trainer = make_user("trainer@example.org", roles=[Role.TRAINER])
    cadet = make_user("cadet@example.org", roles=[Role.TRAINEE])
    # 09:00 in Belgrade is 08:00 UTC in winter and 07:00 UTC in summer.
    for start, opens in ((date(2026, 3, 2), datetime(2026, 3, 2, 8)), (date(2026, 6, 1), datetime(2026, 6, 1, 7))):
        with freeze_time(opens - timedelta(minutes=1)):
            course = make_course(session, trainer, title=f"From {start}", sessions=1, start=start)
            enrol_all(session, course, [cadet], trainer)
            course = session.get(Course, course.id)
            sitting = course.sessions[0]
            try:
                attendance.record_attendance(session, sitting, {cadet.id: AttendanceMark.PRESENT}, actor=trainer)
            except service.CourseError as error:
                assert "has not started yet" in error.message
            else:
                raise AssertionError("attendance recorded a minute before the session")
            session.rollback()
        with freeze_time(opens):
            sitting = session.get(Course, course.id).sessions[0]
            assert schedule.session_has_started(sitting)
            attendance.record_attendance(session, sitting, {cadet.id: AttendanceMark.PRESENT}, actor=trainer)
            session.commit()


def test_a_course_not_held_yet_shows_no_percentages_and_stays_out_of_the_hr_report(client, make_user, session) -> None:
    with freeze_time(_utc(date(2026, 2, 20), 12)):
        trainer = make_user("trainer@example.org", roles=[Role.TRAINER])
        coordinator = make_user("coordinator@example.org", roles={Role.COORDINATOR: None}, country="REG")
        planned = make_course(session, trainer, title="Planned course", sessions=2)
        dropped = make_course(session, trainer, title="Dropped course", sessions=2)
        people = [make_user(f"p{n}@example.org", roles=[Role.TRAINEE]) for n in range(3)]
        enrol_all(session, planned, people[:2], trainer)
        enrol_all(session, dropped, people, trainer)
        service.change_status(
            session, session.get(Course, dropped.id), CourseStatus.CANCELLED, actor=trainer, reason="No venue"
        )
        session.commit()
        login_as(client, trainer)
        page = client.get(f"/courses/{planned.id}/results").get_data(as_text=True)
        assert page.count("No session held yet") == 2 and "2 sessions to come" in page
        assert "0/0" not in page and "(0%)" not in page
        login_as(client, coordinator)
        hr_page = client.get("/reports/hr").get_data(as_text=True)
        assert '<th scope="row">Planned course' not in hr_page and '<th scope="row">Dropped course' not in hr_page
        assert "1 course not held yet, with 2 participants enrolled, is left out." in hr_page
        assert "1 cancelled course, with 3 participants enrolled, is left out." in hr_page
        assert _hr_row(client, "Planned course") is None


def test_a_decision_before_the_end_takes_effect_at_the_end_and_follows_the_schedule(client, make_user, session) -> None:
    with freeze_time(_utc(date(2026, 3, 2), 13)) as clock:
        trainer = make_user("trainer@example.org", roles=[Role.TRAINER])
        course = make_course(session, trainer, sessions=3)
        cadet = make_user("cadet@example.org", roles=[Role.TRAINEE])
        enrol_all(session, course, [cadet], trainer)
        login_as(client, trainer)
        entry = session.scalar(sa.select(Enrolment))
        client.post(
            f"/courses/{course.id}/people/{entry.id}/result",
            data={"result": "completed", "reason": "Completed the course abroad"},
        )
        assert _completed(session, course) == set()
        session.refresh(entry)
        assert entry.completed_at == datetime(2026, 3, 4, 11, tzinfo=UTC)  # the last session's end
        # The last session moves to the 6th: so does the completion.
        course = session.get(Course, course.id)
        last = course.sessions[2]
        service.save_session(
            session,
            course,
            service.SessionData(date(2026, 3, 6), time(9), time(12), last.topic, trainer.id),
            actor=trainer,
            existing=last,
        )
        session.commit()
        session.refresh(entry)
        assert entry.completed_at == datetime(2026, 3, 6, 11, tzinfo=UTC)
        # On the 5th, the last session is cancelled: the course ended with the 3rd's session.
        clock.move_to(_utc(date(2026, 3, 5), 9))
        service.cancel_session(
            session,
            session.get(Course, course.id).sessions[2],
            "The trainer is ill",
            actor=session.get(User, trainer.id),
        )
        session.commit()
        assert _completed(session, course) == {cadet.id}
        session.refresh(entry)
        assert entry.completed_at == datetime(2026, 3, 3, 11, tzinfo=UTC)


def test_a_cancelled_course_completes_nobody(client, make_user, session) -> None:
    with freeze_time(_utc(date(2026, 3, 10), 12)):
        trainer = make_user("trainer@example.org", roles=[Role.TRAINER])
        coordinator = make_user("coordinator@example.org", roles={Role.COORDINATOR: None}, country="REG")
        course = make_course(session, trainer, sessions=2)
        cadet = make_user("cadet@example.org", roles=[Role.TRAINEE])
        enrol_all(session, course, [cadet], trainer)
        login_as(client, trainer)
        for index in (0, 1):
            _mark(client, course, index, {cadet: "present"})
        assert _completed(session, course) == {cadet.id}
        client.post(f"/courses/{course.id}/status", data={"status": "in_progress"})
        client.post(f"/courses/{course.id}/status", data={"status": "cancelled", "reason": "Merged with another"})
        assert _completed(session, course) == set()
        entry = session.scalar(sa.select(Enrolment))
        client.post(
            f"/courses/{course.id}/people/{entry.id}/result", data={"result": "completed", "reason": "Was there"}
        )
        assert _completed(session, course) == set()
        assert "This course was cancelled: nobody completes it." in client.get(
            f"/courses/{course.id}/results"
        ).get_data(as_text=True)
        login_as(client, coordinator)
        page = client.get(f"/certificates/courses/{course.id}").get_data(as_text=True)
        assert "This course was cancelled: it leads to no certificate." in page


def test_a_course_without_sessions_ends_with_its_end_date(make_user, session) -> None:
    trainer = make_user("trainer@example.org", roles=[Role.TRAINER])
    with freeze_time(_utc(date(2026, 3, 5), 23, 59)):
        course = session.get(Course, make_course(session, trainer, sessions=0, publish=False).id)
        assert course.end_date == date(2026, 3, 2)
        assert schedule.stage(course) == schedule.Stage.ENDED
    with freeze_time(_utc(date(2026, 3, 2), 23, 59)):
        assert schedule.stage(course) == schedule.Stage.UNDER_WAY and not schedule.has_ended(course)
    with freeze_time(_utc(date(2026, 3, 1), 23, 59)):
        assert schedule.stage(course) == schedule.Stage.NOT_STARTED
