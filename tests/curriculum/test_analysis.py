"""Item analysis of knowledge checks and the learning gain of a track, for trainers and coordinators."""

from __future__ import annotations

import html
import json
import math
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from lms import db
from lms.curriculum import analysis, assessment, content
from lms.curriculum.analysis import (
    EASY,
    HARD,
    NEGATIVE,
    UNUSED_OPTION,
    WEAK,
    Flag,
    correlation_from_sums,
    difficulty,
    flags_for,
    module_stats,
    point_biserial,
    rest_scores,
    tally,
)
from lms.curriculum.assessment import GroupResult, individual_gain, normalised_gain
from lms.models import (
    AssessmentPhase,
    Country,
    Module,
    ModuleCompletion,
    ModuleRevision,
    QuizAttempt,
    Role,
    Sex,
    Track,
    TrackAssessment,
    User,
)
from tests.conftest import login_as

# --- The statistics, on cases worked out by hand -----------------------------------------


def test_difficulty_is_the_share_answering_right() -> None:
    assert difficulty([1, 0, 1, 1]) == 0.75
    assert difficulty([0, 0]) == 0
    assert difficulty([]) is None


def test_rest_scores_leave_the_item_itself_out() -> None:
    assert rest_scores([1, 0, 1]) == [0.5, 1.0, 0.5]
    assert rest_scores([0, 0, 0, 0]) == [0, 0, 0, 0]
    assert rest_scores([1]) == [None]  # a single question has no rest


def test_point_biserial_on_a_hand_computed_case() -> None:
    # Item 1,1,0,0 against rest 1,.5,.5,0: covariance .5/4, variances 1/4 and .5/4, so r = 1/sqrt(2).
    assert point_biserial([1, 1, 0, 0], [1.0, 0.5, 0.5, 0.0]) == pytest.approx(1 / math.sqrt(2))
    # The right answer given by those who do worst on the rest: negative.
    assert point_biserial([0, 0, 1, 1], [1.0, 0.5, 0.5, 0.0]) == pytest.approx(-1 / math.sqrt(2))
    # Item 1,1,0 against rest 1,0,0: r = (1/3) / (2/3).
    assert point_biserial([1, 1, 0], [1.0, 0.0, 0.0]) == pytest.approx(0.5)


def test_no_discrimination_when_nothing_varies() -> None:
    assert point_biserial([1, 1, 1], [1.0, 0.5, 0.0]) is None  # all right
    assert point_biserial([0, 0, 0], [1.0, 0.5, 0.0]) is None  # all wrong
    assert point_biserial([1, 0, 1], [0.5, 0.5, 0.5]) is None  # everybody alike on the rest
    assert point_biserial([1], [1.0]) is None
    assert point_biserial([], []) is None
    assert correlation_from_sums(3, 0.1 + 0.2, 0.3, 0.3, 0.03, 0.03) is None  # rounding noise is not variance
    with pytest.raises(ValueError):
        point_biserial([1, 0], [1.0])


def test_flags_give_plain_reasons_and_none_below_twenty_answers() -> None:
    assert flags_for(19, 0.05, -0.5, ["c"]) == []  # too few to judge: figures only
    assert flags_for(20, 0.5, 0.35, []) == []
    assert flags_for(20, 0.1, 0.35, []) == [Flag(HARD)]
    assert flags_for(20, 0.2, 0.35, []) == []  # the limits themselves are fine
    assert flags_for(20, 0.96, 0.35, []) == [Flag(EASY)]
    assert flags_for(20, 0.95, 0.35, []) == []
    assert flags_for(20, 0.5, 0.1, []) == [Flag(WEAK)]
    assert flags_for(20, 0.5, -0.1, []) == [Flag(NEGATIVE)]  # check the key, not merely "weak"
    assert flags_for(20, 1.0, None, []) == [Flag(EASY)]  # all right: no discrimination to judge
    assert flags_for(40, 0.5, 0.3, ["c", "d"]) == [Flag(UNUSED_OPTION, "c"), Flag(UNUSED_OPTION, "d")]


def test_normalised_gain() -> None:
    assert normalised_gain(40, 70) == pytest.approx(0.5)
    assert normalised_gain(50, 40) == pytest.approx(-0.2)  # a loss is shown, not hidden
    assert normalised_gain(100, 100) is None  # nothing was left to gain
    assert normalised_gain(None, 70) is None
    assert individual_gain(50, 75) == pytest.approx(0.5)
    assert individual_gain(60, 40) == pytest.approx(-0.5)
    assert individual_gain(100, 100) is None


