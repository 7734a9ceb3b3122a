"""Every URL rule, for every role (anonymous included), against the expected outcome.

The table below is the access policy written down. A route added to the app without an
entry here fails ``test_every_route_has_an_entry``; a route whose behaviour differs from
its entry fails ``test_route_matrix`` for that role.

Outcomes: a status code, or ``LOGIN`` for being sent to the login page first. POST routes are
sent an empty form with a valid CSRF token, so a permitted role reaches the view and
gets its validation answer, while a refused one is stopped before.
"""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from lms.models import Role
from tests.conftest import login_as

LOGIN = "login"
ANON, ADMIN, COORD, TRAINER, COACH, TRAINEE = "anonymous", "admin", "coordinator", "trainer", "coach", "trainee"
ROLES = [ANON, ADMIN, COORD, TRAINER, COACH, TRAINEE]
SIGNED_IN = [ADMIN, COORD, TRAINER, COACH, TRAINEE]


def everyone(outcome: Any) -> dict[str, Any]:
    return dict.fromkeys(ROLES, outcome)


def signed_in(outcome: Any) -> dict[str, Any]:
    return {ANON: LOGIN, **dict.fromkeys(SIGNED_IN, outcome)}


def only(allowed: list[str], outcome: Any) -> dict[str, Any]:
    return {ANON: LOGIN, **{role: outcome if role in allowed else 403 for role in SIGNED_IN}}


def pair_only(outcome: Any) -> dict[str, Any]:
    return {ANON: LOGIN, **{role: outcome if role == COACH else 404 for role in SIGNED_IN}}


STAFF = [ADMIN, COORD]
COURSE_STAFF = [ADMIN, COORD, TRAINER]

