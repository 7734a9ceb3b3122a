"""The Gender Coach Programme: pairings, the record, confidentiality, completion, figures."""

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from lms import db
from lms.audit.service import Action
from lms.coaching import service
from lms.models import (
    ActionItem,
    Category,
    CoachingNote,
    CoachingPairing,
    CoachingSession,
    PairingStatus,
    Role,
    Sex,
)
from tests.conftest import login_as

TODAY = date.today()
SECRET_NOTE = "He still thinks the harassment complaint was exaggerated."
SUMMARY = "Discussed how the brigade's annual training plan can include a gender perspective."


@pytest.fixture
def people(make_user):
    return {
        "coordinator": make_user("coordinator@example.org", roles={Role.COORDINATOR: None}, country="REG"),
        "admin": make_user("admin@example.org", roles=[Role.ADMIN], country="REG"),
        "coach": make_user("coach@example.org", roles=[Role.COACH], country="MK"),
        "commander": make_user(
            "commander@example.org", roles=[Role.TRAINEE], category=Category.COMMANDER, country="BA", sex=Sex.MALE
        ),
        "other_coach": make_user("coach2@example.org", roles=[Role.COACH]),
        "other_commander": make_user("commander2@example.org", roles=[Role.TRAINEE], category=Category.COMMANDER),
        "trainee": make_user("cadet@example.org", roles=[Role.TRAINEE]),
        "trainer": make_user("trainer@example.org", roles=[Role.TRAINER]),
    }


def _pair(client, people, commander="commander", coach="coach", level="basic", **extra):
    login_as(client, people["coordinator"])
    data = {
        "coach_id": people[coach].id,
        "commander_id": people[commander].id,
        "level": level,
        "start_date": (TODAY - timedelta(days=200)).isoformat(),
        "end_date": (TODAY + timedelta(days=30)).isoformat(),
        "planned_sessions": "6",
        "min_sessions": "5",
        **extra,
    }
    return client.post("/coaching/pairings/new", data=data)


def _pairing(session, commander) -> CoachingPairing:
    session.rollback()
    return session.scalars(
        sa.select(CoachingPairing)
        .where(CoachingPairing.commander_id == commander.id)
        .order_by(CoachingPairing.id.desc())
    ).first()


def _log_session(client, people, pairing, *, days_ago=30, status="held"):
    login_as(client, people["coach"])
    response = client.post(
        f"/coaching/pairings/{pairing.id}/sessions/new",
        data={"date": (TODAY - timedelta(days=days_ago)).isoformat(), "duration_minutes": "90", "format": "in_person",
              "status": status, "topics": ["stereotypes", "own_area"], "summary": SUMMARY},
    )  # fmt: skip
    assert response.status_code == 302, response.get_data(as_text=True).replace("&#39;", "'")[:500]
    return int(response.headers["Location"].rsplit("/", 1)[1])


def test_the_done_when_story(app, client, people, session, audit_rows) -> None:
    assert _pair(client, people).status_code == 302
    pairing = _pairing(session, people["commander"])
    session_id = _log_session(client, people, pairing)
    client.post(f"/coaching/sessions/{session_id}/note", data={"text": SECRET_NOTE})
    for description in ("Ask the S3 to add a gender objective to the training plan", "Review last year's complaints"):
        client.post(
            f"/coaching/sessions/{session_id}/actions",
            data={
                "description": description,
                "owner": "commander",
                "due_date": (TODAY + timedelta(days=20)).isoformat(),
            },
        )
    coach_view = client.get(f"/coaching/sessions/{session_id}").get_data(as_text=True).replace("&#39;", "'")
    assert SECRET_NOTE in coach_view and SUMMARY in coach_view

    login_as(client, people["commander"])
    commander_view = client.get(f"/coaching/sessions/{session_id}").get_data(as_text=True).replace("&#39;", "'")
    assert SUMMARY in commander_view and "Ask the S3" in commander_view and "Review last year" in commander_view
    assert SECRET_NOTE not in commander_view and "private note" not in commander_view.lower()
    home = client.get("/coaching/").get_data(as_text=True).replace("&#39;", "'")
    assert "My coach: Test Person" in home and "Ask the S3" in home

    for role in ("coordinator", "admin"):
        login_as(client, people[role])
        figures = client.get("/coaching/programme").get_data(as_text=True).replace("&#39;", "'")
        assert "1 / 6" in figures and "1.5" in figures  # one session of 6 planned, 1.5 hours
        assert SUMMARY not in figures and SECRET_NOTE not in figures and "Ask the S3" not in figures
        assert client.get(f"/coaching/sessions/{session_id}").status_code == 404
        assert client.get(f"/coaching/pairings/{pairing.id}").status_code == 404

    denied = [e for e in audit_rows(Action.ACCESS_DENIED) if e.subject == f"/coaching/sessions/{session_id}"]
    assert {e.actor_email for e in denied} == {"coordinator@example.org", "admin@example.org"}