def _module() -> content.Module:
    """A module of three questions: q1 and q2 with one right answer, q3 with two."""

    def question(qid: str, right: set[str], options: str = "abc") -> content.Question:
        return content.Question(
            qid, f"Question {qid}?", tuple(content.Option(o, f"Option {o}", o in right) for o in options), "Why."
        )

    def text(language: str, prefix: str) -> content.ModuleText:
        questions = {
            "q1": question("q1", {"a"}),
            "q2": question("q2", {"a"}, "ab"),
            "q3": question("q3", {"a", "b"}),
        }
        if prefix:
            questions = {
                qid: content.Question(
                    qid,
                    f"{prefix} {qid}?",
                    tuple(content.Option(o.id, f"{prefix} {o.id}", o.correct) for o in q.options),
                    "",
                )
                for qid, q in questions.items()
            }
        return content.ModuleText(language, "Title", "", [], "", questions, "x.md", "hash")

    original = text("en", "")
    return content.Module("m", "t", ["all"], 10, 1, 80, 2, [], original, {"bs": text("bs", "Pitanje")})


def _attempt(shown: list[tuple[str, list[str]]] | None, answers: dict[str, list[str]]) -> tuple[str, int, str | None]:
    """An attempt as the page reads it: answers, questions asked, shown."""
    asked = len(shown) if shown is not None else len(answers)
    return (json.dumps(answers), asked, json.dumps(shown) if shown is not None else None)


def _stats(attempts: list[tuple[str, int, str | None]], language: str = "en") -> analysis.ModuleStats:
    module = _module()
    return module_stats(module, tally(module, attempts), language)


HAND_ATTEMPTS = [
    _attempt([("q1", ["a", "b", "c"]), ("q2", ["b", "a"])], {"q1": ["a"], "q2": ["a"]}),  # q1 right, q2 right
    _attempt([("q1", ["c", "a", "b"]), ("q2", ["a", "b"])], {"q1": ["b"], "q2": ["a"]}),  # q1 wrong, q2 right
    _attempt([("q3", ["a", "b", "c"]), ("q1", ["a", "b", "c"])], {"q1": ["a"], "q3": ["a", "b"]}),  # both right
    _attempt(None, {"q1": ["b"], "q2": ["b"], "q3": ["a"]}),  # from before pools: all asked, all wrong
]


def test_module_statistics_from_first_attempts() -> None:
    stats = _stats(HAND_ATTEMPTS)
    assert stats.people == 4
    q1, q2, q3 = stats.questions
    # q1: scores 1,0,1,0 against rests 1,1,1,0 -> r = .5 / sqrt(.75)
    assert (q1.n, q1.right, q1.p) == (4, 2, 0.5)
    assert q1.discrimination == pytest.approx(0.5 / math.sqrt(0.75))
    assert [(o.option.id, o.chosen, o.share) for o in q1.options] == [("a", 2, 0.5), ("b", 2, 0.5), ("c", 0, 0.0)]
    # q2: scores 1,1,0 against rests 1,0,0
    assert (q2.n, q2.p) == (3, pytest.approx(2 / 3))
    assert q2.discrimination == pytest.approx(0.5)
    # q3 (two right answers; only choosing both counts): scores 1,0 against rests 1,0
    assert (q3.n, q3.right, q3.discrimination) == (2, 1, pytest.approx(1.0))
    assert [o.share for o in q3.options] == [1.0, 0.5, 0.0]
    assert all(not q.judged and q.flags == [] for q in stats.questions)  # fewer than 20 answers
    assert q1.text == "Question q1?"


def test_module_statistics_are_judged_from_twenty_answers_in_the_readers_language() -> None:
    stats = _stats(HAND_ATTEMPTS * 5, "bs")
    q1, q2, q3 = stats.questions
    assert (q1.n, q1.p) == (20, 0.5)
    assert q1.discrimination == pytest.approx(0.5 / math.sqrt(0.75))  # the same people, five times
    assert q1.flags == [Flag(UNUSED_OPTION, "c")]  # nobody chose c
    assert q1.option_text("c") == "Pitanje c"
    assert q1.text == "Pitanje q1?" and stats.title == "Title"
    assert q2.n == 15 and not q2.judged and q2.flags == []
    assert q3.n == 10 and q3.flags == []
    assert stats.flagged == 1


