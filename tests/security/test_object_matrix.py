"""Authorization over objects: every route that takes an id, every kind of actor, and
objects inside and outside the actor's scope.

``test_route_matrix.py`` asks "may this role call this route at all?". This file asks the
next question, the one attackers ask: "may *this* coordinator act on *that* person, course,
certificate or pairing?". The world has a second administrator (recorded in North
Macedonia), a coordinator for the region and one each for North Macedonia and Serbia, a
Serbian trainer, people, courses, certificates, print jobs, signatories and pairings in
two countries.

The tables below are written out by hand, actor by actor: they are the rule as people
read it ("coordinators never manage administrators or other coordinators, nobody manages
themselves through the people pages"), not a copy of the code. Where a role may use a
route, an object it may act on gives that role's outcome from the route matrix and any
other object gives 404. A route that takes an id and is missing from these tables fails
``test_every_route_with_an_id_is_in_the_object_matrix``: a new route that acts on a
person must state its rule here, and then meets it or fails.
"""

from __future__ import annotations

from datetime import date, time
from typing import Any

import pytest
import sqlalchemy as sa

from lms import db
from lms.models import Role
from tests.conftest import login_as
from tests.security.test_route_matrix import ADMIN, COACH, COORD, EXPECTED, LOGIN, TRAINEE, TRAINER, URL_ARGS

# --- Who the actors are ---------------------------------------------------------------------

# actor name -> (role column of the route matrix, roles, country)
ACTORS: dict[str, tuple[str, dict[Role, str | None], str]] = {
    "admin": (ADMIN, {Role.ADMIN: None}, "REG"),
    "coordinator_region": (COORD, {Role.COORDINATOR: None}, "REG"),
    "coordinator_mk": (COORD, {Role.COORDINATOR: "MK"}, "MK"),
    "coordinator_rs": (COORD, {Role.COORDINATOR: "RS"}, "RS"),
    "trainer_rs": (TRAINER, {Role.TRAINER: "RS"}, "RS"),
    "coach": (COACH, {Role.COACH: None}, "MK"),
    "trainee_rs": (TRAINEE, {Role.TRAINEE: None}, "RS"),
}

# --- Whom they may act on -------------------------------------------------------------------

# People are made fresh for every request (one route's change must not decide another's):
# a trainee of Serbia and one of North Macedonia, a second administrator and a country
# coordinator (both recorded in North Macedonia), and the actor themselves.
PERSON_TARGETS: dict[str, tuple[dict[Role, str | None], str]] = {
    "trainee_rs": ({Role.TRAINEE: None}, "RS"),
    "trainee_mk": ({Role.TRAINEE: None}, "MK"),
    "admin_mk": ({Role.ADMIN: None}, "MK"),
    "coordinator_mk": ({Role.COORDINATOR: "MK"}, "MK"),
    "self": ({}, ""),
}
EVERYONE = set(PERSON_TARGETS)

# Managing a person: their record, roles, login and password links.
MANAGES: dict[str, set[str]] = {
    "admin": {"trainee_rs", "trainee_mk", "admin_mk", "coordinator_mk"},
    "coordinator_region": {"trainee_rs", "trainee_mk"},
    "coordinator_mk": {"trainee_mk"},
    "coordinator_rs": {"trainee_rs"},
    "trainer_rs": set(),
    "coach": set(),
    "trainee_rs": set(),
}
# Reaching a person: following their learning, enrolling, pairing (a person's own
# progress page is theirs to see).
REACHES: dict[str, set[str]] = {
    "admin": EVERYONE,
    "coordinator_region": EVERYONE,
    "coordinator_mk": {"trainee_mk", "admin_mk", "coordinator_mk", "self"},
    "coordinator_rs": {"trainee_rs", "self"},
    "trainer_rs": {"trainee_rs", "self"},
    "coach": set(),
    "trainee_rs": set(),
}