# (endpoint, method) -> {role: outcome}; "{person}" in URLs is a trainee of Serbia.
# The home page sends anonymous visitors to the login page without a "next".
EXPECTED: dict[tuple[str, str], dict[str, Any]] = {
    ("dashboard.home", "GET"): {ANON: 302, **dict.fromkeys(SIGNED_IN, 200)},
    ("dashboard.health", "GET"): everyone(200),
    ("auth.login", "GET"): {ANON: 200, **dict.fromkeys(SIGNED_IN, 302)},
    ("auth.login_submit", "POST"): everyone(400),
    ("auth.logout", "POST"): signed_in(302),
    ("auth.change_password", "GET"): signed_in(200),
    ("auth.change_password_submit", "POST"): signed_in(400),
    ("auth.activate", "GET"): everyone(404),
    ("auth.activate_submit", "POST"): everyone(404),
    ("account.profile", "GET"): signed_in(200),
    ("account.language", "POST"): everyone(302),
    # The second factor: asked only half-way through logging in (otherwise back to the login
    # page); set up on one's own account (none set up: nothing to renew or turn off); reset by admins.
    ("auth.second_factor", "GET"): everyone(302),
    ("auth.second_factor_submit", "POST"): everyone(302),
    ("mfa.overview", "GET"): signed_in(200),
    ("mfa.setup_start", "POST"): signed_in(302),
    ("mfa.setup", "GET"): signed_in(200),
    ("mfa.setup_submit", "POST"): signed_in(400),
    ("mfa.renew_codes_submit", "POST"): signed_in(302),
    ("mfa.disable_submit", "POST"): signed_in(302),
    ("mfa.reset_submit", "POST"): only([ADMIN], 302),
    ("people.index", "GET"): only(STAFF, 200),
    ("people.new", "GET"): only(STAFF, 200),
    ("people.new_submit", "POST"): only(STAFF, 400),
    ("people.detail", "GET"): only(STAFF, 200),
    ("people.edit", "GET"): only(STAFF, 200),
    ("people.edit_submit", "POST"): only(STAFF, 400),
    ("people.roles_submit", "POST"): only(STAFF, 302),
    ("people.active_submit", "POST"): only(STAFF, 302),
    ("people.link_submit", "POST"): only(STAFF, 200),
    ("audit.index", "GET"): only([ADMIN], 200),
    ("learn.catalogue", "GET"): signed_in(200),
    ("learn.track", "GET"): signed_in(200),
    ("learn.module", "GET"): signed_in(200),
    ("learn.check_submit", "POST"): signed_in(400),
    ("learn.attempt", "GET"): signed_in(404),
    ("learn.test", "GET"): signed_in(200),
    ("learn.test_submit", "POST"): signed_in(400),
    ("learn.skip_pretest", "POST"): signed_in(302),
    ("learn.progress", "GET"): only([ADMIN, COORD, TRAINER], 200),
    ("learn.learner", "GET"): only([ADMIN, COORD, TRAINER], 200),
    ("learn.allow_attempts", "POST"): only([ADMIN, COORD, TRAINER], 400),
    ("learn.results", "GET"): only([ADMIN, COORD, TRAINER], 200),
    ("learn.analysis", "GET"): only([ADMIN, COORD, TRAINER], 200),
    # The course is delivered by the trainer; coach and trainee are not on it.
    ("courses.index", "GET"): only(COURSE_STAFF, 200),
    ("courses.open_courses", "GET"): signed_in(200),
    ("courses.new", "GET"): only(COURSE_STAFF, 200),
    ("courses.new_submit", "POST"): only(COURSE_STAFF, 400),
    ("courses.detail", "GET"): {**only(COURSE_STAFF, 200), COACH: 404, TRAINEE: 404},
    ("courses.edit", "GET"): only(COURSE_STAFF, 200),
    ("courses.edit_submit", "POST"): only(COURSE_STAFF, 400),
    ("courses.duplicate", "POST"): only(COURSE_STAFF, 302),
    ("courses.status_submit", "POST"): only(COURSE_STAFF, 302),
    ("courses.session_new", "GET"): only(COURSE_STAFF, 200),
    ("courses.session_new_submit", "POST"): only(COURSE_STAFF, 400),
    ("courses.session_edit", "GET"): only(COURSE_STAFF, 200),
    ("courses.session_edit_submit", "POST"): only(COURSE_STAFF, 400),
    ("courses.session_cancel", "POST"): only(COURSE_STAFF, 302),
    ("courses.course_ics", "GET"): only(COURSE_STAFF, 200),
    ("courses.course_feed", "GET"): everyone(404),
    ("courses.course_feed_reset", "POST"): only(COURSE_STAFF, 302),
    ("enrolments.people", "GET"): only(COURSE_STAFF, 200),
    ("enrolments.people_add", "POST"): only(COURSE_STAFF, 302),
    ("enrolments.people_withdraw", "POST"): only(COURSE_STAFF, 302),
    ("enrolments.people_decide", "POST"): only(COURSE_STAFF, 302),
    ("enrolments.join", "POST"): {**only(COURSE_STAFF, 302), COACH: 404, TRAINEE: 404},
    ("enrolments.attendance_form", "GET"): only(COURSE_STAFF, 200),
    ("enrolments.attendance_submit", "POST"): only(COURSE_STAFF, 302),
    ("enrolments.results", "GET"): only(COURSE_STAFF, 200),
    ("enrolments.result_override", "POST"): only(COURSE_STAFF, 302),
    ("rosters.upload", "GET"): only(COURSE_STAFF, 200),
    ("rosters.upload_submit", "POST"): only(COURSE_STAFF, 400),
    ("rosters.confirm", "POST"): only(COURSE_STAFF, 302),
    ("rosters.template", "GET"): only(COURSE_STAFF, 200),
    ("rosters.export", "GET"): only(COURSE_STAFF, 200),
    ("calendar.agenda", "GET"): signed_in(200),
    ("calendar.reset_feed", "POST"): signed_in(302),
    ("calendar.feed", "GET"): everyone(404),
    ("network.directory", "GET"): signed_in(200),
    ("network.profile", "GET"): only([TRAINER], 200),
    ("network.profile_submit", "POST"): only([TRAINER], 302),
    ("account.dismiss_notice", "POST"): signed_in(404),  # the notice is someone else's
    # Coaching: the pairing is the coach's with a commander who is none of the actors. Its
    # record is the pair's alone: everyone else, administrators included, gets 404.
    ("coaching.home", "GET"): signed_in(200),
    ("coaching.programme", "GET"): only(STAFF, 200),
    ("coaching.pairing_new", "GET"): only(STAFF, 200),
    ("coaching.pairing_new_submit", "POST"): only(STAFF, 400),
    ("coaching.pairing_end", "POST"): only(STAFF, 302),
    ("coaching.pairing", "GET"): pair_only(200),
    ("coaching.goal_add", "POST"): pair_only(302),
    ("coaching.goal_review", "POST"): pair_only(302),
    ("coaching.session_new", "GET"): pair_only(200),
    ("coaching.session_new_submit", "POST"): pair_only(400),
    ("coaching.session_detail", "GET"): pair_only(200),
    ("coaching.session_edit", "GET"): pair_only(200),
    ("coaching.session_edit_submit", "POST"): pair_only(400),
    ("coaching.note_save", "POST"): pair_only(302),
    ("coaching.action_add", "POST"): pair_only(302),
    ("coaching.action_status", "POST"): pair_only(302),
    ("coaching.export", "GET"): pair_only(200),
    # Certificates: coordinators and admins manage them; the holder downloads their own;
    # verification is public. The print job is the coordinator's (admins see all jobs).
    ("certificates.index", "GET"): only(STAFF, 200),
    ("certificates.course", "GET"): only(STAFF, 200),
    ("certificates.course_issue", "POST"): only(STAFF, 400),
    ("certificates.course_print", "POST"): only(STAFF, 302),
    ("certificates.track", "GET"): only(STAFF, 200),
    ("certificates.track_issue", "POST"): only(STAFF, 400),
    ("certificates.coaching", "GET"): only(STAFF, 200),
    ("certificates.coaching_issue", "POST"): only(STAFF, 400),
    ("certificates.detail", "GET"): only(STAFF, 200),
    ("certificates.reissue", "POST"): only(STAFF, 302),
    ("certificates.revoke", "POST"): only(STAFF, 302),
    ("certificates.download", "GET"): only(STAFF, 200),
    ("certificates.job", "GET"): only(STAFF, 200),
    ("certificates.job_status", "GET"): only(STAFF, 200),
    ("certificates.job_download", "GET"): only(STAFF, 404),  # not printed yet
    ("certificates.signatories", "GET"): only(STAFF, 200),
    ("certificates.signatory_add", "POST"): only(STAFF, 400),
    ("certificates.signatory_remove", "POST"): only(STAFF, 302),
    ("certificates.mine", "GET"): signed_in(200),
    ("certificates.mine_download", "GET"): {
        ANON: LOGIN,
        **{role: 200 if role == TRAINEE else 404 for role in SIGNED_IN},
    },
    # Reports: coordinators and admins see their countries, trainers their own courses.
    ("reports.dashboard", "GET"): only(COURSE_STAFF, 200),
    ("reports.people", "GET"): only(COURSE_STAFF, 200),
    ("reports.export", "GET"): only(COURSE_STAFF, 200),
    ("reports.people_export", "GET"): only(STAFF, 200),
    ("reports.hr_report", "GET"): only(COURSE_STAFF, 200),
    ("reports.hr_export", "GET"): only(COURSE_STAFF, 200),
    ("verify.form", "GET"): everyone(200),
    ("verify.certificate", "GET"): everyone(200),
}