RECORDS = ["pairing", "session", "session_edit", "export"]


@pytest.mark.parametrize(
    "reader",
    ["anonymous", "coordinator", "admin", "other_coach", "other_commander", "trainee", "trainer", "coach", "commander"],
)
def test_confidentiality_matrix(app, client, people, session, reader) -> None:
    _pair(client, people)
    pairing = _pairing(session, people["commander"])
    session_id = _log_session(client, people, pairing)
    client.post(f"/coaching/sessions/{session_id}/note", data={"text": SECRET_NOTE})
    urls = {
        "pairing": f"/coaching/pairings/{pairing.id}",
        "session": f"/coaching/sessions/{session_id}",
        "session_edit": f"/coaching/sessions/{session_id}/edit",
        "export": f"/coaching/pairings/{pairing.id}/record.csv",
    }
    expected = {
        "anonymous": dict.fromkeys(RECORDS, "login"),
        "coach": dict.fromkeys(RECORDS, 200),
        "commander": {"pairing": 200, "session": 200, "session_edit": 403, "export": 200},
    }.get(reader, dict.fromkeys(RECORDS, 404))
    browser = app.test_client()
    if reader != "anonymous":
        login_as(browser, people[reader])
    for kind, url in urls.items():
        response = browser.get(url)
        outcome = (
            "login"
            if response.status_code == 302 and "/auth/login" in response.headers["Location"]
            else response.status_code
        )
        assert outcome == expected[kind], (reader, kind)
        body = response.get_data(as_text=True).replace("&#39;", "'")
        # The note reaches its author's page and nobody else's, exports included.
        assert (SECRET_NOTE in body) == (reader == "coach" and kind == "session"), (reader, kind)
    # Writing to the record: only the coach (the commander may tick their action items).
    note_post = browser.post(f"/coaching/sessions/{session_id}/note", data={"text": "overwritten"})
    assert note_post.status_code in ({"coach": 302, "commander": 403, "anonymous": 302}.get(reader, 404),)
    session.expire_all()
    note = session.scalar(sa.select(CoachingNote.text))
    assert note == ("overwritten" if reader == "coach" else SECRET_NOTE)


def test_ids_of_another_pairs_records_are_404_and_audited(app, client, people, session, audit_rows) -> None:
    _pair(client, people)
    _pair(client, people, commander="other_commander", coach="other_coach")
    mine, theirs = _pairing(session, people["commander"]), _pairing(session, people["other_commander"])
    login_as(client, people["other_coach"])
    their_session = (
        client.post(
            f"/coaching/pairings/{theirs.id}/sessions/new",
            data={
                "date": TODAY.isoformat(),
                "duration_minutes": "60",
                "format": "online",
                "status": "held",
                "summary": "theirs",
            },
        )
        .headers["Location"]
        .rsplit("/", 1)[1]
    )
    login_as(client, people["coach"])
    for url in [
        f"/coaching/pairings/{theirs.id}",
        f"/coaching/sessions/{their_session}",
        f"/coaching/pairings/{theirs.id}/record.csv",
    ]:
        assert client.get(url).status_code == 404, url
    assert client.post(f"/coaching/pairings/{theirs.id}/sessions/new", data={}).status_code == 404
    assert client.get(f"/coaching/pairings/{mine.id}").status_code == 200
    denied = [e for e in audit_rows(Action.ACCESS_DENIED) if e.actor_email == "coach@example.org"]
    assert len(denied) == 4