# Objects that exist once per world, in Serbia ("rs") and North Macedonia ("mk").
COURSES = {  # and their sessions, enrolments, rosters, results, certificate pages
    "admin": {"rs", "mk"},
    "coordinator_region": {"rs", "mk"},
    "coordinator_mk": {"mk"},
    "coordinator_rs": {"rs"},
    "trainer_rs": {"rs"},  # the course they deliver
    "coach": set(),
    "trainee_rs": set(),
}
COURSE_VIEWERS = COURSES | {"trainee_rs": {"rs"}}  # the course they are enrolled in
CERTIFICATES = {key: value for key, value in COURSES.items() if key != "trainer_rs"} | {"trainer_rs": set()}
SIGNATORIES = CERTIFICATES
JOBS = {  # a print job is its coordinator's; administrators see all
    "admin": {"rs", "mk"},
    "coordinator_region": set(),
    "coordinator_mk": {"mk"},
    "coordinator_rs": {"rs"},
    "trainer_rs": set(),
    "coach": set(),
    "trainee_rs": set(),
}
HELD_CERTIFICATES = {actor: {"rs"} if actor == "trainee_rs" else set() for actor in ACTORS}  # the holder's own
PAIRINGS_AS_COORDINATOR = CERTIFICATES  # by the commander's country
PAIRINGS_AS_COACH = {actor: {"rs", "mk"} if actor == "coach" else set() for actor in ACTORS}  # the pair's own record
OWN = {actor: {"own"} for actor in ACTORS}  # attempts and notices: only their owner's

