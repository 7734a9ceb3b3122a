"""Certificates for completed learning tracks and coaching cycles, and what holders see."""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa

from lms.coaching import service as coaching
from lms.models import (
    Category,
    Certificate,
    CoachingLevel,
    CoachingSessionStatus,
    GoalStatus,
    PairingStatus,
    Role,
    SessionFormat,
    Track,
    User,
)
from tests.certificates.helpers import completed_course, pdf_pages, trainees
from tests.conftest import login_as
from tests.curriculum.helpers import submit_check

TODAY = date.today()


def _coordinator(make_user):
    return make_user("coordinator@example.org", roles={Role.COORDINATOR: None}, country="REG")


def test_a_completed_track_leads_to_a_certificate_with_module_versions(app, make_user, session) -> None:
    learner = make_user("cadet@example.org", name="Милица Петровић", roles=[Role.TRAINEE], category=Category.CADET)
    halfway = make_user("cadet2@example.org", roles=[Role.TRAINEE], category=Category.CADET)
    client = app.test_client()
    login_as(client, learner)
    for slug in ("first-module", "second-module"):
        assert submit_check(client, slug).status_code == 302
    login_as(client, halfway)
    submit_check(client, "first-module")

    track = session.scalar(sa.select(Track).where(Track.slug == "basics"))
    login_as(client, _coordinator(make_user))
    page = client.get(f"/certificates/tracks/{track.id}").get_data(as_text=True)
    assert "Милица Петровић" in page and halfway.full_name not in page
    client.post(f"/certificates/tracks/{track.id}/issue", data={"scope": "all", "language": "sr-Cyrl"})
    session.rollback()
    (certificate,) = session.scalars(sa.select(Certificate)).all()
    assert certificate.achievement_key == f"track:{track.id}" and certificate.holder_id == learner.id
    assert '"version": 1' in certificate.modules
    text = pdf_pages(client.get(f"/certificates/{certificate.id}/pdf").data)[0]
    assert "Милица Петровић" in text and "Milica Petrović" in text
    assert "First Module" in text and "version 1" in text


def test_a_completed_coaching_cycle_leads_to_a_certificate(app, make_user, session) -> None:
    coach = make_user("coach@example.org", roles=[Role.COACH], country="MK")
    commander = make_user(
        "commander@example.org", name="Arbër Çela", roles=[Role.TRAINEE], category=Category.COMMANDER, country="MK"
    )
    other = make_user("commander2@example.org", roles=[Role.TRAINEE], category=Category.COMMANDER, country="MK")
    coach = session.get(User, coach.id)
    pairings = []
    for person in (commander, other):
        pairing = coaching.create_pairing(
            session,
            coaching.PairingData(
                coach.id, person.id, CoachingLevel.BASIC, TODAY - timedelta(days=200), TODAY, planned_sessions=2,
                min_sessions=2,
            ),
            actor=None,
        )  # fmt: skip
        pairings.append(pairing)
    goal = coaching.add_goal(session, pairings[0], "Gender in the training plan", "Approved", TODAY, actor=coach)
    for days_ago in (100, 50):
        coaching.save_session(
            session, pairings[0],
            coaching.SessionData(TODAY - timedelta(days=days_ago), 90, SessionFormat.IN_PERSON,
                                 CoachingSessionStatus.HELD, [], "Held"),
            actor=coach,
        )  # fmt: skip
    coaching.review_goal(session, goal, GoalStatus.ACHIEVED, None, TODAY, actor=coach)
    coaching.update_completion(session, pairings[0], actor=coach)  # (the review may have completed it)
    assert pairings[0].status == PairingStatus.COMPLETED and pairings[1].status == PairingStatus.ACTIVE
    session.commit()

    client = app.test_client()
    login_as(client, _coordinator(make_user))
    page = client.get("/certificates/coaching").get_data(as_text=True)
    assert "Arbër Çela" in page and other.full_name not in page
    client.post("/certificates/coaching/issue", data={"holders": [commander.id], "language": "sq"})
    session.rollback()
    (certificate,) = session.scalars(sa.select(Certificate)).all()
    assert certificate.minutes == 180
    assert certificate.title.startswith("Gender Coach Programme")
    text = pdf_pages(client.get(f"/certificates/{certificate.id}/pdf").data)[0]
    assert "Arbër Çela" in text and "3 hours of training" in text
    # Coaching content never reaches a certificate.
    assert "Gender in the training plan" not in text and "Held" not in text


def test_holders_see_and_download_their_own_certificates_only(app, make_user, session) -> None:
    coordinator = _coordinator(make_user)
    trainer = make_user("trainer@example.org", roles={Role.TRAINER: None})
    mine, theirs = trainees(make_user, ["Ana Anić", "Marko Marković"])
    course = completed_course(session, trainer, [mine, theirs])
    client = app.test_client()
    login_as(client, coordinator)
    client.post(f"/certificates/courses/{course.id}/issue", data={"scope": "all", "language": ""})
    session.rollback()
    own = session.scalar(sa.select(Certificate).where(Certificate.holder_id == mine.id))
    other = session.scalar(sa.select(Certificate).where(Certificate.holder_id == theirs.id))

    holder = app.test_client()
    login_as(holder, mine)
    page = holder.get("/certificates/mine").get_data(as_text=True)
    assert own.serial in page and other.serial not in page
    download = holder.get(f"/certificates/mine/{own.id}/pdf")
    assert download.status_code == 200 and "Ana Anić" in pdf_pages(download.data)[0]
    for url in (f"/certificates/mine/{other.id}/pdf", f"/certificates/{other.id}/pdf", "/certificates/mine/999999/pdf"):
        assert holder.get(url).status_code in (403, 404), url
    assert holder.get(f"/certificates/mine/{other.id}/pdf").status_code == 404

    client.post(
        f"/certificates/{own.id}/revoke", data={"revoke-reason": "Error", "revoke-csrf_token": client.csrf_token()}
    )
    assert holder.get(f"/certificates/mine/{own.id}/pdf").status_code == 404
    assert "Revoked" in holder.get("/certificates/mine").get_data(as_text=True)
