"""The pre-test offered where learners start, skippable on purpose; the post-test offered
when the track is done."""

import html
import re

import sqlalchemy as sa

from lms.models import Role, TrackAssessment
from tests.conftest import login_as
from tests.curriculum.helpers import RIGHT, submit_check
from tests.curriculum.test_assessment import _take

OFFER = "Before you start: a short pre-test"


def _learner(client, make_user):
    person = make_user(roles=[Role.TRAINEE])
    login_as(client, person)
    return person


def test_every_module_page_of_the_track_offers_the_pre_test_until_it_is_taken(client, make_user) -> None:
    _learner(client, make_user)
    for slug in ("first-module", "second-module"):
        page = client.get(f"/learn/modules/{slug}").get_data(as_text=True)
        assert OFFER in page and f"/learn/tracks/basics/tests/pre?module={slug}" in page
        assert '<div class="prose">' in page  # an invitation, not a wall
    other_track = client.get("/learn/modules/third-module").get_data(as_text=True)
    assert "/learn/tracks/advanced/tests/pre" in other_track and "/learn/tracks/basics/tests" not in other_track
    # Taken from a module page, the learner comes back to that module.
    page = client.get("/learn/tracks/basics/tests/pre?module=second-module").get_data(as_text=True)
    assert 'name="module" value="second-module"' in page
    token = html.unescape(re.search(r'name="token" value="([^"]+)"', page).group(1))
    data = {
        "token": token,
        "module": "second-module",
        "answer-first-module/q1": ["a"],
        "answer-second-module/q1": ["b"],
    }
    response = client.post("/learn/tracks/basics/tests/pre", data=data)
    assert response.headers["Location"] == "/learn/modules/second-module"
    assert OFFER not in client.get("/learn/modules/first-module").get_data(as_text=True)


def test_the_pre_test_can_be_skipped_and_taken_later(client, make_user, session) -> None:
    _learner(client, make_user)
    response = client.post("/learn/tracks/basics/tests/pre/skip", data={"module": "first-module"})
    assert response.headers["Location"] == "/learn/modules/first-module"
    assert OFFER not in client.get("/learn/modules/first-module").get_data(as_text=True)
    track = client.get("/learn/tracks/basics").get_data(as_text=True)
    assert "You skipped the pre-test." in track and "/learn/tracks/basics/tests/pre" in track
    skipped = session.scalar(sa.select(TrackAssessment))
    assert skipped.skipped and skipped.total == 0
    # Changing one's mind: the same row becomes the taken test.
    assert _take(client, "pre", True).status_code == 302
    session.expire_all()
    (taken,) = session.scalars(sa.select(TrackAssessment)).all()
    assert not taken.skipped and taken.score == 100


def test_a_skipped_pre_test_is_not_a_score(app, client, make_user) -> None:
    _learner(client, make_user)
    client.post("/learn/tracks/basics/tests/pre/skip")
    coordinator = app.test_client()
    login_as(coordinator, make_user("c@example.org", roles={Role.COORDINATOR: None}, country="REG"))
    page = coordinator.get("/learn/tracks/basics/results").get_data(as_text=True)
    assert "0%" not in page


def test_skipping_twice_or_after_a_module_is_refused(client, make_user, session) -> None:
    _learner(client, make_user)
    submit_check(client, "first-module", RIGHT)
    client.post("/learn/tracks/basics/tests/pre/skip")
    assert session.scalar(sa.select(sa.func.count()).select_from(TrackAssessment)) == 0


def test_the_post_test_is_offered_when_the_last_module_is_passed(client, make_user) -> None:
    _learner(client, make_user)
    submit_check(client, "first-module", RIGHT)
    response = submit_check(client, "second-module", RIGHT)
    result = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "You have completed this track" in result and "/learn/tracks/basics/tests/post" in result
    assert "/learn/tracks/basics/tests/post" in client.get("/learn/modules/first-module").get_data(as_text=True)
    assert _take(client, "post", True).status_code == 302
    assert "/learn/tracks/basics/tests/post" not in client.get("/learn/modules/first-module").get_data(as_text=True)


def test_the_trainer_sees_both_results_on_the_learners_page(app, client, make_user) -> None:
    person = _learner(client, make_user)
    _take(client, "pre", False)
    submit_check(client, "first-module", RIGHT)
    submit_check(client, "second-module", RIGHT)
    _take(client, "post", True)
    trainer = app.test_client()
    login_as(trainer, make_user("t@example.org", roles={Role.TRAINER: "RS"}, country="RS"))
    page = trainer.get(f"/learn/progress/{person.id}").get_data(as_text=True)
    assert "<dt>Pre-test</dt>\n    <dd>0% correct" in page and "<dt>Post-test</dt>\n    <dd>100% correct" in page