def test_a_question_everybody_gets_right_has_no_discrimination() -> None:
    attempts = [_attempt([("q1", ["a", "b", "c"]), ("q2", ["a", "b"])], {"q1": ["a"], "q2": [o]}) for o in "ab" * 10]
    q1, q2, _q3 = _stats(attempts).questions
    assert (q1.n, q1.p, q1.discrimination) == (20, 1.0, None)
    assert q1.flags == [Flag(EASY), Flag(UNUSED_OPTION, "b"), Flag(UNUSED_OPTION, "c")]
    assert q2.p == 0.5 and q2.discrimination is None  # everybody alike on the rest (q1)


def test_an_unanswered_question_counts_wrong_and_a_removed_one_not_at_all() -> None:
    shown = [("q1", ["a", "b", "c"]), ("q2", ["a", "b"]), ("q9", ["a", "b"])]  # q9 has left the pool
    counts = tally(_module(), [_attempt(shown, {"q1": ["a"], "q9": ["a"]})])
    assert counts.people == 1
    assert counts.figures["q1"][:2] == [1, 1] and counts.figures["q2"][:2] == [1, 0]
    assert "q9" not in counts.figures
    assert tally(_module(), [_attempt([("q9", ["a"])], {"q9": ["a"]})]).people == 0


def test_gain_of_a_group_counts_everyone() -> None:
    group = GroupResult()
    for pre, post, skipped in [
        (40, 70, False),
        (20, 60, False),
        (30, None, False),
        (None, 80, True),
        (100, 100, False),
    ]:
        group.add(GroupResult.person(pre, post, skipped))
    assert (group.both, group.pre_only, group.post_only, group.skipped) == (3, 1, 1, 1)
    assert (group.pre_count, group.post_count) == (4, 4)
    assert group.pre_mean == pytest.approx(190 / 4) and group.post_mean == pytest.approx(310 / 4)
    # Means of those who took both: before (40+20+100)/3, after (70+60+100)/3.
    assert group.gain_mean == pytest.approx(70 / 3)
    assert group.normalised_gain == pytest.approx((230 / 3 - 160 / 3) / (100 - 160 / 3))
    assert group.individual_count == 2  # the perfect pre-test has none
    assert group.individual_gain_mean == pytest.approx(0.5)
    assert GroupResult().normalised_gain is None and GroupResult().individual_gain_mean is None


# --- The page ---------------------------------------------------------------------------------


def _row(session, slug: str) -> Module:
    return session.scalar(sa.select(Module).where(Module.slug == slug))


def add_attempt(session, person: User, slug: str, answers: dict[str, list[str]], *, days_ago: float) -> None:
    """A recorded knowledge-check attempt of ``person`` asking the questions answered."""
    row = _row(session, slug)
    revision = session.scalar(sa.select(ModuleRevision.id).where(ModuleRevision.module_id == row.id))
    shown = [[question_id, ["a", "b", "c", "d"]] for question_id in answers]
    session.add(
        QuizAttempt(
            user_id=person.id,
            module_id=row.id,
            revision_id=revision,
            language="en",
            nonce=f"n{person.id}-{days_ago}",
            correct=0,
            total=len(answers),
            score=0,
            passed=False,
            answers=json.dumps(answers),
            shown=json.dumps(shown),
            submitted_at=db.utcnow() - timedelta(days=days_ago),
        )
    )
    session.commit()


def _question_rows(page: str) -> dict[str, list[str]]:
    """Each question's cells (n, p, discrimination, options, flags), by question text."""
    rows = {}
    for text, cells in re.findall(r'<th scope="row" class="analysis__question">(.*?)</th>(.*?)</tr>', page, re.S):
        found = re.findall(r"<td[^>]*>(.*?)</td>", cells, re.S)
        rows[html.unescape(text).strip()] = [
            re.sub(r"\s+", " ", html.unescape(re.sub("<[^>]+>", "", c))).strip() for c in found
        ]
    return rows