# (endpoint, method) -> (object kind, table). Kinds name the URL arguments they fill.
OBJECT_ROUTES: dict[tuple[str, str], tuple[str, dict[str, set[str]]]] = {
    ("people.detail", "GET"): ("person", MANAGES),
    ("people.edit", "GET"): ("person", MANAGES),
    ("people.edit_submit", "POST"): ("person", MANAGES),
    ("people.roles_submit", "POST"): ("person", MANAGES),
    ("people.active_submit", "POST"): ("person", MANAGES),
    ("people.link_submit", "POST"): ("person", MANAGES),
    ("mfa.reset_submit", "POST"): ("person", MANAGES),
    ("learn.learner", "GET"): ("person", REACHES),
    ("learn.allow_attempts", "POST"): ("person", REACHES),
    ("courses.detail", "GET"): ("course", COURSE_VIEWERS),
    ("courses.edit", "GET"): ("course", COURSES),
    ("courses.edit_submit", "POST"): ("course", COURSES),
    ("courses.duplicate", "POST"): ("course", COURSES),
    ("courses.status_submit", "POST"): ("course", COURSES),
    ("courses.session_new", "GET"): ("course", COURSES),
    ("courses.session_new_submit", "POST"): ("course", COURSES),
    ("courses.session_edit", "GET"): ("course", COURSES),
    ("courses.session_edit_submit", "POST"): ("course", COURSES),
    ("courses.session_cancel", "POST"): ("course", COURSES),
    ("courses.course_ics", "GET"): ("course", COURSES),
    ("courses.course_feed_reset", "POST"): ("course", COURSES),
    ("enrolments.people", "GET"): ("course", COURSES),
    ("enrolments.people_add", "POST"): ("course", COURSES),
    ("enrolments.people_withdraw", "POST"): ("course", COURSES),
    ("enrolments.people_decide", "POST"): ("course", COURSES),
    ("enrolments.attendance_form", "GET"): ("course", COURSES),
    ("enrolments.attendance_submit", "POST"): ("course", COURSES),
    ("enrolments.results", "GET"): ("course", COURSES),
    ("enrolments.result_override", "POST"): ("course", COURSES),
    ("enrolments.join", "POST"): ("course", COURSE_VIEWERS),
    ("rosters.upload", "GET"): ("course", COURSES),
    ("rosters.upload_submit", "POST"): ("course", COURSES),
    ("rosters.confirm", "POST"): ("course", COURSES),
    ("rosters.export", "GET"): ("course", COURSES),
    ("certificates.course", "GET"): ("course", CERTIFICATES),
    ("certificates.course_issue", "POST"): ("course", CERTIFICATES),
    ("certificates.course_print", "POST"): ("course", CERTIFICATES),
    ("certificates.detail", "GET"): ("certificate", CERTIFICATES),
    ("certificates.download", "GET"): ("certificate", CERTIFICATES),
    ("certificates.reissue", "POST"): ("certificate", CERTIFICATES),
    ("certificates.revoke", "POST"): ("certificate", CERTIFICATES),
    ("certificates.mine_download", "GET"): ("certificate", HELD_CERTIFICATES),
    ("certificates.job", "GET"): ("job", JOBS),
    ("certificates.job_status", "GET"): ("job", JOBS),
    ("certificates.job_download", "GET"): ("job", JOBS),
    ("certificates.signatory_remove", "POST"): ("signatory", SIGNATORIES),
    ("coaching.pairing_end", "POST"): ("pairing", PAIRINGS_AS_COORDINATOR),
    ("coaching.pairing", "GET"): ("pairing", PAIRINGS_AS_COACH),
    ("coaching.export", "GET"): ("pairing", PAIRINGS_AS_COACH),
    ("coaching.goal_add", "POST"): ("pairing", PAIRINGS_AS_COACH),
    ("coaching.goal_review", "POST"): ("pairing", PAIRINGS_AS_COACH),
    ("coaching.session_new", "GET"): ("pairing", PAIRINGS_AS_COACH),
    ("coaching.session_new_submit", "POST"): ("pairing", PAIRINGS_AS_COACH),
    ("coaching.session_detail", "GET"): ("pairing", PAIRINGS_AS_COACH),
    ("coaching.session_edit", "GET"): ("pairing", PAIRINGS_AS_COACH),
    ("coaching.session_edit_submit", "POST"): ("pairing", PAIRINGS_AS_COACH),
    ("coaching.note_save", "POST"): ("pairing", PAIRINGS_AS_COACH),
    ("coaching.action_add", "POST"): ("pairing", PAIRINGS_AS_COACH),
    ("coaching.action_status", "POST"): ("pairing", PAIRINGS_AS_COACH),
    ("learn.attempt", "GET"): ("owned", OWN),
    ("account.dismiss_notice", "POST"): ("owned", OWN),
}
# Routes whose ids need no scope: the curriculum is shared, and secret tokens or public
# codes are their own authorization (tested in their own areas).
NOT_SCOPED = {
    ("certificates.track", "GET"),
    ("certificates.track_issue", "POST"),
    ("auth.activate", "GET"),
    ("auth.activate_submit", "POST"),
    ("verify.certificate", "GET"),
    ("calendar.feed", "GET"),
    ("courses.course_feed", "GET"),
}
# Refusals are 404, so that a guessed id tells nothing, except on courses: they are listed
# in the trainers' network, so a course one does not manage is refused with 403.
SEEN_COURSE_ROUTES = {("courses.detail", "GET"), ("enrolments.join", "POST")}


def _refusal(endpoint: str, method: str, kind: str) -> int:
    managing = kind == "course" and not endpoint.startswith("certificates.")
    return 403 if managing and (endpoint, method) not in SEEN_COURSE_ROUTES else 404


# Allowed, and still 404: the print job has not been printed yet.
NOT_FOUND_WHEN_ALLOWED = {("certificates.job_download", "GET")}
ID_ARGUMENTS = {"person_id", "user_id", "course_id", "session_id", "enrolment_id", "certificate_id", "job_id"} | {
    "signatory_id", "pairing_id", "goal_id", "action_id", "attempt_id", "notice_id", "track_id", "token", "code",
}  # fmt: skip


