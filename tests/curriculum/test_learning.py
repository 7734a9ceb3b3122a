"""Reading modules, knowledge checks graded on the server, completion and progress."""

import json
import re

import pytest
import sqlalchemy as sa

from lms.audit.service import Action
from lms.models import ModuleCompletion, QuizAttempt, Role
from tests.conftest import login_as
from tests.content_fixture import DRAW, MULTIPLE
from tests.curriculum.helpers import RIGHT, WRONG, answers_for, form_fields, shown_questions, submit_check


@pytest.fixture
def learner(client, make_user):
    person = make_user("cadet@example.org", roles=[Role.TRAINEE])
    login_as(client, person)
    return person


def _count(session, model) -> int:
    session.rollback()
    return session.scalar(sa.select(sa.func.count()).select_from(model))


def test_catalogue_lists_tracks_and_filters(client, learner) -> None:
    page = client.get("/learn/").get_data(as_text=True)
    assert "Basics" in page and "Advanced" in page and "First Module" in page
    only_advanced = client.get("/learn/", query_string={"track": "advanced"}).get_data(as_text=True)
    assert "Third Module" in only_advanced and "First Module" not in only_advanced
    bosnian = client.get("/learn/", query_string={"language": "bs"}).get_data(as_text=True)
    assert "First Module" in bosnian and "Second Module" not in bosnian
    search = client.get("/learn/", query_string={"q": "third"}).get_data(as_text=True)
    assert "Third Module" in search and "Second Module" not in search
    assert client.get("/learn/", query_string={"track": "nonexistent"}).status_code == 400
    assert client.get("/learn/", query_string={"audience": "generals"}).status_code == 400


def test_reader_shows_contents_time_objectives_and_the_check(client, learner) -> None:
    page = client.get("/learn/modules/second-module").get_data(as_text=True)
    assert '<nav class="toc"' in page and "First section" in page and "Second section" in page
    assert "About 20 minutes" in page
    assert "Understand the test." in page
    # One attempt asks DRAW of the pool's questions, each with its four options.
    asked = shown_questions(page)
    assert len(asked) == DRAW and len(set(asked)) == DRAW
    multiple = [q for q in asked if q in MULTIPLE]
    assert page.count('type="checkbox"') == 4 * len(multiple)
    assert page.count('type="radio"') == 4 * (DRAW - len(multiple))
    assert "Each attempt asks 5 questions, drawn from 10." in page
    assert 'href="https://undocs.org/S/RES/1325(2000)"' in page


def test_markdown_is_rendered_once_per_content(client, learner, monkeypatch) -> None:
    import lms.rendering

    calls = []
    original = lms.rendering.render_markdown
    monkeypatch.setattr(lms.rendering, "render_markdown", lambda text, **kw: calls.append(1) or original(text, **kw))
    lms.rendering._RENDERED.clear()
    for _ in range(3):
        assert client.get("/learn/modules/third-module").status_code == 200
    assert len(calls) == 1


def test_fail_then_pass_completes_the_module(client, learner, session) -> None:
    failed = submit_check(client, "second-module", WRONG)
    assert failed.status_code == 302
    result = client.get(failed.headers["Location"]).get_data(as_text=True)
    assert "0 of 5 correct (0%)" in result and "Not yet" in result
    assert _count(session, ModuleCompletion) == 0
    passed = submit_check(client, "second-module", RIGHT)
    result = client.get(passed.headers["Location"]).get_data(as_text=True)
    assert "5 of 5 correct (100%)" in result and "This module is complete." in result
    attempts = session.scalars(sa.select(QuizAttempt).order_by(QuizAttempt.id)).all()
    assert [(a.score, a.passed) for a in attempts] == [(0, False), (100, True)]
    completion = session.scalar(sa.select(ModuleCompletion))
    assert completion.attempt_id == attempts[1].id
    assert completion.revision.version == 1 and completion.language == "en"
    assert completion.completed_at is not None


def test_multiple_answer_questions_need_exactly_the_right_options(client, learner, session) -> None:
    partly = {**RIGHT, **{q: ["a"] for q in MULTIPLE}}
    submit_check(client, "second-module", partly)
    attempt = session.scalar(sa.select(QuizAttempt))
    asked = [question_id for question_id, _options in json.loads(attempt.shown)]
    assert attempt.correct == len([q for q in asked if q not in MULTIPLE])