def test_a_trainer_sees_the_first_attempts_of_learners_in_reach(client, make_user, session) -> None:
    serbian = make_user(roles=[Role.TRAINEE], country="RS")
    macedonian = make_user(roles=[Role.TRAINEE], country="MK")
    add_attempt(session, serbian, "first-module", {"q1": ["a"], "q2": ["c"]}, days_ago=3)
    add_attempt(session, serbian, "first-module", {"q1": ["b"], "q2": ["a"]}, days_ago=1)  # a retry: not counted
    add_attempt(session, macedonian, "first-module", {"q1": ["c"], "q2": ["a"]}, days_ago=2)

    login_as(client, make_user("trainer.rs@example.org", roles={Role.TRAINER: "RS"}))
    response = client.get("/learn/tracks/basics/analysis")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    rows = _question_rows(page)
    assert rows["Question q1?"][:3] == ["1", "100%", "–"]  # one person: no discrimination
    assert rows["Question q2?"][:3] == ["1", "0%", "–"]
    assert "Right answer: Option a of q1 (100%)" in rows["Question q1?"][3]
    assert "Option c of q1 (0%)" in rows["Question q1?"][3]  # the Macedonian learner's answer is out of reach
    assert rows["Question q1?"][4] == "Too few answers to judge (fewer than 20)."
    assert rows["Question q3?"][:3] == ["0", "–", "–"]
    assert "first attempt" in page and "corrected item-rest correlation" in page
    assert "in your reach: Serbia." in page

    coordinator = client.application.test_client()
    login_as(coordinator, make_user("regional@example.org", roles={Role.COORDINATOR: None}, country="REG"))
    rows = _question_rows(coordinator.get("/learn/tracks/basics/analysis").get_data(as_text=True))
    assert rows["Question q1?"][:2] == ["2", "50%"]
    assert "Option c of q1 (50%)" in rows["Question q1?"][3]


def test_new_attempts_and_people_who_move_are_counted_at_once(client, make_user, session) -> None:
    learner = make_user(roles=[Role.TRAINEE], country="RS")
    add_attempt(session, learner, "first-module", {"q1": ["a"]}, days_ago=3)
    login_as(client, make_user("trainer.rs@example.org", roles={Role.TRAINER: "RS"}))
    assert _question_rows(client.get("/learn/tracks/basics/analysis").get_data(as_text=True))["Question q1?"][0] == "1"
    add_attempt(session, make_user(roles=[Role.TRAINEE], country="RS"), "first-module", {"q1": ["b"]}, days_ago=1)
    rows = _question_rows(client.get("/learn/tracks/basics/analysis").get_data(as_text=True))
    assert rows["Question q1?"][:2] == ["2", "50%"]
    moved = session.get(User, learner.id)
    moved.country_id = session.scalar(sa.select(Country.id).where(Country.code == "MK"))
    session.commit()
    rows = _question_rows(client.get("/learn/tracks/basics/analysis").get_data(as_text=True))
    assert rows["Question q1?"][:2] == ["1", "0%"]  # no longer in the trainer's reach


def test_question_and_option_text_in_the_readers_language(client, make_user, session) -> None:
    learner = make_user(roles=[Role.TRAINEE], country="RS")
    add_attempt(session, learner, "first-module", {"q1": ["a"]}, days_ago=1)
    trainer = make_user(roles={Role.TRAINER: None})
    session.get(User, trainer.id).preferred_language = "bs"
    session.commit()
    login_as(client, trainer)
    page = client.get("/learn/tracks/basics/analysis").get_data(as_text=True)
    assert "Pitanje q1?" in page and "Opcija a pitanja q1" in page
    assert "Question q1?" not in page


def test_learners_and_coaches_may_not_see_it(client, make_user) -> None:
    login_as(client, make_user(roles=[Role.TRAINEE]))
    assert client.get("/learn/tracks/basics/analysis").status_code == 403
    login_as(client, make_user(roles=[Role.COACH]))
    assert client.get("/learn/tracks/basics/analysis").status_code == 403
    login_as(client, make_user(roles=[Role.TRAINER]))
    assert client.get("/learn/tracks/no-such-track/analysis").status_code == 404


def test_the_track_and_results_pages_link_to_it(client, make_user) -> None:
    login_as(client, make_user(roles={Role.TRAINER: "RS"}))
    assert "/learn/tracks/basics/analysis" in client.get("/learn/tracks/basics").get_data(as_text=True)
    assert "/learn/tracks/basics/analysis" in client.get("/learn/tracks/basics/results").get_data(as_text=True)
    login_as(client, make_user(roles=[Role.TRAINEE]))
    assert "/analysis" not in client.get("/learn/tracks/basics").get_data(as_text=True)


