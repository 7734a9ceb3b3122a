"""Course certificates only for courses that have ended, never dated in the future."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from freezegun import freeze_time

from lms.certificates import eligibility
from lms.certificates.overview import course_rows
from lms.models import Certificate, Course, Role
from tests.certificates.helpers import completed_course, trainees
from tests.conftest import login_as


def test_a_course_under_way_is_offered_for_no_certificate(app, make_user, session) -> None:
    # Sessions on 2, 3 and 4 March 2026; on the 3rd the course is under way.
    with freeze_time("2026-03-03 12:00"):
        coordinator = make_user("coordinator@example.org", roles={Role.COORDINATOR: None}, country="REG")
        trainer = make_user("trainer@example.org", roles={Role.TRAINER: "RS"})
        people = trainees(make_user, ["Ana Anić", "Boro Borić"])
        # The trainer decided both complete: that takes effect when the course ends.
        course = completed_course(session, trainer, people, title="Course under way")
        assert eligibility.course_achievements(session, session.get(Course, course.id)) == []
        assert [row.course.title for row in course_rows(session, None)] == []
        client = app.test_client()
        login_as(client, coordinator)
        assert "Course under way" not in client.get("/certificates/").get_data(as_text=True)
        client.post(f"/certificates/courses/{course.id}/issue", data={"holders": [people[0].id], "language": ""})
        assert session.scalar(sa.select(sa.func.count()).select_from(Certificate)) == 0

    with freeze_time("2026-03-04 11:00"):  # 12:00 in Belgrade: the last session has ended
        course = session.get(Course, course.id)
        achievements = eligibility.course_achievements(session, course)
        assert [item.holder.full_name for item in achievements] == ["Ana Anić", "Boro Borić"]
        # The days it was held, not the planned end date (the 5th).
        assert {(item.start_date, item.end_date) for item in achievements} == {(date(2026, 3, 2), date(2026, 3, 4))}
        assert [(row.course.title, row.eligible) for row in course_rows(session, None)] == [("Course under way", 2)]
