"""The attacks of issue 10, each reproduced: who may act on whom.

Every test below was, before the scope rule, a way for a coordinator to take over an
administrator, or to reach people of another country. Each now does no harm: the request
is refused (and audited) and the database is as it was.
"""

from __future__ import annotations

import ast
import io
import re
from datetime import date
from pathlib import Path

import sqlalchemy as sa

from lms.config import ROOT
from lms.models import AccountToken, CourseTrainer, Enrolment, EnrolmentMode, EnrolmentStatus, Role, RoleGrant, User
from tests.conftest import country_id, login_as
from tests.courses.helpers import make_course


def _snapshot(session, person: User) -> tuple:
    session.rollback()
    fresh = session.get(User, person.id)
    session.refresh(fresh)
    grants = sorted((grant.role, grant.country_id) for grant in fresh.role_grants)
    tokens = session.scalar(sa.select(sa.func.count()).where(AccountToken.user_id == person.id))
    return fresh.email, fresh.is_active, fresh.password_hash, fresh.session_nonce, grants, tokens


def _roles(session, person: User) -> set[Role]:
    session.rollback()
    return set(session.scalars(sa.select(RoleGrant.role).where(RoleGrant.user_id == person.id)))


def _try_every_people_action(client, person: User, session) -> list[int]:
    target = f"/people/{person.id}"
    form = {"full_name": "Taken Over", "email": "mine@example.org", "country_id": person.country_id, "sex": "female"}
    return [
        client.get(target).status_code,
        client.get(f"{target}/edit").status_code,
        client.post(f"{target}/edit", data=form).status_code,
        client.post(f"{target}/roles", data={}).status_code,
        client.post(f"{target}/active", data={"active": "0"}).status_code,
        client.post(f"{target}/link", data={}).status_code,
    ]


def test_a_regional_coordinator_cannot_take_over_an_administrator(client, make_user, session, audit_rows) -> None:
    admin = make_user("admin@example.org", roles=[Role.ADMIN], country="REG")
    coordinator = make_user("coordinator@example.org", roles={Role.COORDINATOR: None}, country="REG")
    before = _snapshot(session, admin)
    login_as(client, coordinator)
    assert _try_every_people_action(client, admin, session) == [404] * 6
    assert _snapshot(session, admin) == before  # no email change, still enabled, no password link
    assert len(audit_rows("access.denied")) == 6
    # The list still shows the administrator, but not as someone the coordinator manages.
    page = client.get("/people/?q=admin").get_data(as_text=True)
    assert f'href="/people/{admin.id}"' not in page and "Managed by an administrator" in page


def test_a_country_coordinator_cannot_manage_an_administrator_of_their_country(client, make_user, session) -> None:
    admin = make_user("admin.mk@example.org", roles=[Role.ADMIN], country="MK")
    coordinator = make_user("coordinator.mk@example.org", roles={Role.COORDINATOR: "MK"}, country="MK")
    before = _snapshot(session, admin)
    login_as(client, coordinator)
    assert _try_every_people_action(client, admin, session) == [404] * 6
    assert _snapshot(session, admin) == before


def test_coordinators_do_not_manage_each_other_nor_themselves(client, make_user, session) -> None:
    regional = make_user("coordinator@example.org", roles={Role.COORDINATOR: None}, country="REG")
    serbia = make_user("coordinator.rs@example.org", roles={Role.COORDINATOR: "RS"}, country="RS")
    login_as(client, regional)
    assert _try_every_people_action(client, serbia, session) == [404] * 6
    assert _try_every_people_action(client, regional, session) == [404] * 6
    login_as(client, serbia)
    assert _try_every_people_action(client, serbia, session) == [404] * 6


def test_only_administrators_manage_administrators(client, make_user, session) -> None:
    admin = make_user("admin@example.org", roles=[Role.ADMIN], country="REG")
    second = make_user("admin.mk@example.org", roles=[Role.ADMIN], country="MK")
    login_as(client, admin)
    assert client.get(f"/people/{second.id}").status_code == 200
    assert client.post(f"/people/{second.id}/link", data={}).status_code == 200
    # ...but not themselves through the people pages: their own account page is for that.
    assert client.get(f"/people/{admin.id}").status_code == 404


