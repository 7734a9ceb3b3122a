"""Planning courses and sessions: rules, warnings, permissions, cancellations."""

from datetime import date

import sqlalchemy as sa

from lms.audit.service import Action
from lms.models import Country, Course, CourseSession, CourseStatus, Notification, Role
from tests.conftest import login_as
from tests.courses.helpers import enrol_all, make_course


def _form(session, trainer, **overrides):
    data = {
        "title": "Учење о родној равноправности",
        "track_id": "",
        "trainer_ids": [str(trainer.id)],
        "country_id": str(session.scalar(sa.select(Country.id).where(Country.code == "RS"))),
        "host_institution_id": "",
        "mode": "in_person",
        "venue": "Vojna akademija, Beograd",
        "online_link": "",
        "language": "sr-Cyrl",
        "start_date": "2026-03-02",
        "end_date": "2026-03-04",
        "capacity": "25",
        "enrolment_mode": "trainer_only",
        "attendance_threshold": "80",
        "require_modules": "y",
    }
    data.update(overrides)
    return data


def test_a_trainer_plans_a_course_with_the_tracks_modules(client, make_user, session) -> None:
    trainer = make_user("trainer@example.org", roles=[Role.TRAINER])
    login_as(client, trainer)
    from lms.models import Track

    track = session.scalar(sa.select(Track.id).where(Track.slug == "basics"))
    response = client.post("/courses/new", data=_form(session, trainer, track_id=str(track)))
    assert response.status_code == 302
    course = session.scalar(sa.select(Course))
    assert course.title == "Учење о родној равноправности" and course.status == CourseStatus.DRAFT
    assert [link.module.slug for link in course.modules] == ["first-module", "second-module"]
    assert course.trainer_ids == {trainer.id}


def test_saving_a_course_again_keeps_its_chosen_modules(client, make_user, session) -> None:
    """Saving the edit form unchanged, reordered, with a module listed twice, with a module
    removed or another added: one link per module, in the order chosen."""
    from lms.models import Module

    trainer = make_user("trainer@example.org", roles=[Role.TRAINER])
    course = make_course(session, trainer, modules=["first-module", "second-module"])
    ids = {
        slug: str(session.scalar(sa.select(Module.id).where(Module.slug == slug)))
        for slug in ("first-module", "second-module", "third-module")
    }
    login_as(client, trainer)
    for chosen in (
        ["first-module", "second-module"],  # unchanged
        ["first-module", "second-module"],  # unchanged, again
        ["second-module", "second-module", "first-module"],  # reordered, one listed twice
        ["third-module", "second-module"],  # one removed, another added
        ["first-module", "third-module", "second-module"],  # the removed one back
    ):
        data = _form(session, trainer, module_ids=[ids[slug] for slug in chosen])
        response = client.post(f"/courses/{course.id}/edit", data=data)
        assert response.status_code == 302, chosen
        session.rollback()
        session.refresh(course)
        assert [link.module.slug for link in course.modules] == list(dict.fromkeys(chosen))
        assert [link.position for link in course.modules] == list(range(len(course.modules)))


def test_bad_course_input_is_refused_with_a_message(client, make_user, session) -> None:
    trainer = make_user("trainer@example.org", roles=[Role.TRAINER])
    login_as(client, trainer)
    cases = {
        "end_date": ("2026-03-01", "The course cannot end before it starts."),
        "capacity": ("0", "Number must be between 1 and 10000."),
        "start_date": ("", "Enter a date."),
        "online_link": ("javascript:alert(1)", "Enter a web address starting with https://"),
    }
    for field, (value, message) in cases.items():
        response = client.post("/courses/new", data=_form(session, trainer, **{field: value}))
        assert response.status_code == 400, field
        assert message in response.get_data(as_text=True), field
    online = client.post("/courses/new", data=_form(session, trainer, mode="online", venue=""))
    assert "needs its online link" in online.get_data(as_text=True)
    assert session.scalar(sa.select(sa.func.count()).select_from(Course)) == 0


def test_capacity_cannot_go_below_the_number_enrolled(client, make_user, session) -> None:
    trainer = make_user("trainer@example.org", roles=[Role.TRAINER])
    course = make_course(session, trainer)
    enrol_all(session, course, [make_user(roles=[Role.TRAINEE]) for _ in range(3)], trainer)
    login_as(client, trainer)
    response = client.post(f"/courses/{course.id}/edit", data=_form(session, trainer, capacity="2"))
    assert response.status_code == 400
    assert "3 people are already enrolled" in response.get_data(as_text=True)


def test_sessions_warn_about_double_booking_and_dates_and_need_a_date(client, make_user, session) -> None:
    trainer = make_user("trainer@example.org", roles=[Role.TRAINER])
    first = make_course(session, trainer, title="First course")
    second = make_course(session, trainer, title="Second course", start=date(2026, 5, 4), sessions=1)
    login_as(client, trainer)
    clash = {
        "date": "2026-03-02",
        "start_time": "10:00",
        "end_time": "11:30",
        "topic": "Overlap",
        "trainer_id": str(trainer.id),
    }
    response = client.post(f"/courses/{second.id}/sessions/new", data=clash)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "The trainer is already booked then: First course, 09:00–12:00." in page
    assert "falls outside the course dates" in page
    assert session.scalar(sa.select(sa.func.count()).where(CourseSession.course_id == second.id)) == 1
    confirmed = client.post(f"/courses/{second.id}/sessions/new", data={**clash, "confirm": "y"})
    assert confirmed.status_code == 302
    assert session.scalar(sa.select(sa.func.count()).where(CourseSession.course_id == second.id)) == 2
    no_date = client.post(f"/courses/{first.id}/sessions/new", data={**clash, "date": ""})
    assert no_date.status_code == 400 and "Enter a date." in no_date.get_data(as_text=True)
    backwards = client.post(
        f"/courses/{first.id}/sessions/new", data={**clash, "start_time": "12:00", "end_time": "11:00", "confirm": "y"}
    )
    assert "A session must end after it starts." in backwards.get_data(as_text=True)


