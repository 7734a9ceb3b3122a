"""Knowledge checks that measure: fresh draws, no answers after a failure, limited attempts,
a wait between them, answers kept when a submission is incomplete."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import sqlalchemy as sa

from lms.audit.service import Action
from lms.models import AttemptAllowance, ModuleCompletion, QuizAttempt, Role
from tests.conftest import login_as
from tests.content_fixture import DRAW, POOL
from tests.curriculum.helpers import (
    RIGHT,
    WRONG,
    answers_for,
    form_fields,
    shown_options,
    shown_questions,
    submit_check,
)


@pytest.fixture
def learner(client, make_user):
    person = make_user("cadet@example.org", roles=[Role.TRAINEE], country="ME")
    login_as(client, person)
    return person


def _attempts(session) -> list[QuizAttempt]:
    session.expire_all()
    return session.scalars(sa.select(QuizAttempt).order_by(QuizAttempt.id)).all()


def _asked(attempt: QuizAttempt) -> list[str]:
    return [question_id for question_id, _options in json.loads(attempt.shown)]


def test_a_failed_attempt_shows_which_questions_were_wrong_but_not_the_answers(client, learner, session) -> None:
    response = submit_check(client, "first-module", {**WRONG, **{q: RIGHT[q] for q in ("q1", "q2", "q3")}})
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    asked = _asked(_attempts(session)[0])
    right = [q for q in asked if q in ("q1", "q2", "q3")]
    assert f"{len(right)} of {DRAW} correct" in page
    assert page.count("<strong>Right:</strong>") == len(right)
    assert page.count("<strong>Not right:</strong>") == DRAW - len(right)
    for question_id in asked:
        assert f"Question {question_id}?" in page
    # Neither the right answers nor the explanations (which would give them away).
    assert "correct answer" not in page and "Because a is right" not in page
    assert "Option a of" not in page
    assert "Try again" in page


def test_the_retry_asks_the_questions_not_yet_seen(client, learner, session) -> None:
    first = client.get("/learn/modules/first-module").get_data(as_text=True)
    client.post("/learn/modules/first-module/check", data={**form_fields(first), **answers_for(first, WRONG)})
    second = client.get("/learn/modules/first-module").get_data(as_text=True)
    # Five of ten asked, so the next draw is the five the learner has not seen.
    assert set(shown_questions(second)) == set(RIGHT) - set(shown_questions(first))
    assert len(shown_questions(second)) == DRAW == POOL - DRAW


def test_the_attempt_records_exactly_the_questions_and_option_order_shown(client, learner, session) -> None:
    page = client.get("/learn/modules/first-module").get_data(as_text=True)
    client.post("/learn/modules/first-module/check", data={**form_fields(page), **answers_for(page, WRONG)})
    attempt = _attempts(session)[0]
    assert json.loads(attempt.shown) == [[q, shown_options(page, q)] for q in shown_questions(page)]
    assert sorted(json.loads(attempt.answers)) == sorted(shown_questions(page))
    # The review lists the questions in the order they were asked.
    review = client.get(f"/learn/attempts/{attempt.id}").get_data(as_text=True)
    positions = [review.index(f"Question {q}?") for q in shown_questions(page)]
    assert positions == sorted(positions)


def test_attempts_are_limited_and_the_last_one_shows_the_answers(client, learner, session, audit_rows) -> None:
    for _ in range(3):
        assert submit_check(client, "first-module", WRONG).status_code == 302
    last = _attempts(session)[-1]
    review = client.get(f"/learn/attempts/{last.id}").get_data(as_text=True)
    assert "correct answer" in review and "Because a is right" in review
    assert "You have used all 3 attempts" in review and "Try again" not in review
    page = client.get("/learn/modules/first-module").get_data(as_text=True)
    assert "You have used all 3 attempts" in page and "Submit my answers" not in page
    # A fourth attempt, forged from an earlier form, is refused on the server.
    refused = submit_check(client, "first-module", RIGHT)
    assert refused.status_code == 400 and "You have used all 3 attempts" in refused.get_data(as_text=True)
    assert len(_attempts(session)) == 3
    assert session.scalar(sa.select(sa.func.count()).select_from(ModuleCompletion)) == 0


def test_a_passed_check_shows_the_answers_and_closes(client, learner, session) -> None:
    response = submit_check(client, "first-module", RIGHT)
    review = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "correct answer" in review and "Because a is right" in review
    page = client.get("/learn/modules/first-module").get_data(as_text=True)
    assert "Completed on" in page and "Submit my answers" not in page
    assert submit_check(client, "first-module", RIGHT).status_code == 400
    assert len(_attempts(session)) == 1


def test_the_wait_between_attempts_is_enforced(client, learner, session) -> None:
    """The "advanced" track keeps the default policy: 10 minutes after a failed attempt."""
    page = client.get("/learn/modules/third-module").get_data(as_text=True)
    form = {**form_fields(page), **answers_for(page, WRONG)}
    assert client.post("/learn/modules/third-module/check", data=form).status_code == 302
    waiting = client.get("/learn/modules/third-module").get_data(as_text=True)
    assert "You can try again from" in waiting and "Submit my answers" not in waiting
    # The form of a second tab, opened before, is refused as well.
    other_tab = {**form_fields(page), **answers_for(page, RIGHT)}
    other_tab["token"] = form["token"]
    assert client.post("/learn/modules/third-module/check", data=other_tab).status_code == 400
    assert len(_attempts(session)) == 1
    attempt = _attempts(session)[0]
    attempt.submitted_at -= timedelta(minutes=11)
    session.commit()
    assert submit_check(client, "third-module", RIGHT).status_code == 302
    assert len(_attempts(session)) == 2


def test_an_incomplete_submission_keeps_the_answers_and_marks_what_is_missing(client, learner, session) -> None:
    page = client.get("/learn/modules/first-module").get_data(as_text=True)
    asked = shown_questions(page)
    answered, skipped = asked[:3], asked[3:]
    data = {**form_fields(page), **{f"answer-{q}": RIGHT[q] for q in answered}}
    response = client.post("/learn/modules/first-module/check", data=data)
    assert response.status_code == 400
    again = response.get_data(as_text=True)
    assert shown_questions(again) == asked  # the same questions, in the same order
    for question_id in answered:
        assert f'id="answer-{question_id}-a" name="answer-{question_id}" value="a" checked' in again
    for question_id in skipped:
        number = asked.index(question_id) + 1
        assert f'<a href="#answer-{question_id}">Question {number} is not answered</a>' in again
        assert f'id="answer-{question_id}-error"' in again
    assert "(2 unanswered)" in again
    assert _attempts(session) == []
    # Completing the same form then records one attempt on those questions.
    data = {**form_fields(again), **answers_for(again, RIGHT)}
    assert client.post("/learn/modules/first-module/check", data=data).status_code == 302
    assert _asked(_attempts(session)[0]) == asked


def test_a_trainer_allows_more_attempts_with_a_reason(app, client, learner, session, make_user, audit_rows) -> None:
    for _ in range(3):
        submit_check(client, "first-module", WRONG)
    trainer = app.test_client()
    login_as(trainer, make_user("trainer@example.org", roles={Role.TRAINER: "ME"}, country="ME"))
    detail = trainer.get(f"/learn/progress/{learner.id}").get_data(as_text=True)
    assert "Allow more attempts: First Module" in detail
    url = f"/learn/progress/{learner.id}/modules/first-module/attempts"
    refused = trainer.post(url, data={"reason": "  "})
    assert refused.status_code == 400 and "Give the reason for allowing more attempts." in refused.get_data(
        as_text=True
    )
    assert trainer.post(url, data={"reason": "Read the module again with me"}).status_code == 302
    allowance = session.scalar(sa.select(AttemptAllowance))
    assert allowance.reason == "Read the module again with me" and allowance.user_id == learner.id
    assert [json.loads(event.details) for event in audit_rows(Action.ATTEMPTS_ALLOWED)] == [
        {"module": "first-module", "reason": "Read the module again with me"}
    ]
    assert "Submit my answers" in client.get("/learn/modules/first-module").get_data(as_text=True)
    assert submit_check(client, "first-module", RIGHT).status_code == 302


def test_a_trainer_of_another_country_cannot_allow_attempts(app, learner, session, make_user, audit_rows) -> None:
    trainer = app.test_client()
    login_as(trainer, make_user("trainer.rs@example.org", roles={Role.TRAINER: "RS"}, country="RS"))
    url = f"/learn/progress/{learner.id}/modules/first-module/attempts"
    assert trainer.post(url, data={"reason": "Let me"}).status_code == 404
    assert session.scalar(sa.select(sa.func.count()).select_from(AttemptAllowance)) == 0


def test_learners_cannot_allow_themselves_attempts(client, learner, session) -> None:
    url = f"/learn/progress/{learner.id}/modules/first-module/attempts"
    assert client.post(url, data={"reason": "Please"}).status_code == 403
    assert session.scalar(sa.select(sa.func.count()).select_from(AttemptAllowance)) == 0


def test_a_track_may_never_show_the_answers(app, client, learner, session, content_dir) -> None:
    track = content_dir / "advanced" / "_track.yml"
    track.write_text(track.read_text() + "knowledge_checks:\n  attempts: 1\n  review: never\n")
    from lms.curriculum.store import ContentStore

    app.extensions["lms.content"] = ContentStore(content_dir)
    response = submit_check(client, "third-module", WRONG)
    review = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "You have used your 1 attempt at this knowledge check." in review
    assert "correct answer" not in review and "Because a is right" not in review
    assert "does not show the right answers" in review
