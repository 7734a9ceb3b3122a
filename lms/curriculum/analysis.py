"""Item analysis: how well each knowledge-check question measures, for trainers and coordinators.

For every question of a track's modules: how often it was asked (``n``), the share of
people who answered it right (its difficulty, ``p``), its discrimination (the point-biserial
correlation between answering it right and the score on the *other* questions of the same
attempt: the corrected item-rest correlation) and how often each option was chosen.
Each person's *first* attempt at a module counts, once: later attempts follow the
feedback of earlier ones and would measure the retry, not the question.

The reading is set-based: one statement fetches the first attempts of the track's
modules for the people in the actor's reach, whatever their number; each attempt's answers
are parsed once and added to running sums per question (a module's *tally*). Tallies are
kept between views and recounted only when their module has a new attempt or the scope's
people change, so a page view at the programme's size costs a few small statements. The
pure statistics are small functions below, tested on hand-computed cases.
"""

from __future__ import annotations

import json
import math
import threading
from collections import OrderedDict
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

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

# One question's running figures: times asked, answered right, then for the attempts that
# asked two or more questions (so that there is a rest): their number and the sums of the
# item score x, the rest score y, y squared and x times y.
N, RIGHT, PAIRED, SUM_X, SUM_Y, SUM_YY, SUM_XY = range(7)


@dataclass
class ModuleTally:
    """The counts one module's first attempts add up to, in no language: what the
    statistics are made from, and what is cached."""

    people: int
    figures: dict[str, list[float]]  # question id -> the running figures above
    chosen: dict[str, dict[str, int]]  # question id -> option id -> times chosen


def tally(module: content.Module, attempts: Iterable[tuple[str, int, str | None]]) -> ModuleTally:
    """Add up first attempts, given as (answers JSON, questions asked, shown JSON).

    An attempt is recorded only when every question it asked is answered, so its answers
    name the questions asked (attempts from before pools, with nothing in ``shown``, asked
    every question the module then had); should an attempt ever answer fewer than it
    asked, ``shown`` names the others, which count as wrong. Questions no longer in the
    pool are left out. This loop is the page's cost at scale: it is kept plain.
    """
    keys = {question_id: sorted(question.correct_ids) for question_id, question in module.questions.items()}
    figures: dict[str, list[float]] = {question_id: [0, 0, 0, 0, 0.0, 0.0, 0.0] for question_id in keys}
    chosen: dict[str, dict[str, int]] = {question_id: {} for question_id in keys}
    loads = json.loads
    people = 0
    for answers_json, asked_count, shown in attempts:
        answers: dict[str, list[str]] = loads(answers_json) if answers_json else {}
        asked: Iterable[str] = answers
        if len(answers) < asked_count and shown:
            asked = [question_id for question_id, _options in loads(shown)]
        scored = []
        for question_id in asked:
            key = keys.get(question_id)
            if key is None:
                continue
            given = answers.get(question_id) or []
            score = 1 if given == key or (len(given) > 1 and sorted(given) == key) else 0
            scored.append((question_id, given, score))
        if not scored:
            continue
        people += 1
        total = sum(score for _question_id, _given, score in scored)
        others = len(scored) - 1
        for question_id, given, score in scored:
            figure = figures[question_id]
            figure[N] += 1
            figure[RIGHT] += score
            if others:
                rest = (total - score) / others
                figure[PAIRED] += 1
                figure[SUM_X] += score
                figure[SUM_Y] += rest
                figure[SUM_YY] += rest * rest
                figure[SUM_XY] += score * rest
            counts = chosen[question_id]
            for option_id in given:
                counts[option_id] = counts.get(option_id, 0) + 1
    return ModuleTally(people, figures, chosen)


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


def module_stats(module: content.Module, counts: ModuleTally, language: str) -> ModuleStats:
    """The statistics of one module, worded in ``language`` where it is translated."""
    wording = module.text(language).questions
    questions = []
    for question_id, question in module.questions.items():
        words = wording.get(question_id, question)
        option_words = {option.id: option.text for option in words.options}
        figure, chosen = counts.figures[question_id], counts.chosen[question_id]
        n = int(figure[N])
        options = [
            OptionStats(
                option,
                option_words.get(option.id, option.text),
                chosen.get(option.id, 0),
                chosen.get(option.id, 0) / n if n else None,
            )
            for option in question.options
        ]
        stats = QuestionStats(question, words.text, options, n, int(figure[RIGHT]))
        sum_x = figure[SUM_X]
        stats.discrimination = correlation_from_sums(
            int(figure[PAIRED]), sum_x, figure[SUM_Y], sum_x, figure[SUM_YY], figure[SUM_XY]
        )
        unused = [o.option.id for o in options if not o.option.correct and o.chosen == 0]
        stats.flags = flags_for(n, stats.p, stats.discrimination, unused)
        questions.append(stats)
    return ModuleStats(module, module.text(language).title, counts.people, questions)