def test_a_trainer_edits_only_the_courses_they_deliver(client, make_user, session, audit_rows) -> None:
    owner = make_user("owner@example.org", roles=[Role.TRAINER])
    other = make_user("other@example.org", roles=[Role.TRAINER])
    course = make_course(session, owner)
    login_as(client, other)
    assert client.get(f"/courses/{course.id}/edit").status_code == 403
    assert client.post(f"/courses/{course.id}/edit", data=_form(session, other)).status_code == 403
    assert client.get(f"/courses/{course.id}/people").status_code == 403
    assert client.get(f"/courses/{course.id}").status_code == 404
    assert course.title not in client.get("/courses/").get_data(as_text=True)
    assert any(event.subject == f"/courses/{course.id}/edit" for event in audit_rows(Action.ACCESS_DENIED))


def test_coordinators_see_all_courses_of_their_scope(client, make_user, session) -> None:
    trainer = make_user("trainer@example.org", roles=[Role.TRAINER])
    serbian = make_course(session, trainer, title="Serbian course")
    macedonian = make_course(session, trainer, title="Macedonian course", country="MK")
    login_as(client, make_user("k@example.org", roles={Role.COORDINATOR: "MK"}, country="MK"))
    page = client.get("/courses/").get_data(as_text=True)
    assert "Macedonian course" in page and "Serbian course" not in page
    assert client.get(f"/courses/{macedonian.id}/edit").status_code == 200
    assert client.get(f"/courses/{serbian.id}/edit").status_code == 403
    login_as(client, make_user("regional@example.org", roles={Role.COORDINATOR: None}, country="REG"))
    page = client.get("/courses/").get_data(as_text=True)
    assert "Macedonian course" in page and "Serbian course" in page


def test_duplicate_makes_a_draft_copy_without_people(client, make_user, session) -> None:
    trainer = make_user("trainer@example.org", roles=[Role.TRAINER])
    course = make_course(session, trainer)
    enrol_all(session, course, [make_user(roles=[Role.TRAINEE])], trainer)
    login_as(client, trainer)
    response = client.post(f"/courses/{course.id}/duplicate")
    assert response.status_code == 302
    copy = session.scalars(sa.select(Course).order_by(Course.id.desc())).first()
    assert copy.id != course.id and copy.status == CourseStatus.DRAFT
    assert len(copy.sessions) == 3 and copy.trainer_ids == {trainer.id}
    assert copy.title.endswith("(copy)")


def test_publishing_needs_a_session_and_cancelling_tells_everyone(client, make_user, session) -> None:
    trainer = make_user("trainer@example.org", roles=[Role.TRAINER])
    empty = make_course(session, trainer, sessions=0, publish=False)
    login_as(client, trainer)
    client.post(f"/courses/{empty.id}/status", data={"status": "published"})
    session.refresh(empty)
    assert empty.status == CourseStatus.DRAFT
    course = make_course(session, trainer)
    trainees = [make_user(f"t{n}@example.org", roles=[Role.TRAINEE]) for n in range(2)]
    enrol_all(session, course, trainees, trainer)
    client.post(f"/courses/{course.id}/status", data={"status": "cancelled", "reason": ""})
    session.refresh(course)
    assert course.status == CourseStatus.PUBLISHED  # a reason is required
    client.post(f"/courses/{course.id}/status", data={"status": "cancelled", "reason": "Flooding at the barracks"})
    session.refresh(course)
    assert course.status == CourseStatus.CANCELLED
    assert session.scalar(sa.select(sa.func.count()).select_from(Notification)) == 2
    login_as(client, trainees[0])
    dashboard = client.get("/").get_data(as_text=True)
    assert "has been cancelled" in dashboard and "Flooding at the barracks" in dashboard
    notice = session.scalar(sa.select(Notification).where(Notification.user_id == trainees[0].id))
    client.post(f"/account/notices/{notice.id}/dismiss")
    assert "Flooding at the barracks" not in client.get("/").get_data(as_text=True)


def test_cancelling_a_session_tells_the_enrolled(client, make_user, session) -> None:
    trainer = make_user("trainer@example.org", roles=[Role.TRAINER])
    course = make_course(session, trainer)
    trainee = make_user(roles=[Role.TRAINEE])
    enrol_all(session, course, [trainee], trainer)
    sitting = course.sessions[1]
    login_as(client, trainer)
    client.post(f"/courses/{course.id}/sessions/{sitting.id}/cancel", data={"reason": "Exercise moved"})
    session.refresh(sitting)
    assert sitting.is_cancelled and sitting.sequence == 1
    login_as(client, trainee)
    assert "Exercise moved" in client.get("/").get_data(as_text=True)