def test_a_coordinator_still_manages_trainees_trainers_and_coaches_of_their_country(client, make_user, session) -> None:
    coordinator = make_user("coordinator.mk@example.org", roles={Role.COORDINATOR: "MK"}, country="MK")
    trainer = make_user(roles={Role.TRAINER: "MK"}, country="MK")
    regional_trainer = make_user(roles={Role.TRAINER: None}, country="MK")
    login_as(client, coordinator)
    assert client.get(f"/people/{trainer.id}").status_code == 200
    response = client.post(
        f"/people/{trainer.id}/roles",
        data={"role_trainer": "y", "scope_trainer": country_id(session, "MK"), "role_coach": "y"},
    )
    assert response.status_code == 302
    assert _snapshot(session, trainer)[4] == sorted([(Role.COACH, None), (Role.TRAINER, country_id(session, "MK"))])
    # A regional trainer holds a role the country coordinator could not grant.
    assert client.get(f"/people/{regional_trainer.id}").status_code == 404


def _mk_course(make_user, session, **kwargs):
    trainer = make_user("trainer.mk@example.org", roles={Role.TRAINER: "MK"}, country="MK")
    return make_course(session, trainer, country="MK", **kwargs)


def test_enrolling_by_id_stays_within_the_coordinators_country(client, make_user, session, audit_rows) -> None:
    course = _mk_course(make_user, session)
    coordinator = make_user("coordinator.mk@example.org", roles={Role.COORDINATOR: "MK"}, country="MK")
    serbian = make_user(
        "milica@example.org", name="Милица Петровић", roles=[Role.TRAINEE], country="RS", password=False
    )
    macedonian = make_user("ana@example.org", roles=[Role.TRAINEE], country="MK", password=False)
    login_as(client, coordinator)
    assert client.post(f"/courses/{course.id}/people", data={"user_id": serbian.id}).status_code == 404
    assert audit_rows("access.denied")[-1].target_id == str(serbian.id)
    session.rollback()
    assert session.scalar(sa.select(Enrolment).where(Enrolment.user_id == serbian.id)) is None
    people = client.get(f"/courses/{course.id}/people").get_data(as_text=True)
    export = client.get(f"/courses/{course.id}/people.csv").get_data(as_text=True)
    assert "milica@example.org" not in people and "milica@example.org" not in export
    # The search that fills the picker does not offer the Serbian person either.
    assert "milica@example.org" not in client.get(f"/courses/{course.id}/people?q=Милица").get_data(as_text=True)
    assert "ana@example.org" in client.get(f"/courses/{course.id}/people?q=ana").get_data(as_text=True)
    assert client.post(f"/courses/{course.id}/people", data={"user_id": macedonian.id}).status_code == 302
    session.rollback()
    assert (
        session.scalar(sa.select(Enrolment.status).where(Enrolment.user_id == macedonian.id))
        == EnrolmentStatus.ENROLLED
    )


def test_enrolment_never_gives_staff_the_trainee_role(client, make_user, session) -> None:
    admin = make_user("admin@example.org", roles=[Role.ADMIN], country="REG")
    coordinator = make_user("coordinator@example.org", roles={Role.COORDINATOR: None}, country="REG")
    plain = make_user(roles=[], country="MK", password=False)
    course = _mk_course(make_user, session)
    login_as(client, coordinator)
    for person in (admin, plain):
        assert client.post(f"/courses/{course.id}/people", data={"user_id": person.id}).status_code == 302
    session.rollback()
    assert _roles(session, admin) == {Role.ADMIN}
    assert _roles(session, plain) == {Role.TRAINEE}
    assert session.scalar(sa.select(sa.func.count()).where(Enrolment.course_id == course.id)) == 2


