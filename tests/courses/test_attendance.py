"""Attendance for everyone at once, the completion rule, and overrides with reasons."""

import sqlalchemy as sa
from freezegun import freeze_time

from lms.models import Enrolment, Role
from tests.conftest import login_as
from tests.courses.helpers import enrol_all, make_course
from tests.curriculum.helpers import RIGHT, submit_check


def _mark(client, course, sitting, marks):
    return client.post(
        f"/courses/{course.id}/sessions/{sitting.id}/attendance",
        data={f"mark-{person.id}": mark for person, mark in marks.items()},
    )


def _completed(session, course) -> set[int]:
    session.rollback()
    return set(
        session.scalars(
            sa.select(Enrolment.user_id).where(Enrolment.course_id == course.id, Enrolment.completed_at.is_not(None))
        )
    )


@freeze_time("2026-04-01")
def test_attendance_of_80_percent_completes(client, make_user, session) -> None:
    trainer = make_user("trainer@example.org", roles=[Role.TRAINER])
    course = make_course(session, trainer, sessions=5)
    ana, boro, vesna = (make_user(f"{n}@example.org", roles=[Role.TRAINEE]) for n in ("ana", "boro", "vesna"))
    enrol_all(session, course, [ana, boro, vesna], trainer)
    login_as(client, trainer)
    page = client.get(f"/courses/{course.id}/sessions/{course.sessions[0].id}/attendance").get_data(as_text=True)
    assert page.count('type="radio"') == 9
    for index, sitting in enumerate(course.sessions):
        marks = {
            ana: "present",
            boro: "present" if index < 3 else "absent",
            vesna: "excused" if index == 0 else "present",
        }
        assert _mark(client, course, sitting, marks).status_code == 302
    # Ana 5/5, Boro 3/5 = 60%, Vesna 4 of the 4 that counted (one excused).
    assert _completed(session, course) == {ana.id, vesna.id}
    results = client.get(f"/courses/{course.id}/results").get_data(as_text=True)
    assert "5/5 (100%)" in results and "3/5 (60%)" in results and "4/4 (100%)" in results


@freeze_time("2026-04-01")
def test_the_threshold_and_modules_are_part_of_the_rule(app, client, make_user, session) -> None:
    trainer = make_user("trainer@example.org", roles=[Role.TRAINER])
    course = make_course(session, trainer, sessions=2, modules=["first-module"])
    cadet = make_user("cadet@example.org", roles=[Role.TRAINEE])
    enrol_all(session, course, [cadet], trainer)
    login_as(client, trainer)
    for sitting in course.sessions:
        _mark(client, course, sitting, {cadet: "present"})
    assert _completed(session, course) == set()  # the module is not done yet
    learner = app.test_client()
    login_as(learner, cadet)
    submit_check(learner, "first-module", RIGHT)
    assert _completed(session, course) == {cadet.id}
    assert "Completed on" in learner.get(f"/courses/{course.id}").get_data(as_text=True)


@freeze_time("2026-04-01")
def test_a_trainer_overrides_a_result_with_a_reason(client, make_user, session, audit_rows) -> None:
    trainer = make_user("trainer@example.org", name="Nikola Petrović", roles=[Role.TRAINER])
    course = make_course(session, trainer, sessions=2)
    cadet = make_user("cadet@example.org", roles=[Role.TRAINEE])
    enrol_all(session, course, [cadet], trainer)
    login_as(client, trainer)
    entry = session.scalar(sa.select(Enrolment))
    refused = client.post(
        f"/courses/{course.id}/people/{entry.id}/result",
        data={"result": "completed", "reason": ""},
        follow_redirects=True,
    )
    assert "Give the reason" in refused.get_data(as_text=True)
    assert _completed(session, course) == set()
    client.post(
        f"/courses/{course.id}/people/{entry.id}/result",
        data={"result": "completed", "reason": "Attended the make-up session on 20 March"},
    )
    assert _completed(session, course) == {cadet.id}
    session.refresh(entry)
    assert entry.override_by_id == trainer.id and entry.override_at is not None
    page = client.get(f"/courses/{course.id}/results").get_data(as_text=True)
    assert "Decided by Nikola Petrović" in page and "make-up session" in page
    assert len(audit_rows("course.result_overridden")) == 1
    client.post(f"/courses/{course.id}/people/{entry.id}/result", data={"result": "rule", "reason": ""})
    assert _completed(session, course) == set()


def test_attendance_only_for_the_enrolled_and_not_for_cancelled_sessions(client, make_user, session) -> None:
    trainer = make_user("trainer@example.org", roles=[Role.TRAINER])
    course = make_course(session, trainer, sessions=2)
    outsider = make_user("outsider@example.org", roles=[Role.TRAINEE])
    login_as(client, trainer)
    response = _mark(client, course, course.sessions[0], {outsider: "present"})
    assert response.status_code == 400 and "only be recorded for people enrolled" in response.get_data(as_text=True)
    bad = client.post(f"/courses/{course.id}/sessions/{course.sessions[0].id}/attendance", data={"mark-1": "asleep"})
    assert bad.status_code == 400
    client.post(f"/courses/{course.id}/sessions/{course.sessions[1].id}/cancel", data={"reason": "Storm"})
    cancelled = _mark(client, course, course.sessions[1], {})
    assert cancelled.status_code == 400