def _routes(app: Any) -> list[tuple[str, str, Any]]:
    return [
        (rule.endpoint, method, rule)
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static"
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"})
    ]


def _unlisted(app: Any) -> set[tuple[str, str]]:
    with_ids = {(endpoint, method) for endpoint, method, rule in _routes(app) if rule.arguments & ID_ARGUMENTS}
    return with_ids - set(OBJECT_ROUTES) - NOT_SCOPED


def test_every_route_with_an_id_is_in_the_object_matrix(app: Any) -> None:
    missing = _unlisted(app)
    assert not missing, f"routes taking an id with no rule in the object matrix: {sorted(missing)}"
    routes = {(endpoint, method) for endpoint, method, _rule in _routes(app)}
    assert set(OBJECT_ROUTES) <= routes, "entries for routes that no longer exist"


def test_a_new_route_acting_on_a_person_is_caught(app: Any) -> None:
    """A route added without a rule here is reported, so it must be given one (and then
    the matrix tries it on people outside the actor's scope)."""
    from lms.access import STAFF_MANAGERS, policy

    @app.post("/people/<int:person_id>/nickname")
    @policy(STAFF_MANAGERS)
    def nickname(person_id: int) -> str:
        return "changed"

    assert _unlisted(app) == {("nickname", "POST")}


# --- The world ------------------------------------------------------------------------------


def _world(app: Any, make_user: Any, actors: dict[str, Any]) -> dict[str, dict[str, int]]:
    """Courses, certificates, jobs, signatories and pairings in Serbia and North Macedonia."""
    from lms.certificates import eligibility, jobs
    from lms.certificates import service as certificates
    from lms.coaching import service as coaching
    from lms.courses import enrolment
    from lms.courses import service as courses
    from lms.models import (
        ActionOwner,
        CoachingLevel,
        CoachingSessionStatus,
        Country,
        CourseMode,
        CourseStatus,
        EnrolmentMode,
        PrintFormat,
        SessionFormat,
        Signatory,
        User,
    )  # fmt: skip

    trainer_mk = make_user("trainer.mk@example.org", roles={Role.TRAINER: "MK"}, country="MK")
    trainers = {"rs": actors["trainer_rs"], "mk": trainer_mk}
    coordinators = {"rs": actors["coordinator_rs"], "mk": actors["coordinator_mk"]}
    learners = {"rs": actors["trainee_rs"], "mk": make_user(roles=[Role.TRAINEE], country="MK")}
    commanders = {code: make_user(roles=[Role.TRAINEE], country=code.upper()) for code in ("rs", "mk")}
    world: dict[str, dict[str, int]] = {}
    with app.app_context(), db.new_session() as session:
        for code in ("rs", "mk"):
            trainer = session.get(User, trainers[code].id)
            country = session.scalar(sa.select(Country.id).where(Country.code == code.upper()))
            course = courses.create_course(
                session,
                courses.CourseData(
                    title=f"Gender perspective in planning ({code})", country_id=country, mode=CourseMode.IN_PERSON,
                    language="en", start_date=date(2030, 3, 2), end_date=date(2030, 3, 4), capacity=20,
                    enrolment_mode=EnrolmentMode.TRAINER_ONLY, trainer_ids=[trainer.id], venue="Training centre",
                ),
                actor=trainer,
            )  # fmt: skip
            sitting = courses.save_session(
                session, course, courses.SessionData(date(2030, 3, 2), time(9), time(12), "UNSCR 1325", trainer.id),
                actor=trainer,
            )  # fmt: skip
            courses.change_status(session, course, CourseStatus.PUBLISHED, actor=trainer)
            enrolled = enrolment.enrol(session, course, session.get(User, learners[code].id), actor=None)
            achievement = eligibility.Achievement(
                kind=eligibility.AchievementKind.COURSE, key=eligibility.course_key(course.id),
                holder=session.get(User, learners[code].id), title=course.title, minutes=180,
                start_date=course.start_date, end_date=course.end_date, country_id=course.country_id,
                issuers=[eligibility.NETWORK], course_id=course.id,
            )  # fmt: skip
            (certificate,) = certificates.issue(session, [achievement], actor=None)
            job = jobs.queue(
                session, title="Print", certificate_ids=[certificate.id], fmt=PrintFormat.PDF,
                actor=session.get(User, coordinators[code].id),
            )  # fmt: skip
            signatory = Signatory(name="Ana Anić", function="Head of the Gender Equality Office", country_id=country)
            session.add(signatory)
            pairing = coaching.create_pairing(
                session,
                coaching.PairingData(
                    actors["coach"].id, commanders[code].id, CoachingLevel.BASIC, date(2026, 1, 1), date(2026, 12, 31)
                ),
                actor=None,
            )
            coach = session.get(User, actors["coach"].id)
            goal = coaching.add_goal(session, pairing, "Gender in the plan", "Approved", date(2026, 12, 1), actor=coach)
            coaching_session = coaching.save_session(
                session, pairing,
                coaching.SessionData(date(2026, 2, 1), 90, SessionFormat.IN_PERSON, CoachingSessionStatus.HELD, [], "-"),
                actor=coach,
            )  # fmt: skip
            action = coaching.add_action(
                session, coaching_session, "Talk to the S3", ActionOwner.COMMANDER, date(2026, 3, 1), actor=coach
            )
            session.flush()
            world[code] = {
                "course_id": course.id, "session_id": sitting.id, "enrolment_id": enrolled.id,
                "certificate_id": certificate.id, "job_id": job.id, "signatory_id": signatory.id,
                "pairing_id": pairing.id, "goal_id": goal.id, "action_id": action.id,
                "coaching_session_id": coaching_session.id,
            }  # fmt: skip
        session.commit()
    return world