def test_a_join_request_from_outside_the_trainers_country_is_not_approved(client, make_user, session) -> None:
    # A regional course, delivered by a trainer of North Macedonia.
    trainer = make_user("trainer.mk@example.org", roles={Role.TRAINER: "MK"}, country="MK")
    regional = make_user("trainer@example.org", roles={Role.TRAINER: None}, country="MK")
    course = make_course(
        session, regional, country="REG", enrolment_mode=EnrolmentMode.OPEN_WITH_APPROVAL, start=date(2030, 3, 4)
    )
    session.add(CourseTrainer(course_id=course.id, user_id=trainer.id))
    session.commit()
    serbian = make_user("milica@example.org", roles=[Role.TRAINEE], country="RS")
    login_as(client, serbian)
    assert client.post(f"/courses/{course.id}/join", data={}).status_code == 302
    session.rollback()
    request = session.scalar(sa.select(Enrolment).where(Enrolment.user_id == serbian.id))
    assert request.status == EnrolmentStatus.REQUESTED
    login_as(client, trainer)
    response = client.post(
        f"/courses/{course.id}/people/{request.id}/decide", data={"decision": "approve"}, follow_redirects=True
    )
    assert "outside the countries you work with" in response.get_data(as_text=True)
    session.rollback()
    assert session.get(Enrolment, request.id).status == EnrolmentStatus.REQUESTED


# --- Rosters -------------------------------------------------------------------------------

HEADER = "full_name,email,sex,country,institution,category,rank\n"


def _upload(client, course, text: str):
    data = {"roster": (io.BytesIO(text.encode()), "roster.csv")}
    return client.post(f"/courses/{course.id}/import", data=data, content_type="multipart/form-data")


def _row_messages(html: str) -> list[str]:
    return [re.sub(r"\s+", " ", item) for item in re.findall(r'<ul class="problems">(.*?)</ul>', html, re.S)]


def test_a_roster_cannot_reach_people_outside_the_importers_country(client, make_user, session) -> None:
    course = _mk_course(make_user, session)
    coordinator = make_user("coordinator.mk@example.org", roles={Role.COORDINATOR: "MK"}, country="MK")
    make_user("registered.rs@example.org", roles=[Role.TRAINEE], country="RS", password=False)
    make_user("admin@example.org", roles=[Role.ADMIN], country="RS", password=False)
    people_before = session.scalar(sa.select(sa.func.count()).select_from(User))
    login_as(client, coordinator)
    # The same answer for a registered and an unregistered person of Serbia...
    registered = _upload(client, course, HEADER + "Jovan Jovanović,registered.rs@example.org,male,RS,,,\n")
    unregistered = _upload(client, course, HEADER + "Jovan Jovanović,nobody.rs@example.org,male,RS,,,\n")
    assert _row_messages(registered.get_data(as_text=True)) == _row_messages(unregistered.get_data(as_text=True))
    assert "outside the countries you work with" in _row_messages(registered.get_data(as_text=True))[0]
    # ...and a registered person of Serbia or an administrator is not matched through a
    # row that claims North Macedonia.
    claimed = _upload(
        client,
        course,
        HEADER + "Jovan Jovanović,registered.rs@example.org,male,MK,,,\nAdmin,admin@example.org,male,MK,,,\n",
    )
    messages = _row_messages(claimed.get_data(as_text=True))
    assert len(messages) == 2 and all("outside the countries you work with" in message for message in messages)
    assert "Already registered" not in claimed.get_data(as_text=True)
    session.rollback()
    assert session.scalar(sa.select(sa.func.count()).select_from(Enrolment)) == 0
    assert session.scalar(sa.select(sa.func.count()).select_from(User)) == people_before


def test_a_roster_within_the_country_imports_and_leaves_staff_roles_alone(client, make_user, session) -> None:
    course = _mk_course(make_user, session)
    coordinator = make_user("coordinator.mk@example.org", roles={Role.COORDINATOR: "MK"}, country="MK")
    coach = make_user("coach.mk@example.org", roles=[Role.COACH], country="MK", password=False)
    login_as(client, coordinator)
    preview = _upload(
        client,
        course,
        HEADER + "Ana Stojanovska,new.mk@example.org,female,MK,,,\nCoach,coach.mk@example.org,male,MK,,,\n",
    )
    page = preview.get_data(as_text=True)
    assert "Already registered" in page and not _row_messages(page)
    import_id = re.search(r'name="import_id" type="hidden" value="(\d+)"', page).group(1)
    assert client.post(f"/courses/{course.id}/import/confirm", data={"import_id": import_id}).status_code == 302
    session.rollback()
    new = session.scalar(sa.select(User).where(User.email == "new.mk@example.org"))
    assert _roles(session, new) == {Role.TRAINEE}
    assert _roles(session, coach) == {Role.COACH}
    assert session.scalar(sa.select(sa.func.count()).where(Enrolment.course_id == course.id)) == 2