# "{attempt}" is a knowledge-check attempt of the target person: nobody else may see it.
URL_ARGS = {
    "person_id": "{person}",
    "user_id": "{person}",
    "token": "not-a-real-token",
    "attempt_id": "{attempt}",
    "phase": "pre",
    "course_id": "{course}",
    "session_id": "{session}",
    "enrolment_id": "{enrolment}",
    "notice_id": "{notice}",
    "pairing_id": "{pairing}",
    "goal_id": "{goal}",
    "action_id": "{action}",
    "kind": "csv",
    "certificate_id": "{certificate}",
    "job_id": "{job}",
    "signatory_id": "{signatory}",
    "track_id": "{track}",
    "code": "{code}",
    "fmt": "csv",
}
SLUGS = {
    "learn.track": "basics",
    "learn.test": "basics",
    "learn.test_submit": "basics",
    "learn.skip_pretest": "basics",
    "learn.results": "basics",
    "learn.analysis": "basics",
    "learn.allow_attempts": "first-module",
}


def _routes(app: Any) -> list[tuple[str, str, Any]]:
    routes = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            routes.append((rule.endpoint, method, rule))
    return routes


def test_every_route_has_an_entry(app: Any) -> None:
    found = {(endpoint, method) for endpoint, method, _ in _routes(app)}
    missing = found - set(EXPECTED)
    stale = set(EXPECTED) - found
    assert not missing, f"routes with no entry in the access matrix: {sorted(missing)}"
    assert not stale, f"entries for routes that no longer exist: {sorted(stale)}"


