"""A year of online learning in the demo: pre-tests, knowledge checks, completions and
post-tests of the demo's trainees and staff, so that a trainer's item analysis and the
learning gain by sex show real figures from the first day.

Everyone learns the way the platform lets them: a pre-test before the first module (most
take it, some skip it on purpose), then each module's knowledge check with the questions
drawn as for a real learner (:func:`lms.curriculum.attempts.draw`, with a seeded random),
a retry after a failed attempt up to the track's limit, a completion on the first pass, and
the post-test once every module is complete. Answers follow a simple ability model: each
person has an ability, each question a difficulty and a discrimination, so some questions
are easier than others and people who know more answer more of them right; abilities grow
by reading a module, by retrying and by finishing the track. Sex plays no part in it.

Only the 360 demo trainees and staff learn here; the demo accounts keep a clean slate, so
``cadet@example.org`` still meets the pre-test on entering a track. Deterministic (a fixed
seed); times lie in the past months.
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lms import db
from lms.curriculum import assessment, attempts, content, service
from lms.models import (
    AssessmentPhase,
    Country,
    Module,
    ModuleCompletion,
    QuizAttempt,
    Track,
    TrackAssessment,
    User,
)

SEED = 1325
# The track the demo tells its story with: most learners take it, so its item analysis is
# judged (20 answers or more per question); a few take each other track.
MAIN_TRACK = "gender-equality-in-the-armed-forces"
MAIN_SHARE, OTHER_SHARE = 0.35, 0.06
LANGUAGES = {"BA": "bs", "ME": "cnr", "MK": "mk", "RS": "sr-Latn"}
FIRST_DAY, LAST_DAY = 330, 75  # days ago that learners start a track, at the earliest and latest


@dataclass(frozen=True)
class Item:
    """How a question behaves: difficulty ``b``, discrimination ``a``, and how much each
    wrong option attracts those who get it wrong."""

    b: float
    a: float
    pull: dict[str, float]


@dataclass
class Plan:
    """One person's way through one track."""

    user: User
    language: str
    ability: float
    start: datetime
    pre: str  # "take", "skip" or "none"
    modules: list[tuple[Module, content.Module]]
    # module id -> the passing attempt's id and values; the time of the last attempt
    passed: dict[int, tuple[int, dict[str, object]]] = field(default_factory=dict)
    last: dict[int, datetime] = field(default_factory=dict)
    stopped: set[int] = field(default_factory=set)  # modules given up after failing


def _items(rng: random.Random, curriculum: content.Curriculum) -> dict[tuple[str, str], Item]:
    items = {}
    for module in sorted(curriculum.modules.values(), key=lambda m: m.slug):
        for question_id, question in module.questions.items():
            wrong = [option.id for option in question.options if not option.correct]
            pull = {option_id: rng.uniform(0.3, 1.5) for option_id in wrong}
            if len(wrong) > 1 and rng.random() < 0.06:
                pull[rng.choice(wrong)] = 0.0  # a distractor that does not distract
            items[(module.slug, question_id)] = Item(rng.gauss(-0.3, 0.9), rng.uniform(0.9, 2.6), pull)
    return items


def _answer(rng: random.Random, question: content.Question, item: Item, ability: float) -> frozenset[str]:
    right = question.correct_ids
    if rng.random() < 1 / (1 + math.exp(-item.a * (ability - item.b))):
        return right
    wrong = [option_id for option_id, pull in item.pull.items() if pull > 0]
    if question.multiple and (not wrong or rng.random() < 0.5):
        return right - {rng.choice(sorted(right))}  # missed one of the right answers
    if not wrong:
        return right - {rng.choice(sorted(right))} if len(right) > 1 else right
    chosen = rng.choices(wrong, weights=[item.pull[option_id] for option_id in wrong])[0]
    return (right | {chosen}) if question.multiple else frozenset({chosen})