def _owned_objects(app: Any, make_user: Any, actor: Any, world: dict[str, dict[str, int]]) -> None:
    """An attempt and a notice of the actor's own, and of someone else."""
    from lms.models import Notification
    from tests.curriculum.helpers import WRONG, submit_check

    other = make_user(roles=[Role.TRAINEE])
    for key, owner in (("own", actor), ("other", other)):
        client = app.test_client()
        login_as(client, owner)
        response = submit_check(client, "first-module", WRONG)
        attempt = int(response.headers["Location"].rsplit("/", 1)[1])
        with app.app_context(), db.new_session() as session:
            notice = Notification(user_id=owner.id, kind="course_cancelled", course_id=world["rs"]["course_id"])
            session.add(notice)
            session.commit()
            world[key] = {"attempt_id": attempt, "notice_id": notice.id}


def _outcome(response: Any) -> Any:
    if response.status_code == 302 and response.headers["Location"].startswith("/auth/login?next="):
        return LOGIN
    return response.status_code


def _denials(app: Any) -> int:
    from lms.audit.service import Action
    from lms.models import AuditEvent

    with app.app_context(), db.new_session() as session:
        return session.scalar(sa.select(sa.func.count()).where(AuditEvent.action == Action.ACCESS_DENIED)) or 0


