"""Enrolment within capacity, the waitlist, requests to join, and concurrent submits."""

import threading
from datetime import date

import sqlalchemy as sa

from lms import db
from lms.courses import enrolment
from lms.models import Course, Enrolment, EnrolmentMode, EnrolmentStatus, Role, User
from tests.conftest import login_as
from tests.courses.helpers import enrol_all, make_course


def _statuses(session, course):
    session.rollback()
    rows = session.execute(
        sa.select(User.email, Enrolment.status)
        .join(User, User.id == Enrolment.user_id)
        .where(Enrolment.course_id == course.id)
    )
    return dict(rows.tuples().all())


def test_search_and_add_one_by_one_with_a_waitlist(client, make_user, session) -> None:
    trainer = make_user("trainer@example.org", roles=[Role.TRAINER])
    course = make_course(session, trainer, capacity=1)
    make_user("ana@example.org", name="Ana Đurić", password=False)
    make_user("boris@example.org", name="Борис Јанковић", password=False)
    login_as(client, trainer)
    found = client.get(f"/courses/{course.id}/people", query_string={"q": "djuric"}).get_data(as_text=True)
    assert "Ana Đurić" in found and "Борис Јанковић" not in found
    ana = session.scalar(sa.select(User).where(User.email == "ana@example.org"))
    boris = session.scalar(sa.select(User).where(User.email == "boris@example.org"))
    client.post(f"/courses/{course.id}/people", data={"user_id": ana.id})
    client.post(f"/courses/{course.id}/people", data={"user_id": boris.id})
    assert _statuses(session, course) == {"ana@example.org": "enrolled", "boris@example.org": "waitlisted"}
    # Adding the same person again changes nothing.
    again = client.post(f"/courses/{course.id}/people", data={"user_id": ana.id}, follow_redirects=True)
    assert "already on this course" in again.get_data(as_text=True)
    # A place frees: the first person waiting moves up.
    entry = session.scalar(sa.select(Enrolment).where(Enrolment.user_id == ana.id))
    client.post(f"/courses/{course.id}/people/{entry.id}/withdraw")
    assert _statuses(session, course) == {"ana@example.org": "withdrawn", "boris@example.org": "enrolled"}
    assert client.post(f"/courses/{course.id}/people", data={"user_id": "abc"}).status_code == 302


def test_raising_the_capacity_promotes_the_waitlist(app, make_user, session) -> None:
    trainer = make_user("trainer@example.org", roles=[Role.TRAINER])
    course = make_course(session, trainer, capacity=1)
    people = [make_user(f"p{n}@example.org", roles=[Role.TRAINEE]) for n in range(3)]
    enrol_all(session, course, people, trainer)
    course = session.get(Course, course.id)
    course.capacity = 3
    enrolment.promote_waitlist(session, course)
    session.commit()
    assert set(_statuses(session, course).values()) == {"enrolled"}


def test_open_courses_take_requests_the_trainer_decides(client, make_user, session) -> None:
    trainer = make_user("trainer@example.org", roles=[Role.TRAINER])
    course = make_course(session, trainer, enrolment_mode=EnrolmentMode.OPEN_WITH_APPROVAL, start=date(2027, 3, 1))
    closed = make_course(session, trainer, title="Closed course")
    cadet = make_user("cadet@example.org", roles=[Role.TRAINEE], country="RS")
    login_as(client, cadet)
    assert course.title in client.get("/courses/open").get_data(as_text=True)
    assert client.get(f"/courses/{closed.id}").status_code == 404
    client.post(f"/courses/{course.id}/join")
    assert _statuses(session, course) == {"cadet@example.org": "requested"}
    login_as(client, trainer)
    entry = session.scalar(sa.select(Enrolment).where(Enrolment.course_id == course.id))
    client.post(f"/courses/{course.id}/people/{entry.id}/decide", data={"decision": "approve"})
    assert _statuses(session, course) == {"cadet@example.org": "enrolled"}
    login_as(client, cadet)
    assert course.title in client.get("/").get_data(as_text=True)


def test_two_concurrent_submits_make_one_enrolment(app, make_user, session) -> None:
    trainer_id = make_user("trainer@example.org", roles=[Role.TRAINER]).id
    course = make_course(session, make_user("t2@example.org", roles=[Role.TRAINER]), capacity=5)
    course_id, person_id = course.id, make_user("p@example.org", roles=[Role.TRAINEE]).id
    session.rollback()
    start, errors = threading.Barrier(8), []

    def add() -> None:
        with app.app_context(), db.new_session() as own:
            start.wait()
            try:
                enrolment.enrol(
                    own, own.get(Course, course_id), own.get(User, person_id), actor=own.get(User, trainer_id)
                )
                own.commit()
            except enrolment.CourseError:
                own.rollback()
            except Exception as error:
                errors.append(error)

    threads = [threading.Thread(target=add) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert session.scalar(sa.select(sa.func.count()).select_from(Enrolment)) == 1


def test_the_last_place_goes_to_one_person_only(app, make_user, session) -> None:
    trainer = make_user("trainer@example.org", roles=[Role.TRAINER])
    course = make_course(session, trainer, capacity=3)
    people = [make_user(f"p{n}@example.org", roles=[Role.TRAINEE]).id for n in range(12)]
    course_id, trainer_id = course.id, trainer.id
    session.rollback()
    start, errors = threading.Barrier(len(people)), []

    def add(person_id: int) -> None:
        with app.app_context(), db.new_session() as own:
            start.wait()
            try:
                enrolment.enrol(
                    own, own.get(Course, course_id), own.get(User, person_id), actor=own.get(User, trainer_id)
                )
                own.commit()
            except Exception as error:
                errors.append(error)

    threads = [threading.Thread(target=add, args=(person,)) for person in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    counts = dict(
        session.execute(
            sa.select(Enrolment.status, sa.func.count())
            .where(Enrolment.course_id == course_id)
            .group_by(Enrolment.status)
        )
        .tuples()
        .all()
    )
    assert counts == {EnrolmentStatus.ENROLLED: 3, EnrolmentStatus.WAITLISTED: 9}


def test_the_database_refuses_a_second_enrolment(app, make_user, session) -> None:
    import pytest
    from sqlalchemy.exc import IntegrityError

    trainer = make_user("trainer@example.org", roles=[Role.TRAINER])
    course = make_course(session, trainer)
    person = make_user(roles=[Role.TRAINEE])
    enrol_all(session, course, [person], trainer)
    with app.extensions["lms.engine"].connect() as connection, pytest.raises(IntegrityError):
        connection.execute(
            sa.insert(Enrolment).values(
                course_id=course.id,
                user_id=person.id,
                status="enrolled",
                created_at=db.utcnow(),
                updated_at=db.utcnow(),
            )
        )


def test_a_country_trainer_finds_only_their_countrys_people(client, make_user, session) -> None:
    trainer = make_user("trainer@example.org", roles={Role.TRAINER: "RS"})
    course = make_course(session, trainer)
    make_user("serbian@example.org", name="Ana Serbian", country="RS", password=False)
    make_user("montenegrin@example.org", name="Ana Montenegrin", country="ME", password=False)
    login_as(client, trainer)
    page = client.get(f"/courses/{course.id}/people", query_string={"q": "ana"}).get_data(as_text=True)
    assert "Ana Serbian" in page and "Ana Montenegrin" not in page