def _actors(make_user: Any) -> dict[str, Any]:
    return {
        ADMIN: make_user("admin@example.org", roles=[Role.ADMIN], country="REG"),
        COORD: make_user("coordinator@example.org", roles={Role.COORDINATOR: None}, country="REG"),
        TRAINER: make_user("trainer@example.org", roles={Role.TRAINER: None}),
        COACH: make_user("coach@example.org", roles=[Role.COACH]),
        TRAINEE: make_user("trainee@example.org", roles=[Role.TRAINEE]),
    }


def _course(app: Any, trainer: Any, trainee: Any) -> dict[str, int]:
    """A published course delivered by ``trainer`` with ``trainee`` enrolled and notified; its
    session has been held, so that attendance can be recorded."""
    from datetime import date, time

    from lms import db
    from lms.courses import enrolment, service
    from lms.models import Country, CourseMode, CourseStatus, EnrolmentMode, Notification, User

    with app.app_context(), db.new_session() as session:
        trainer = session.get(User, trainer.id)
        rs = session.scalar(sa.select(Country.id).where(Country.code == "RS"))
        data = service.CourseData(
            title="Gender perspective in planning", country_id=rs, mode=CourseMode.IN_PERSON, language="sr-Latn",
            start_date=date(2026, 3, 2), end_date=date(2026, 3, 4), capacity=20,
            enrolment_mode=EnrolmentMode.TRAINER_ONLY, trainer_ids=[trainer.id], venue="Military Academy, Belgrade",
        )  # fmt: skip
        course = service.create_course(session, data, actor=trainer)
        sitting = service.save_session(
            session,
            course,
            service.SessionData(date(2026, 3, 2), time(9), time(12), "UNSCR 1325", trainer.id),
            actor=trainer,
        )
        service.change_status(session, course, CourseStatus.PUBLISHED, actor=trainer)
        enrolled = enrolment.enrol(session, course, session.get(User, trainee.id), actor=trainer)
        notice = Notification(user_id=trainee.id, kind="course_cancelled", course_id=course.id)
        session.add(notice)
        session.commit()
        return {"course": course.id, "session": sitting.id, "enrolment": enrolled.id, "notice": notice.id}


def _coaching(app: Any, coach: Any, commander: Any) -> dict[str, int]:
    """A pairing of ``coach`` with ``commander``, with a goal, a held session and an action item."""
    from datetime import date

    from lms import db
    from lms.coaching import service
    from lms.models import ActionOwner, CoachingLevel, CoachingSessionStatus, SessionFormat, User

    with app.app_context(), db.new_session() as session:
        coach = session.get(User, coach.id)
        pairing = service.create_pairing(
            session,
            service.PairingData(coach.id, commander.id, CoachingLevel.BASIC, date(2026, 1, 1), date(2026, 12, 31)),
            actor=None,
        )
        goal = service.add_goal(
            session, pairing, "Gender in the training plan", "Plan approved", date(2026, 12, 1), actor=coach
        )
        sitting = service.save_session(
            session, pairing,
            service.SessionData(date(2026, 2, 1), 90, SessionFormat.IN_PERSON, CoachingSessionStatus.HELD, [], "Summary"),
            actor=coach,
        )  # fmt: skip
        action = service.add_action(
            session, sitting, "Talk to the S3", ActionOwner.COMMANDER, date(2026, 3, 1), actor=coach
        )
        session.commit()
        return {"pairing": pairing.id, "goal": goal.id, "action": action.id, "coaching_session": sitting.id}