def _mismatches(
    app: Any,
    make_user: Any,
    actor_name: str,
    object_routes: dict[tuple[str, str], tuple[str, dict[str, set[str]]]],
    by_role_table: dict[tuple[str, str], dict[str, Any]],
) -> tuple[int, list[str]]:
    """Try every route of ``object_routes`` as ``actor_name`` on every object; returns how
    many requests were made and what differed from the tables."""
    role = ACTORS[actor_name][0]
    actors = {
        name: make_user(f"{name}@example.org", roles=actor_roles, country=actor_country)
        for name, (_role, actor_roles, actor_country) in ACTORS.items()
    }
    actor = actors[actor_name]
    world = _world(app, make_user, actors)
    _owned_objects(app, make_user, actor, world)
    client = app.test_client()
    login_as(client, actor)
    adapter = app.url_map.bind("localhost")
    mismatches = []
    checked = 0
    for endpoint, method, rule in _routes(app):
        if (endpoint, method) not in object_routes:
            continue
        kind, table = object_routes[(endpoint, method)]
        by_role = by_role_table[(endpoint, method)][role]
        for key, args in _objects(kind, endpoint, rule, world, make_user, actor):
            url = adapter.build(endpoint, args)
            before = _denials(app)
            response = client.post(url, data={}) if method == "POST" else client.get(url)
            audited = _denials(app) - before
            outcome = _outcome(response)
            checked += 1
            if by_role in (403, LOGIN):  # the role may not use the route at all
                expected, ok = by_role, outcome == by_role
            elif key in table[actor_name]:
                expected = "the view's own answer, not refused"
                ok = not audited and outcome != 403 and (outcome != 404 or (endpoint, method) in NOT_FOUND_WHEN_ALLOWED)
            else:
                expected = f"{_refusal(endpoint, method, kind)}, audited"
                ok = outcome == _refusal(endpoint, method, kind) and audited == 1
            if not ok:
                mismatches.append(f"{method} {url} on {key} as {actor_name}: expected {expected}, got {outcome}")
    return checked, mismatches


@pytest.mark.parametrize("actor_name", list(ACTORS))
def test_object_matrix(app: Any, make_user: Any, actor_name: str) -> None:
    """Each object the actor may act on reaches the view (no refusal, nothing audited as
    refused); each other object is refused with its route's status and one audit row."""
    checked, mismatches = _mismatches(app, make_user, actor_name, OBJECT_ROUTES, EXPECTED)
    assert checked == 149  # 9 person routes on 5 people, 52 others on 2 objects each
    assert not mismatches, "\n".join(mismatches)


def test_the_matrix_fails_a_route_that_loads_a_person_without_the_rule(app: Any, make_user: Any) -> None:
    """A route that acts on a person loaded without the scope rule fails the matrix."""
    from lms.access import STAFF_MANAGERS, policy
    from lms.models import User

    @app.get("/people/<int:person_id>/careless")
    @policy(STAFF_MANAGERS)
    def careless(person_id: int) -> str:
        with db.new_session() as session:
            return session.get(User, person_id).full_name  # no scope rule

    _checked, mismatches = _mismatches(
        app,
        make_user,
        "coordinator_mk",
        {("careless", "GET"): ("person", MANAGES)},
        {("careless", "GET"): {COORD: 200}},
    )
    refused_people = {"trainee_rs", "admin_mk", "coordinator_mk", "self"}
    assert {line.split(" on ")[1].split(" as ")[0] for line in mismatches} == refused_people


def _objects(
    kind: str, endpoint: str, rule: Any, world: dict[str, dict[str, int]], make_user: Any, actor: Any
) -> list[tuple[str, dict[str, Any]]]:
    """(object key, URL arguments) for each object of ``kind`` the route is tried on."""
    if kind == "person":
        found = []
        for key, (roles, country) in PERSON_TARGETS.items():
            target = actor if key == "self" else make_user(roles=roles, country=country, password=False)
            args = {name: target.id for name in rule.arguments if name in {"person_id", "user_id"}}
            found.append((key, args | ({"slug": "first-module"} if "slug" in rule.arguments else {})))
        return found
    keys = ("own", "other") if kind == "owned" else ("rs", "mk")
    found = []
    for key in keys:
        objects = dict(world[key])
        if endpoint.startswith("coaching.session") or endpoint in {"coaching.note_save", "coaching.action_add"}:
            objects["session_id"] = objects["coaching_session_id"]
        found.append((key, {name: objects.get(name, URL_ARGS.get(name)) for name in rule.arguments}))
    return found
