"""The directory of the network's trainers, with the people who completed their courses by sex."""

import sqlalchemy as sa
from freezegun import freeze_time

from lms.courses import attendance, service
from lms.models import Course, CourseStatus, Enrolment, Role, Sex
from tests.conftest import login_as
from tests.courses.helpers import enrol_all, make_course


@freeze_time("2026-04-01")
def test_directory_lists_trainers_their_courses_and_people_trained_by_sex(client, make_user, session) -> None:
    trainer = make_user("trainer@example.org", name="Nikola Petrović", roles=[Role.TRAINER])
    course = make_course(session, trainer, sessions=1)
    people = [make_user(roles=[Role.TRAINEE], sex=sex) for sex in (Sex.FEMALE, Sex.FEMALE, Sex.MALE, Sex.NOT_RECORDED)]
    enrol_all(session, course, people, trainer)
    course = session.get(Course, course.id)
    service.change_status(session, course, CourseStatus.IN_PROGRESS, actor=None)
    attendance.record_attendance(
        session, course.sessions[0], {p.id: "present" for p in people[:3]} | {people[3].id: "absent"}, actor=None
    )
    session.commit()
    login_as(client, trainer)
    client.post(
        "/network/profile", data={"languages": ["sr-Latn", "en"], "topics": "UNSCR 1325; bystander intervention"}
    )
    page = client.get("/network/").get_data(as_text=True)
    assert "Nikola Petrović" in page and "UNSCR 1325; bystander intervention" in page
    assert "Srpski (latinica)" in page
    assert "3 (Female: 2 · Male: 1 · Not recorded: 0)" in page
    assert session.scalar(sa.select(sa.func.count()).where(Enrolment.completed_at.is_not(None))) == 3
    assert client.post("/network/profile", data={"languages": ["xx"]}).status_code == 400