def test_the_page_reads_a_constant_number_of_statements(app, client, make_user, session) -> None:
    login_as(client, make_user(roles={Role.COORDINATOR: None}, country="REG"))
    engine = app.extensions["lms.engine"]
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    def measure() -> int:
        statements.clear()
        sa.event.listen(engine, "before_cursor_execute", count)
        try:
            assert client.get("/learn/tracks/basics/analysis").status_code == 200
        finally:
            sa.event.remove(engine, "before_cursor_execute", count)
        return len(statements)

    def learners(number: int) -> None:
        for _ in range(number):
            person = make_user(roles=[Role.TRAINEE], country="ME", password=False)
            add_attempt(session, person, "first-module", {"q1": ["a"], "q2": ["b"]}, days_ago=2)
            add_attempt(session, person, "second-module", {"q1": ["c"]}, days_ago=1)
            session.add(_test(person, session, AssessmentPhase.PRE, 50))

        session.commit()

    learners(2)
    few = measure()
    learners(8)
    assert measure() == few


# --- Learning gain by sex and country --------------------------------------------------------


def _test(person: User, session, phase: AssessmentPhase, score: int | None) -> TrackAssessment:
    track = session.scalar(sa.select(Track.id).where(Track.slug == "basics"))
    return TrackAssessment(
        user_id=person.id,
        track_id=track,
        phase=phase,
        language="" if score is None else "en",
        correct=0 if score is None else score // 50,
        total=0 if score is None else 2,
        score=score or 0,
        answers="{}",
        skipped=score is None,
    )


def _gain_rows(page: str) -> dict[str, list[str]]:
    return {
        html.unescape(label).strip(): [
            html.unescape(c).strip() for c in re.findall(r'<td class="num">(.*?)</td>', cells, re.S)
        ]
        for label, cells in re.findall(r'<th scope="row" class="group">(.*?)</th>(.*?)</tr>', page, re.S)
    }


def test_normalised_gain_by_sex_and_country_never_drops_anyone(app, client, make_user, session) -> None:
    people = [
        # sex, country, pre (None: skipped, "": not taken), post
        (Sex.FEMALE, "RS", 40, 70),
        (Sex.FEMALE, "ME", 20, 60),
        (Sex.MALE, "RS", 50, 50),
        (Sex.MALE, "RS", 30, ""),  # only a pre-test so far
        (Sex.NOT_RECORDED, "ME", 100, 100),  # perfect before: no individual gain
        (Sex.NOT_RECORDED, "RS", None, 80),  # skipped the pre-test, took the post-test
        (Sex.MALE, "ME", None, ""),  # skipped the pre-test only
    ]
    for sex, country, pre, post in people:
        person = make_user(roles=[Role.TRAINEE], sex=sex, country=country, password=False)
        if pre != "":
            session.add(_test(person, session, AssessmentPhase.PRE, pre))
        if post != "":
            session.add(_test(person, session, AssessmentPhase.POST, post))
    session.commit()

    track = session.scalar(sa.select(Track).where(Track.slug == "basics"))
    results = assessment.results(session, track, None)
    everyone, women, men, unrecorded = (
        results.overall,
        results.by_sex[Sex.FEMALE],
        results.by_sex[Sex.MALE],
        results.by_sex[Sex.NOT_RECORDED],
    )
    assert (everyone.both, everyone.pre_only, everyone.post_only, everyone.skipped) == (4, 1, 1, 2)
    assert everyone.normalised_gain == pytest.approx((70 - 52.5) / (100 - 52.5))  # means 52.5 and 70
    assert everyone.individual_gain_mean == pytest.approx((0.5 + 0.5 + 0) / 3)
    assert women.normalised_gain == pytest.approx(0.5) and women.both == 2
    assert (men.both, men.normalised_gain, men.pre_only, men.skipped) == (1, 0, 1, 1)
    assert (unrecorded.both, unrecorded.normalised_gain, unrecorded.individual_count) == (1, None, 0)
    assert (unrecorded.post_only, unrecorded.skipped) == (1, 1)
    assert (everyone.pre_count, everyone.pre_mean) == (5, 48)  # a skipped pre-test is never a score

    login_as(client, make_user(roles={Role.COORDINATOR: None}, country="REG"))
    page = client.get("/learn/tracks/basics/results").get_data(as_text=True)
    rows = _gain_rows(page)
    # took both, <g>, mean of individual gains, individual gains counted, pre only, post only, skipped
    assert rows["Everyone"] == ["4", "0.37", "0.33", "3", "1", "1", "2"]
    assert rows["Female"] == ["2", "0.50", "0.50", "2", "0", "0", "0"]
    assert rows["Male"] == ["1", "0.00", "0.00", "1", "1", "0", "1"]
    assert rows["Not recorded"] == ["1", "–", "–", "0", "0", "1", "1"]
    assert rows["Montenegro"] == ["2", "0.50", "0.50", "1", "0", "0", "1"]
    assert rows["Serbia"] == ["2", "0.27", "0.25", "2", "1", "1", "1"]  # (60 - 45) / (100 - 45)
    analysis_page = client.get("/learn/tracks/basics/analysis").get_data(as_text=True)
    summary = _gain_rows(analysis_page)
    assert set(summary) == {"Everyone", "Female", "Male", "Not recorded"}  # by sex; countries on the results page
    assert summary["Not recorded"] == rows["Not recorded"]


