"""Item analysis: how well each knowledge-check question measures, for trainers and coordinators.

For every question of a track's modules: how often it was asked (``n``), the share of
people who answered it right (its difficulty, ``p``), its discrimination (the point-biserial
correlation between answering it right and the score on the *other* questions of the same
attempt: the corrected item-rest correlation) and how often each option was chosen.
Each person's *first* attempt at a module counts, once: later attempts follow the
feedback of earlier ones and would measure the retry, not the question.

The reading is set-based: one statement fetches the first attempts of the track's
modules for the people in the actor's reach, whatever their number; each attempt's JSON is
parsed once, and the statistics are running sums. The pure statistics are small functions
below, tested on hand-computed cases.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lms.curriculum import content
from lms.models import Country, Module, QuizAttempt, User

# Below this many answers a question's figures are shown but not judged.
MIN_ANSWERS = 20
VERY_HARD = 0.2  # fewer than this share answer right
VERY_EASY = 0.95  # more than this share answer right
WEAK_DISCRIMINATION = 0.2
# Variances below this are rounding noise: the correlation is undefined.
_EPSILON = 1e-12


# --- Pure statistics ------------------------------------------------------------------------


def difficulty(scores: Sequence[int]) -> float | None:
    """The share of right answers among 0/1 item scores (``None`` when nobody answered)."""
    return sum(scores) / len(scores) if scores else None


def correlation_from_sums(n: int, sx: float, sy: float, sxx: float, syy: float, sxy: float) -> float | None:
    """Pearson's r from running sums; ``None`` when either variable does not vary (or n < 2)."""
    if n < 2:
        return None
    var_x = n * sxx - sx * sx
    var_y = n * syy - sy * sy
    if var_x <= _EPSILON * n * n or var_y <= _EPSILON * n * n:
        return None
    r = (n * sxy - sx * sy) / math.sqrt(var_x * var_y)
    return max(-1.0, min(1.0, r))


def point_biserial(item: Sequence[int], rest: Sequence[float]) -> float | None:
    """The point-biserial correlation of 0/1 item scores with the rest scores (the score on
    the other questions of the same attempts). ``None`` when it cannot discriminate: all
    right, all wrong, or rest scores all equal."""
    if len(item) != len(rest):
        raise ValueError("item and rest scores must pair up")
    return correlation_from_sums(
        len(item),
        sum(item),
        sum(rest),
        sum(x * x for x in item),
        sum(y * y for y in rest),
        sum(x * y for x, y in zip(item, rest, strict=True)),
    )


def rest_scores(scores: Sequence[int]) -> list[float | None]:
    """For one attempt's 0/1 item scores: each item's rest score, the share right of the
    other items (``None`` for an attempt that asked a single question)."""
    if len(scores) < 2:
        return [None] * len(scores)
    total, others = sum(scores), len(scores) - 1
    return [(total - score) / others for score in scores]


# --- Flags ---------------------------------------------------------------------------------

# Why a question may need a second look; the page words each reason.
HARD, EASY, WEAK, NEGATIVE, UNUSED_OPTION = "hard", "easy", "weak", "negative", "unused-option"


@dataclass(frozen=True)
class Flag:
    kind: str
    option_id: str = ""  # for an option nobody chooses


def flags_for(n: int, p: float | None, r: float | None, unused_options: Iterable[str]) -> list[Flag]:
    """The reasons to look at a question again; none below :data:`MIN_ANSWERS` answers."""
    if n < MIN_ANSWERS or p is None:
        return []
    found = []
    if p < VERY_HARD:
        found.append(Flag(HARD))
    if p > VERY_EASY:
        found.append(Flag(EASY))
    if r is not None and r < 0:
        found.append(Flag(NEGATIVE))
    elif r is not None and r < WEAK_DISCRIMINATION:
        found.append(Flag(WEAK))
    found.extend(Flag(UNUSED_OPTION, option_id) for option_id in unused_options)
    return found


# --- Per question and per module ------------------------------------------------------------


@dataclass
class OptionStats:
    option: content.Option
    text: str  # in the reader's language
    chosen: int = 0
    share: float | None = None


@dataclass
class QuestionStats:
    question: content.Question
    text: str  # in the reader's language
    options: list[OptionStats]
    n: int = 0
    right: int = 0
    discrimination: float | None = None
    flags: list[Flag] = field(default_factory=list)
    # Running sums for the item-rest correlation (attempts that asked two or more questions).
    _sums: list[float] = field(default_factory=lambda: [0, 0.0, 0.0, 0.0, 0.0], repr=False)

    @property
    def p(self) -> float | None:
        return self.right / self.n if self.n else None

    @property
    def judged(self) -> bool:
        return self.n >= MIN_ANSWERS

    def option_text(self, option_id: str) -> str:
        return next((o.text for o in self.options if o.option.id == option_id), option_id)


@dataclass
class ModuleStats:
    module: content.Module
    title: str
    people: int  # first attempts counted
    questions: list[QuestionStats]

    @property
    def flagged(self) -> int:
        return sum(1 for question in self.questions if question.flags)