def _learners(session: Session) -> list[tuple[User, str]]:
    """The demo trainees and staff (never the demo accounts), with their country's code."""
    return list(
        session.execute(
            sa.select(User, Country.code)
            .join(Country, Country.id == User.country_id)
            .where(sa.or_(User.email.like("%@demo.example.org"), User.email.like("%@staff.example.org")))
            .order_by(User.id)
        ).tuples()
    )


def _plans(
    rng: random.Random,
    curriculum: content.Curriculum,
    track: content.Track,
    rows: dict[str, Module],
    learners: list[tuple[User, str]],
    now: datetime,
) -> list[Plan]:
    share = MAIN_SHARE if track.slug == MAIN_TRACK else OTHER_SHARE
    modules = [(rows[m.slug], m) for m in curriculum.track_modules(track) if m.slug in rows]
    plans = []
    for user, country in learners:
        if rng.random() >= share:
            continue
        ability = rng.gauss(0.0, 1.0)
        # Most go through the whole track; some stop after a few modules.
        reach = len(modules) if rng.random() < 0.8 else rng.randint(1, len(modules))
        roll = rng.random()
        plans.append(
            Plan(
                user=user,
                language=LANGUAGES.get(country, "en"),
                ability=ability,
                start=now - timedelta(days=rng.uniform(LAST_DAY, FIRST_DAY), hours=rng.uniform(0, 8)),
                pre="take" if roll < 0.8 else "skip" if roll < 0.9 else "none",
                modules=modules[:reach],
            )
        )
    return plans


def _test(
    rng: random.Random,
    plan: Plan,
    track_row: Track,
    questions: list[assessment.AssessmentQuestion],
    items: dict[tuple[str, str], Item],
    phase: AssessmentPhase,
    ability: float,
    at: datetime,
) -> dict[str, object]:
    """A pre- or post-test row, graded as :func:`lms.curriculum.assessment.take` grades."""
    by_key = {q.key: q.question for q in questions}
    answers = {q.key: _answer(rng, q.question, items[(q.module.slug, q.question.id)], ability) for q in questions}
    correct, total, percent = service.score(answers, by_key)
    return {
        "user_id": plan.user.id,
        "track_id": track_row.id,
        "phase": phase,
        "language": plan.language,
        "correct": correct,
        "total": total,
        "score": percent,
        "answers": service.encode_answers(answers),
        "skipped": False,
        "taken_at": at,
    }


def _skipped(plan: Plan, track_row: Track, at: datetime) -> dict[str, object]:
    """A pre-test skipped on purpose, as :func:`lms.curriculum.assessment.skip_pre` records it."""
    return {
        "user_id": plan.user.id,
        "track_id": track_row.id,
        "phase": AssessmentPhase.PRE,
        "language": "",
        "correct": 0,
        "total": 0,
        "score": 0,
        "answers": "{}",
        "skipped": True,
        "taken_at": at,
    }


def _attempt(
    rng: random.Random,
    session: Session,
    plan: Plan,
    row: Module,
    item: content.Module,
    items: dict[tuple[str, str], Item],
    ability: float,
) -> dict[str, object]:
    """One knowledge-check attempt, drawn and graded as :func:`lms.curriculum.service.grade` does."""
    drawn = attempts.draw(session, plan.user.id, row, item, chance=rng)
    questions = {question_id: item.questions[question_id] for question_id, _options in drawn}
    answers = {
        question_id: _answer(rng, question, items[(item.slug, question_id)], ability)
        for question_id, question in questions.items()
    }
    correct, total, percent = service.score(answers, questions)
    return {
        "user_id": plan.user.id,
        "module_id": row.id,
        "language": service.reading_language(item, plan.language),
        "correct": correct,
        "total": total,
        "score": percent,
        "passed": percent >= item.pass_mark,
        "answers": service.encode_answers(answers),
        "shown": json.dumps(drawn),
    }