def test_bad_input_is_refused_and_nothing_written(client, people, session) -> None:
    _pair(client, people)
    pairing = _pairing(session, people["commander"])
    login_as(client, people["coach"])
    base = {"date": TODAY.isoformat(), "format": "in_person", "status": "held", "summary": "x"}
    for minutes in ("-30", "0", "5000", "abc"):
        response = client.post(
            f"/coaching/pairings/{pairing.id}/sessions/new", data={**base, "duration_minutes": minutes}
        )
        assert response.status_code == 400, minutes
    future = client.post(
        f"/coaching/pairings/{pairing.id}/sessions/new",
        data={**base, "duration_minutes": "60", "date": (TODAY + timedelta(days=3)).isoformat()},
    )
    assert "cannot have been held yet" in future.get_data(as_text=True).replace("&#39;", "'")
    assert session.scalar(sa.select(sa.func.count()).select_from(CoachingSession)) == 0
    session_id = _log_session(client, people, pairing, days_ago=2)
    early = client.post(
        f"/coaching/sessions/{session_id}/actions",
        data={"description": "Too early", "owner": "coach", "due_date": (TODAY - timedelta(days=10)).isoformat()},
        follow_redirects=True,
    )
    assert "cannot be due before the session" in early.get_data(as_text=True).replace("&#39;", "'")
    assert session.scalar(sa.select(sa.func.count()).select_from(ActionItem)) == 0


def test_a_note_with_a_forbidden_character_is_refused_with_a_message(client, people, session) -> None:
    """NUL or a right-to-left override in the private note: the coach is told why, nothing is saved."""
    _pair(client, people)
    session_id = _log_session(client, people, _pairing(session, people["commander"]))
    for text, code in (("Before\x00after", "U+0000"), ("Ana\u202eexe.pdf", "U+202E")):
        response = client.post(f"/coaching/sessions/{session_id}/note", data={"text": text}, follow_redirects=True)
        assert response.status_code == 200
        assert f"This field contains a character that is not allowed ({code})." in response.get_data(as_text=True)
    assert session.scalar(sa.select(sa.func.count()).select_from(CoachingNote)) == 0


def test_dates_out_of_the_range_people_enter_are_refused(client, people, session) -> None:
    _pair(client, people)
    for day in ("0001-01-01", "9999-12-31"):
        response = _pair(client, people, commander="other_commander", start_date=day, end_date=day)
        assert response.status_code == 400
        assert "Enter a date." in response.get_data(as_text=True)
    pairing = _pairing(session, people["commander"])
    login_as(client, people["coach"])
    goal = client.post(
        f"/coaching/pairings/{pairing.id}/goals",
        data={"title": "Plan", "indicator": "Approved", "target_date": "9999-12-31"},
        follow_redirects=True,
    )
    assert "Give the goal, how progress will be seen, and a target date." in goal.get_data(as_text=True)
    assert _pairing(session, people["other_commander"]) is None


def test_one_active_pairing_per_commander_and_advanced_after_basic(client, people, session) -> None:
    assert _pair(client, people).status_code == 302
    again = _pair(client, people, coach="other_coach")
    assert again.status_code == 400 and "already has an active pairing" in again.get_data(as_text=True).replace(
        "&#39;", "'"
    )
    advanced = _pair(client, people, commander="other_commander", level="advanced")
    assert "follows a completed basic one" in advanced.get_data(as_text=True).replace("&#39;", "'")
    assert session.scalar(sa.select(sa.func.count()).select_from(CoachingPairing)) == 1
    pairing = _pairing(session, people["commander"])
    client.post(f"/coaching/pairings/{pairing.id}/end", data={"reason": "Posted abroad"})
    assert _pairing(session, people["commander"]).status == PairingStatus.ENDED
    assert _pair(client, people, coach="other_coach").status_code == 302