def _asked(shown: str | None, answers: dict[str, list[str]], pool: dict[str, content.Question]) -> list[str]:
    """The questions an attempt asked that the pool still has. Attempts from before pools
    (``shown`` NULL) asked every question of the module as it then was; they could only be
    submitted complete, so their answers name those questions."""
    if shown:
        return [question_id for question_id, _options in json.loads(shown) if question_id in pool]
    return [question_id for question_id in answers if question_id in pool]


def module_stats(module: content.Module, attempts: Iterable[tuple[str | None, str]], language: str) -> ModuleStats:
    """The statistics of one module from its first attempts, given as (shown, answers) JSON."""
    pool = module.questions
    wording = module.text(language).questions
    stats: dict[str, QuestionStats] = {}
    for question_id, question in pool.items():
        words = wording.get(question_id, question)
        option_words = {option.id: option.text for option in words.options}
        stats[question_id] = QuestionStats(
            question,
            words.text,
            [OptionStats(option, option_words.get(option.id, option.text)) for option in question.options],
        )
    keys = {question_id: question.correct_ids for question_id, question in pool.items()}
    option_index = {
        question_id: {option.id: index for index, option in enumerate(question.options)}
        for question_id, question in pool.items()
    }
    people = 0
    for shown, answers_json in attempts:
        answers = json.loads(answers_json) if answers_json else {}
        asked = _asked(shown, answers, pool)
        if not asked:
            continue
        people += 1
        scores = [1 if frozenset(answers.get(question_id, ())) == keys[question_id] else 0 for question_id in asked]
        for question_id, score, rest in zip(asked, scores, rest_scores(scores), strict=True):
            item = stats[question_id]
            item.n += 1
            item.right += score
            index = option_index[question_id]
            for option_id in answers.get(question_id, ()):
                position = index.get(option_id)
                if position is not None:
                    item.options[position].chosen += 1
            if rest is not None:
                sums = item._sums
                sums[0] += 1
                sums[1] += score
                sums[2] += rest
                sums[3] += rest * rest
                sums[4] += score * rest
    for item in stats.values():
        count, sx, sy, syy, sxy = item._sums
        item.discrimination = correlation_from_sums(int(count), sx, sy, sx, syy, sxy)
        for option in item.options:
            option.share = option.chosen / item.n if item.n else None
        unused = [option.option.id for option in item.options if not option.option.correct and option.chosen == 0]
        item.flags = flags_for(item.n, item.p, item.discrimination, unused)
    return ModuleStats(module, module.text(language).title, people, list(stats.values()))


# --- Reading the database -------------------------------------------------------------------


def first_attempts(
    session: Session, module_ids: Sequence[int], country_ids: set[int] | None
) -> dict[int, list[tuple[str | None, str]]]:
    """Each person's first attempt at each of ``module_ids`` (people in ``country_ids``;
    ``None``: everyone), as (shown, answers) JSON by module id. One statement."""
    if not module_ids or (country_ids is not None and not country_ids):
        return {}
    ranked = sa.select(
        QuizAttempt.id,
        sa.func.row_number()
        .over(
            partition_by=(QuizAttempt.user_id, QuizAttempt.module_id),
            order_by=(QuizAttempt.submitted_at, QuizAttempt.id),
        )
        .label("position"),
    ).where(QuizAttempt.module_id.in_(module_ids))
    if country_ids is not None:
        ranked = ranked.join(User, User.id == QuizAttempt.user_id).where(User.country_id.in_(country_ids))
    first = ranked.subquery()
    query = (
        sa.select(QuizAttempt.module_id, QuizAttempt.shown, QuizAttempt.answers)
        .join(first, first.c.id == QuizAttempt.id)
        .where(first.c.position == 1)
    )
    found: dict[int, list[tuple[str | None, str]]] = {module_id: [] for module_id in module_ids}
    for module_id, shown, answers in session.execute(query).tuples():
        found[module_id].append((shown, answers))
    return found


@dataclass
class TrackAnalysis:
    modules: list[ModuleStats]
    countries: list[str] | None  # the codes of the countries in reach; None: all
    min_answers: int = MIN_ANSWERS

    @property
    def people(self) -> int:
        return max((module.people for module in self.modules), default=0)


def track_analysis(
    session: Session,
    curriculum: content.Curriculum,
    track: content.Track,
    country_ids: set[int] | None,
    language: str,
) -> TrackAnalysis:
    """The item analysis of every active module of ``track`` for the people in ``country_ids``."""
    items = curriculum.track_modules(track)
    rows = dict(
        session.execute(
            sa.select(Module.slug, Module.id).where(
                Module.slug.in_([item.slug for item in items]), Module.archived_at.is_(None)
            )
        )
        .tuples()
        .all()
    )
    found = first_attempts(session, list(rows.values()), country_ids)
    modules = [module_stats(item, found.get(rows[item.slug], []), language) for item in items if item.slug in rows]
    countries = None
    if country_ids is not None:
        countries = list(
            session.scalars(sa.select(Country.code).where(Country.id.in_(country_ids)).order_by(Country.position))
        )
    return TrackAnalysis(modules, countries)
