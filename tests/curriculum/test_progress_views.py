"""Trainers and coordinators follow learners' progress, within their scope."""

from lms.audit.service import Action
from lms.models import Role
from tests.conftest import login_as
from tests.curriculum.helpers import RIGHT, WRONG, submit_check


def _learner(app, make_user, name: str, country: str):
    person = make_user(name=name, roles=[Role.TRAINEE], country=country)
    browser = app.test_client()
    login_as(browser, person)
    submit_check(browser, "first-module", WRONG)
    submit_check(browser, "first-module", RIGHT)
    return person


def test_a_trainer_sees_each_trainees_progress(app, client, make_user) -> None:
    person = _learner(app, make_user, "Јелена Ђокић", "BA")
    login_as(client, make_user("trainer@example.org", roles={Role.TRAINER: None}))
    page = client.get("/learn/progress").get_data(as_text=True)
    assert "Јелена Ђокић" in page and "1/2" in page
    detail = client.get(f"/learn/progress/{person.id}").get_data(as_text=True)
    assert "First Module" in detail and "version 1" in detail and "100%" in detail


def test_scope_limits_what_staff_see(app, client, make_user, audit_rows) -> None:
    serbian = _learner(app, make_user, "Милош Николић", "RS")
    _learner(app, make_user, "Горан Стојановски", "MK")
    login_as(client, make_user("trainer.mk@example.org", roles={Role.TRAINER: "MK"}, country="MK"))
    page = client.get("/learn/progress").get_data(as_text=True)
    assert "Горан Стојановски" in page and "Милош Николић" not in page
    assert client.get(f"/learn/progress/{serbian.id}").status_code == 404
    assert any(event.subject == f"/learn/progress/{serbian.id}" for event in audit_rows(Action.ACCESS_DENIED))


def test_trainees_cannot_see_others_progress(client, make_user) -> None:
    login_as(client, make_user(roles=[Role.TRAINEE]))
    assert client.get("/learn/progress").status_code == 403