def test_the_database_refuses_a_second_active_pairing(app, people) -> None:
    from sqlalchemy.exc import IntegrityError

    values = {"coach_id": people["coach"].id, "commander_id": people["commander"].id, "level": "basic",
              "start_date": TODAY, "end_date": TODAY, "planned_sessions": 6, "min_sessions": 5, "status": "active",
              "created_at": db.utcnow()}  # fmt: skip
    with app.extensions["lms.engine"].connect() as connection:
        connection.execute(sa.insert(CoachingPairing.__table__).values(**values))
        with pytest.raises(IntegrityError):
            connection.execute(sa.insert(CoachingPairing.__table__).values(**values))


def test_completion_needs_the_sessions_and_every_goal_reviewed(client, people, session) -> None:
    _pair(client, people)
    pairing = _pairing(session, people["commander"])
    login_as(client, people["coach"])
    client.post(
        f"/coaching/pairings/{pairing.id}/goals",
        data={
            "title": "Gender in the annual training plan",
            "indicator": "Plan approved",
            "target_date": TODAY.isoformat(),
        },
    )
    client.post(
        f"/coaching/pairings/{pairing.id}/goals",
        data={"title": "Review harassment reporting", "indicator": "Review done", "target_date": TODAY.isoformat()},
    )
    for days_ago in (150, 120, 90, 60, 30):
        _log_session(client, people, pairing, days_ago=days_ago)
    assert _pairing(session, people["commander"]).status == PairingStatus.ACTIVE  # goals not reviewed yet
    goals = sorted(goal.id for goal in session.scalars(sa.select(service.CoachingGoal)))
    client.post(
        f"/coaching/goals/{goals[0]}/review",
        data={f"goal{goals[0]}-status": "achieved", f"goal{goals[0]}-reviewed_on": TODAY.isoformat()},
    )
    assert _pairing(session, people["commander"]).status == PairingStatus.ACTIVE
    client.post(
        f"/coaching/goals/{goals[1]}/review",
        data={f"goal{goals[1]}-status": "in_progress", f"goal{goals[1]}-reviewed_on": TODAY.isoformat()},
    )
    completed = _pairing(session, people["commander"])
    assert completed.status == PairingStatus.COMPLETED and completed.completed_at is not None
    # Now the advanced programme is open to this commander.
    assert _pair(client, people, level="advanced").status_code == 302


def test_figures_by_country_institution_and_sex(client, people, make_user, session) -> None:
    woman = make_user(
        "commander3@example.org", roles=[Role.TRAINEE], category=Category.COMMANDER, sex=Sex.FEMALE, country="ME"
    )
    people["woman"] = woman
    _pair(client, people)
    _pair(client, people, commander="woman", coach="other_coach")
    _log_session(client, people, _pairing(session, people["commander"]), days_ago=10)
    login_as(client, people["other_coach"])
    pairing = _pairing(session, woman)
    for days_ago in (20, 10):
        client.post(
            f"/coaching/pairings/{pairing.id}/sessions/new",
            data={
                "date": (TODAY - timedelta(days=days_ago)).isoformat(),
                "duration_minutes": "120",
                "format": "online",
                "status": "held",
            },
        )
    login_as(client, people["coordinator"])
    from lms.coaching.overview import figures

    result = figures(session, session.get(type(people["coordinator"]), people["coordinator"].id))
    assert (len(result.total.commanders), result.total.sessions, result.total.hours) == (2, 3, 5.5)
    assert {code: (len(t.commanders), t.sessions) for code, t in result.by_country.items()} == {
        "BA": (1, 1),
        "ME": (1, 2),
    }
    assert (len(result.by_sex[Sex.FEMALE].commanders), result.by_sex[Sex.FEMALE].hours) == (1, 4.0)
    assert result.by_sex[Sex.NOT_RECORDED].sessions == 0
    assert sum(t.sessions for t in result.by_sex.values()) == result.total.sessions
    page = client.get("/coaching/programme").get_data(as_text=True).replace("&#39;", "'")
    assert "2 commanders coached in 3 sessions held" in page