def _certificates(app: Any, holder: Any, coordinator: Any, course_id: int) -> dict[str, Any]:
    """A certificate of ``holder`` for the course, a print job of ``coordinator``, a signatory."""
    from lms import db
    from lms.certificates import eligibility, jobs, service
    from lms.models import Course, PrintFormat, Signatory, Track, User

    with app.app_context(), db.new_session() as session:
        course = session.get(Course, course_id)
        achievement = eligibility.Achievement(
            kind=eligibility.AchievementKind.COURSE, key=eligibility.course_key(course.id),
            holder=session.get(User, holder.id), title=course.title, minutes=180, start_date=course.start_date,
            end_date=course.end_date, country_id=course.country_id, issuers=[eligibility.NETWORK], course_id=course.id,
        )  # fmt: skip
        (certificate,) = service.issue(session, [achievement], actor=None)
        job = jobs.queue(
            session, title="Print", certificate_ids=[certificate.id], fmt=PrintFormat.PDF,
            actor=session.get(User, coordinator.id),
        )  # fmt: skip
        signatory = Signatory(name="Ana Anić", function="Head of the Gender Equality Office")
        session.add(signatory)
        session.commit()
        track = session.scalar(sa.select(Track.id).where(Track.slug == "basics"))
        return {
            "certificate": certificate.id,
            "job": job.id,
            "signatory": signatory.id,
            "track": track,
            "code": certificate.current.code,
        }


def _attempt_of(app: Any, person: Any) -> int:
    """A knowledge-check attempt by ``person``, submitted as they would."""
    from tests.curriculum.helpers import WRONG, submit_check

    client = app.test_client()
    login_as(client, person)
    response = submit_check(client, "first-module", WRONG)
    return int(response.headers["Location"].rsplit("/", 1)[1])


def _outcome(response: Any) -> Any:
    # Being sent to log in carries the page asked for; logging out lands on the plain page.
    if response.status_code == 302 and response.headers["Location"].startswith("/auth/login?next="):
        return LOGIN
    return response.status_code


@pytest.mark.parametrize("role", ROLES)
def test_route_matrix(app: Any, make_user: Any, role: str) -> None:
    actors = _actors(make_user)
    attempt_id = _attempt_of(app, make_user(roles=[Role.TRAINEE]))
    course = _course(app, actors[TRAINER], make_user(roles=[Role.TRAINEE]))
    course.update(_coaching(app, actors[COACH], make_user(roles=[Role.TRAINEE])))
    course.update(_certificates(app, actors[TRAINEE], actors[COORD], course["course"]))
    mismatches = []
    for endpoint, method, rule in _routes(app):
        # A fresh target each time: one route's change (say, disabling) must not decide another's outcome.
        target = make_user(roles=[Role.TRAINEE], password=False)
        client = app.test_client()
        if role != ANON:
            login_as(client, actors[role])
        args = {
            name: URL_ARGS[name].format(person=target.id, attempt=attempt_id, **course)
            for name in rule.arguments
            if name != "slug"
        }
        if endpoint.startswith("coaching.session") and "session_id" in rule.arguments:
            args["session_id"] = str(course["coaching_session"])
        if "slug" in rule.arguments:
            args["slug"] = SLUGS.get(endpoint, "first-module")
        url = app.url_map.bind("localhost").build(endpoint, args)
        response = client.post(url, data={}) if method == "POST" else client.get(url)
        expected = EXPECTED[(endpoint, method)][role]
        if _outcome(response) != expected:
            mismatches.append(f"{method} {url} as {role}: expected {expected}, got {_outcome(response)}")
    assert not mismatches, "\n".join(mismatches)


def test_a_view_without_a_policy_is_refused_to_everyone(app: Any, make_user: Any, audit_rows: Any) -> None:
    @app.get("/forgotten")
    def forgotten() -> str:  # no @policy: deny by default
        return "secret"

    admin = make_user("admin@example.org", roles=[Role.ADMIN])
    client = app.test_client()
    assert client.get("/forgotten").status_code == 403
    login_as(client, admin)
    assert client.get("/forgotten").status_code == 403
    assert [event.subject for event in audit_rows("access.denied")] == ["/forgotten", "/forgotten"]