def load_demo_learning(session: Session, curriculum: content.Curriculum) -> tuple[int, int]:
    """Create the learning history of ``curriculum`` (registered in the database already);
    returns (learners, knowledge-check attempts)."""
    rng = random.Random(SEED)  # noqa: S311 - demo data, not a secret
    rows = service.active_modules(session)
    track_rows = service.active_tracks(session)
    revisions = {
        row.id: service.ensure_revision(session, row, curriculum.modules[slug]).id
        for slug, row in rows.items()
        if slug in curriculum.modules
    }
    now = db.utcnow().replace(microsecond=0)
    items = _items(rng, curriculum)
    learners = _learners(session)
    plans: list[tuple[content.Track, Plan]] = []
    for track in curriculum.ordered_tracks():
        if track.slug in track_rows:
            plans += [(track, plan) for plan in _plans(rng, curriculum, track, rows, learners, now)]

    # Pre-tests, before the first module.
    tests = []
    for track, plan in plans:
        questions = assessment.questions_of(curriculum, track)
        at = plan.start - timedelta(minutes=20)
        if plan.pre == "take" and questions:
            ability = plan.ability - 0.5
            tests.append(_test(rng, plan, track_rows[track.slug], questions, items, AssessmentPhase.PRE, ability, at))
        elif plan.pre == "skip" and questions:
            tests.append(_skipped(plan, track_rows[track.slug], at))

    # Knowledge checks, in rounds: every first attempt, then the retries of those who failed.
    # Each round is written before the next one draws, so a retry asks the questions least seen.
    made = 0
    for round_number in range(max((track.policy.attempts for track, _plan in plans), default=0)):
        batch: list[dict[str, object]] = []
        owners: list[tuple[Plan, int]] = []
        for track, plan in plans:
            if round_number >= track.policy.attempts:
                continue
            for position, (row, item) in enumerate(plan.modules):
                if row.id in plan.passed or row.id in plan.stopped:
                    continue
                if round_number and rng.random() < 0.05:
                    plan.stopped.add(row.id)  # gave up after a failed attempt
                    continue
                if round_number == 0:
                    at = plan.start + timedelta(days=6 * position + rng.uniform(0, 4), minutes=rng.uniform(10, 90))
                else:
                    at = plan.last[row.id] + timedelta(days=rng.uniform(0.5, 3))
                at = min(at, now - timedelta(hours=2))
                ability = plan.ability + 0.6 + 0.7 * round_number  # read the module, then again
                made += 1
                batch.append(
                    _attempt(rng, session, plan, row, item, items, ability)
                    | {"revision_id": revisions[row.id], "nonce": f"demo-{made}", "submitted_at": at}
                )
                owners.append((plan, row.id))
                plan.last[row.id] = at
        if not batch:
            break
        ids = session.scalars(sa.insert(QuizAttempt).returning(QuizAttempt.id, sort_by_parameter_order=True), batch)
        for (plan, module_id), values, attempt_id in zip(owners, batch, ids, strict=True):
            if values["passed"]:
                plan.passed[module_id] = (attempt_id, values)

    # Completions on the first pass, and the post-test once every module of the track is done.
    completions = []
    for track, plan in plans:
        for module_id, (attempt_id, values) in plan.passed.items():
            completions.append(
                {
                    "user_id": plan.user.id,
                    "module_id": module_id,
                    "revision_id": values["revision_id"],
                    "attempt_id": attempt_id,
                    "language": values["language"],
                    "completed_at": values["submitted_at"],
                }
            )
        questions = assessment.questions_of(curriculum, track)
        active = sum(1 for module in curriculum.track_modules(track) if module.slug in rows)
        if questions and len(plan.passed) == active and rng.random() < 0.85:
            at = min(max(plan.last.values()) + timedelta(days=rng.uniform(0.2, 5)), now - timedelta(hours=1))
            ability = plan.ability + 0.8 + rng.gauss(0, 0.5)
            tests.append(_test(rng, plan, track_rows[track.slug], questions, items, AssessmentPhase.POST, ability, at))
    for model, values in ((ModuleCompletion, completions), (TrackAssessment, tests)):
        if values:
            session.execute(sa.insert(model), values)
    return len({plan.user.id for _track, plan in plans}), made