# --- Reading the database -------------------------------------------------------------------


def first_attempts(
    session: Session, module_ids: Sequence[int], country_ids: set[int] | None
) -> dict[int, list[tuple[str, int, str | None]]]:
    """Each person's first attempt at each of ``module_ids`` (people in ``country_ids``;
    ``None``: everyone), as (answers JSON, questions asked, shown JSON) by module id. One
    statement, whatever the number of people."""
    found: dict[int, list[tuple[str, int, str | None]]] = {module_id: [] for module_id in module_ids}
    if not module_ids or (country_ids is not None and not country_ids):
        return found
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
        sa.select(QuizAttempt.module_id, QuizAttempt.answers, QuizAttempt.total, QuizAttempt.shown)
        .join(first, first.c.id == QuizAttempt.id)
        .where(first.c.position == 1)
    )
    for module_id, answers, total, shown in session.execute(query).tuples():
        found[module_id].append((answers, total, shown))
    return found


class TallyCache:
    """Module tallies kept between page views (one per process), each valid while its
    module's attempts and the people in its scope are unchanged: a new attempt recounts
    only its own module."""

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self._items: OrderedDict[Hashable, tuple[Hashable, ModuleTally]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, version: Hashable) -> ModuleTally | None:
        with self._lock:
            found = self._items.get(key)
            if found is None or found[0] != version:
                return None
            self._items.move_to_end(key)
            return found[1]

    def put(self, key: Hashable, version: Hashable, counts: ModuleTally) -> None:
        with self._lock:
            self._items[key] = (version, counts)
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)


def _versions(session: Session, module_ids: Sequence[int], country_ids: set[int] | None) -> dict[int, Hashable]:
    """What each module's tally depends on, in one small statement: its attempts (their
    number and newest id) and, for a scoped reader, who is in the scope (their number and
    the sum of their ids, which changes when someone moves in or out)."""
    people: list[Any] = [sa.null(), sa.null()]
    if country_ids is not None:
        in_scope = User.country_id.in_(country_ids)
        people = [
            sa.select(sa.func.count()).where(in_scope).scalar_subquery(),
            sa.select(sa.func.sum(User.id)).where(in_scope).scalar_subquery(),
        ]
    rows = session.execute(
        sa.select(QuizAttempt.module_id, sa.func.count(), sa.func.max(QuizAttempt.id), *people)
        .where(QuizAttempt.module_id.in_(module_ids))
        .group_by(QuizAttempt.module_id)
    ).tuples()
    return {module_id: tuple(version) for module_id, *version in rows}


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
    cache: TallyCache | None = None,
) -> TrackAnalysis:
    """The item analysis of every active module of ``track`` for the people in ``country_ids``.

    At most four statements whatever the number of people: the modules, what their tallies
    depend on (with a ``cache``), the first attempts of the modules not cached, and the
    names of the countries in reach."""
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
    active = [item for item in items if item.slug in rows]
    scope = None if country_ids is None else frozenset(country_ids)
    counted: dict[str, ModuleTally] = {}
    versions: dict[int, Hashable] = {}
    if cache is not None and active:
        versions = _versions(session, [rows[item.slug] for item in active], country_ids)
        for item in active:
            found = cache.get((rows[item.slug], item.content_hash, scope), versions.get(rows[item.slug]))
            if found is not None:
                counted[item.slug] = found
    missing = [item for item in active if item.slug not in counted]
    if missing:
        attempts = first_attempts(session, [rows[item.slug] for item in missing], country_ids)
        for item in missing:
            counted[item.slug] = tally(item, attempts[rows[item.slug]])
            if cache is not None:
                key = (rows[item.slug], item.content_hash, scope)
                cache.put(key, versions.get(rows[item.slug]), counted[item.slug])
    countries = None
    if country_ids is not None:
        countries = list(
            session.scalars(sa.select(Country.code).where(Country.id.in_(country_ids)).order_by(Country.position))
        )
    return TrackAnalysis([module_stats(item, counted[item.slug], language) for item in active], countries)