def test_progress_bars_move(client, learner) -> None:
    def bars() -> list[tuple[str, str]]:
        page = client.get("/").get_data(as_text=True)
        return re.findall(r'<progress id="([^"]+)" max="(\d+)" value="\d+"', page) and re.findall(
            r'<progress id="([^"]+)" max="\d+" value="(\d+)"', page
        )

    assert dict(bars()) == {"dashboard-overall": "0", "dashboard-track-1": "0", "dashboard-track-2": "0"}
    submit_check(client, "first-module", RIGHT)
    assert dict(bars()) == {"dashboard-overall": "1", "dashboard-track-1": "1", "dashboard-track-2": "0"}
    track = client.get("/learn/tracks/basics").get_data(as_text=True)
    assert '<progress id="track-progress" max="2" value="1"' in track


def test_continue_where_you_left_off(client, learner) -> None:
    client.get("/learn/modules/third-module")
    assert "Continue where you left off: Third Module" in client.get("/").get_data(as_text=True)
    submit_check(client, "third-module", RIGHT)
    client.get("/learn/modules/first-module")
    assert "Continue where you left off: First Module" in client.get("/").get_data(as_text=True)


@pytest.mark.parametrize(
    "tamper",
    [
        {"first": ["z"]},  # an option that does not exist
        {"answer-q99": ["a"]},  # a question that does not exist
        {"first": ["a", "b"]},  # two answers to a single-choice question
        {"first": []},  # a question left unanswered
        {"not-asked": ["a"]},  # a question of the pool this attempt did not ask
    ],
)
def test_tampered_answers_are_refused_and_record_nothing(client, learner, session, tamper) -> None:
    page = client.get("/learn/modules/second-module").get_data(as_text=True)
    asked = shown_questions(page)
    single = next(q for q in asked if q not in MULTIPLE)
    not_asked = next(q for q in RIGHT if q not in asked)
    names = {"first": f"answer-{single}", "not-asked": f"answer-{not_asked}"}
    tamper = {names.get(key, key): value for key, value in tamper.items()}
    data = {**form_fields(page), **answers_for(page, RIGHT), **tamper}
    data = {key: value for key, value in data.items() if value != []}
    response = client.post("/learn/modules/second-module/check", data=data)
    assert response.status_code == 400
    assert 'class="error-summary"' in response.get_data(as_text=True)
    assert _count(session, QuizAttempt) == 0


def test_answers_for_another_modules_form_or_a_forged_token_are_refused(client, learner, session) -> None:
    other = form_fields(client.get("/learn/modules/first-module").get_data(as_text=True))
    answers = {f"answer-{q}": v for q, v in RIGHT.items()}
    assert client.post("/learn/modules/second-module/check", data={**answers, **other}).status_code == 400
    assert client.post("/learn/modules/second-module/check", data={**answers, "token": "forged"}).status_code == 400
    assert _count(session, QuizAttempt) == 0


def test_a_repeated_submit_is_refused(client, learner, session) -> None:
    page = client.get("/learn/modules/second-module").get_data(as_text=True)
    data = {**form_fields(page), **answers_for(page, WRONG)}
    assert client.post("/learn/modules/second-module/check", data=data).status_code == 302
    again = client.post("/learn/modules/second-module/check", data=data)
    assert again.status_code == 400
    assert "already been submitted" in again.get_data(as_text=True)
    assert _count(session, QuizAttempt) == 1


def test_another_persons_attempt_is_not_found_and_audited(app, client, learner, make_user, audit_rows) -> None:
    other = make_user("other@example.org", roles=[Role.TRAINEE])
    other_client = app.test_client()
    login_as(other_client, other)
    location = submit_check(other_client, "first-module", WRONG).headers["Location"]
    assert other_client.get(location).status_code == 200
    assert client.get(location).status_code == 404
    assert client.get("/learn/attempts/99999").status_code == 404
    denied = [event for event in audit_rows(Action.ACCESS_DENIED) if event.subject == location]
    assert len(denied) == 1 and denied[0].actor_email == "cadet@example.org"


def test_unknown_archived_or_malformed_slugs_are_404(client, learner) -> None:
    for slug in ["nope", "First-Module", "first_module", "../etc", "a" * 300]:
        assert client.get(f"/learn/modules/{slug}").status_code == 404, slug
    assert client.get("/learn/tracks/nope").status_code == 404
    assert client.get("/learn/tracks/basics/tests/middle").status_code == 404