def test_pairing_stays_within_the_coordinators_country(client, make_user, session) -> None:
    coordinator = make_user("coordinator.mk@example.org", roles={Role.COORDINATOR: "MK"}, country="MK")
    coach = make_user("coach@example.org", roles=[Role.COACH], country="MK")
    serbian = make_user(roles=[Role.TRAINEE], country="RS")
    login_as(client, coordinator)
    form = {
        "coach_id": coach.id, "commander_id": serbian.id, "level": "basic", "start_date": "2026-01-05",
        "end_date": "2026-07-05", "planned_sessions": 6, "min_sessions": 5,
    }  # fmt: skip
    assert client.post("/coaching/pairings/new", data=form).status_code == 400
    from lms.models import CoachingPairing

    session.rollback()
    assert session.scalar(sa.select(sa.func.count()).select_from(CoachingPairing)) == 0


def test_a_learners_progress_is_only_seen_within_reach(client, make_user, session) -> None:
    trainer = make_user("trainer.mk@example.org", roles={Role.TRAINER: "MK"}, country="MK")
    serbian = make_user(roles=[Role.TRAINEE], country="RS")
    macedonian = make_user(roles=[Role.TRAINEE], country="MK")
    login_as(client, trainer)
    assert client.get(f"/learn/progress/{serbian.id}").status_code == 404
    assert client.get(f"/learn/progress/{macedonian.id}").status_code == 200


# --- The loaders are the only way ------------------------------------------------------------

# Loading a person by id outside these is a defect: a view or service that acts on someone
# else obtains them through the loaders of lms/people/service.py, which apply the rule.
ALLOWED = {
    "lms/people/service.py": "the loaders themselves",
    "lms/auth/sessions.py": "the signed-in person, from their own session",
    "lms/courses/calendar.py": "the owner of a secret feed address, checked against its token",
    "lms/auth/views.py": "the person half-way through signing in, from their own signed session",
}


def _loads_a_user_by_id(node: ast.AST) -> bool:
    if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
        return False
    # session.get(User, ...)
    if node.func.attr == "get" and node.args and isinstance(node.args[0], ast.Name) and node.args[0].id == "User":
        return True
    # select(User).where(User.id == ...)
    if node.func.attr == "where":
        for argument in node.args:
            if (
                isinstance(argument, ast.Compare)
                and isinstance(argument.left, ast.Attribute)
                and argument.left.attr == "id"
                and isinstance(argument.left.value, ast.Name)
                and argument.left.value.id == "User"
            ):
                return True
    return False


def test_people_are_loaded_only_through_the_scope_loaders() -> None:
    offenders = []
    for path in sorted((ROOT / "lms").rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        if relative in ALLOWED or Path(relative).name.startswith("demo"):
            continue  # the demo data is the system itself, acting on nobody's behalf
        tree = ast.parse(path.read_text(encoding="utf-8"))
        offenders += [f"{relative}:{node.lineno}" for node in ast.walk(tree) if _loads_a_user_by_id(node)]
    assert not offenders, "a person loaded by id without the scope rule: " + ", ".join(offenders)


def test_the_loader_check_finds_a_plain_lookup() -> None:
    """The check above is not vacuous: it recognises both forms of lookup."""
    samples = ["session.get(User, person_id)", "sa.select(User).where(User.id == person_id)"]
    assert all(any(_loads_a_user_by_id(node) for node in ast.walk(ast.parse(sample))) for sample in samples)
    assert not any(_loads_a_user_by_id(node) for node in ast.walk(ast.parse("session.get(Course, 1)")))