def test_a_trainer_of_serbia_gains_only_from_serbia(client, make_user, session) -> None:
    for country, pre, post in [("RS", 40, 70), ("MK", 0, 100)]:
        person = make_user(roles=[Role.TRAINEE], country=country, password=False)
        session.add(_test(person, session, AssessmentPhase.PRE, pre))
        session.add(_test(person, session, AssessmentPhase.POST, post))
    session.commit()
    login_as(client, make_user(roles={Role.TRAINER: "RS"}))
    rows = _gain_rows(client.get("/learn/tracks/basics/analysis").get_data(as_text=True))
    assert rows["Everyone"][:2] == ["1", "0.50"]


# --- The demo ---------------------------------------------------------------------------------


def test_the_demo_gives_the_trainer_an_item_analysis_and_gains_by_sex(app, runner) -> None:
    from lms.config import ROOT
    from lms.curriculum.store import ContentStore
    from lms.demo import DEMO_PASSWORD
    from tests.conftest import login

    root = ROOT / "content"
    app.config["CONTENT_DIR"] = root
    app.extensions["lms.content"] = ContentStore(root)
    result = runner.invoke(args=["lms", "demo"])
    assert result.exit_code == 0, result.output

    trainer = app.test_client()
    assert login(trainer, "trainer@example.org", DEMO_PASSWORD).status_code == 302
    page = trainer.get("/learn/tracks/gender-equality-in-the-armed-forces/analysis").get_data(as_text=True)
    rows = _question_rows(page)
    assert len(rows) >= 50  # every question of the track's five modules
    judged = [cells for cells in rows.values() if int(cells[0].replace(",", "")) >= 20]
    assert len(judged) >= 0.8 * len(rows)
    assert all(re.fullmatch(r"\d+%", cells[1]) for cells in judged)  # difficulty
    with_discrimination = [cells for cells in judged if re.fullmatch(r"−?-?\d\.\d\d", cells[2])]
    assert len(with_discrimination) >= 0.8 * len(judged)
    positive = [cells for cells in with_discrimination if not cells[2].startswith(("-", "−"))]
    assert len(positive) >= 0.9 * len(with_discrimination)  # the ability model discriminates
    gains = _gain_rows(page)
    assert int(gains["Female"][0]) > 0 and int(gains["Male"][0]) > 0 and "Not recorded" in gains
    assert re.fullmatch(r"0\.\d\d", gains["Everyone"][1])

    with app.app_context(), db.new_session() as session:
        now = db.utcnow()
        assert session.scalar(sa.select(sa.func.max(QuizAttempt.submitted_at))) < now
        assert session.scalar(sa.select(sa.func.max(TrackAssessment.taken_at))) < now
        # Every completion is the first passing attempt of its person and module.
        wrong = session.scalar(
            sa.select(sa.func.count())
            .select_from(ModuleCompletion)
            .join(QuizAttempt, QuizAttempt.id == ModuleCompletion.attempt_id)
            .where(
                sa.or_(
                    ~QuizAttempt.passed,
                    QuizAttempt.user_id != ModuleCompletion.user_id,
                    QuizAttempt.submitted_at != ModuleCompletion.completed_at,
                )
            )
        )
        assert wrong == 0
        cadet = session.scalar(sa.select(User.id).where(User.email == "cadet@example.org"))
        assert not session.scalar(sa.select(sa.func.count()).where(QuizAttempt.user_id == cadet))
        assert not session.scalar(sa.select(sa.func.count()).where(TrackAssessment.user_id == cadet))

    cadet_client = app.test_client()
    assert login(cadet_client, "cadet@example.org", DEMO_PASSWORD).status_code == 302
    track_page = cadet_client.get("/learn/tracks/gender-equality-in-the-armed-forces").get_data(as_text=True)
    assert "/learn/tracks/gender-equality-in-the-armed-forces/tests/pre" in track_page  # the invitation
