"""A track's pre-test and post-test: the same questions before and after, to measure learning.

The pre-test is offered where learners start (the track page and every module page of the
track) until they take it or skip it on purpose; it can be taken until the learner
completes a module of the track (after that it would no longer measure what they knew
before). The post-test is offered once every module of the track is complete. Each is
taken once. Results are reported by sex and country, always
including "not recorded", so trainers see who gained what.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lms import db
from lms.curriculum import content
from lms.curriculum.service import CheckError, Progress, encode_answers, parse_answers, read_token, score
from lms.models import AssessmentPhase, Country, Module, ModuleCompletion, Sex, Track, TrackAssessment, User


@dataclass(frozen=True)
class AssessmentQuestion:
    key: str  # "module-slug/question-id": the form field and the stored answer key
    module: content.Module
    question: content.Question


def questions_of(curriculum: content.Curriculum, track: content.Track) -> list[AssessmentQuestion]:
    items = []
    for module_slug, question_id in track.assessment:
        module = curriculum.modules.get(module_slug)
        if module is not None and question_id in module.questions:
            items.append(AssessmentQuestion(f"{module_slug}/{question_id}", module, module.questions[question_id]))
    return items


def token_scope(track_row: Track, phase: AssessmentPhase) -> str:
    return f"assessment:{track_row.id}:{phase}"


@dataclass
class AssessmentState:
    pre: TrackAssessment | None  # taken or skipped
    post: TrackAssessment | None
    can_take_pre: bool
    can_take_post: bool

    @property
    def offer_pre(self) -> bool:
        """Invite the learner to the pre-test: open, and not skipped on purpose."""
        return self.can_take_pre and self.pre is None

    @property
    def pre_taken(self) -> TrackAssessment | None:
        return self.pre if self.pre is not None and not self.pre.skipped else None


def state_for(
    session: Session, user: User, track_row: Track, progress: Progress, has_questions: bool
) -> AssessmentState:
    taken = {
        row.phase: row
        for row in session.scalars(
            sa.select(TrackAssessment).where(
                TrackAssessment.user_id == user.id, TrackAssessment.track_id == track_row.id
            )
        )
    }
    pre, post = taken.get(AssessmentPhase.PRE), taken.get(AssessmentPhase.POST)
    return AssessmentState(
        pre=pre,
        post=post,
        can_take_pre=has_questions and (pre is None or pre.skipped) and progress.done == 0,
        can_take_post=has_questions and post is None and progress.complete,
    )


def take(
    session: Session,
    *,
    user: User,
    track_row: Track,
    questions: list[AssessmentQuestion],
    phase: AssessmentPhase,
    state: AssessmentState,
    language: str,
    form: Mapping[str, Sequence[str]],
    token: str,
) -> TrackAssessment:
    """Grade and record a pre- or post-test (once per person, track and phase)."""
    allowed = state.can_take_pre if phase == AssessmentPhase.PRE else state.can_take_post
    if not allowed:
        raise CheckError(_l("This test is not open to you now."))
    read_token(token, user.id, token_scope(track_row, phase))
    by_key = {item.key: item.question for item in questions}
    answers = parse_answers(form, by_key)
    correct, total, percent = score(answers, by_key)
    skipped = state.pre if phase == AssessmentPhase.PRE and state.pre is not None and state.pre.skipped else None
    row = skipped or TrackAssessment(user_id=user.id, track_id=track_row.id, phase=phase)
    row.language, row.correct, row.total, row.score = language, correct, total, percent
    row.answers, row.skipped, row.taken_at = encode_answers(answers), False, db.utcnow()
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError as error:
        raise CheckError(_l("You have already taken this test.")) from error
    return row


def skip_pre(session: Session, *, user: User, track_row: Track, state: AssessmentState) -> TrackAssessment:
    """Record that the learner chose not to take the pre-test now: it is no longer offered."""
    if not state.offer_pre:
        raise CheckError(_l("This test is not open to you now."))
    row = TrackAssessment(
        user_id=user.id,
        track_id=track_row.id,
        phase=AssessmentPhase.PRE,
        language="",
        correct=0,
        total=0,
        score=0,
        answers="{}",
        skipped=True,
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError as error:
        raise CheckError(_l("You have already taken this test.")) from error
    return row


def track_progress(session: Session, curriculum: content.Curriculum, user: User, track: content.Track) -> Progress:
    """Modules of ``track`` the person completed, out of its active ones (two small queries)."""
    slugs = [module.slug for module in curriculum.track_modules(track)]
    active = set(session.scalars(sa.select(Module.slug).where(Module.slug.in_(slugs), Module.archived_at.is_(None))))
    done = session.scalar(
        sa.select(sa.func.count())
        .select_from(ModuleCompletion)
        .join(Module, Module.id == ModuleCompletion.module_id)
        .where(ModuleCompletion.user_id == user.id, Module.slug.in_(active))
    )
    return Progress(done or 0, len(active))


def person_tests(session: Session, person: User) -> dict[str, dict[str, TrackAssessment]]:
    """A person's pre- and post-tests (taken or skipped), by track slug and phase."""
    found: dict[str, dict[str, TrackAssessment]] = {}
    for slug, row in session.execute(
        sa.select(Track.slug, TrackAssessment)
        .join(Track, Track.id == TrackAssessment.track_id)
        .where(TrackAssessment.user_id == person.id)
    ).tuples():
        found.setdefault(slug, {})[str(row.phase)] = row
    return found


def normalised_gain(pre_mean: float | None, post_mean: float | None) -> float | None:
    """Hake's class-average normalised gain <g> = (post - pre) / (100 - pre), from the mean
    scores (percent) of the people who took both tests; ``None`` when it is undefined."""
    if pre_mean is None or post_mean is None or pre_mean >= 100:
        return None
    return (post_mean - pre_mean) / (100 - pre_mean)


def individual_gain(pre: int, post: int) -> float | None:
    """One person's normalised gain; undefined (``None``) for a perfect pre-test."""
    return (post - pre) / (100 - pre) if pre < 100 else None


@dataclass
class GroupResult:
    """Scores of one group: the averages, and the gain of those who took both tests.

    Nobody is dropped silently: people with only a pre-test or only a post-test, and
    pre-tests skipped on purpose (never a score), are counted and shown. Kept as counts
    and sums, so that a group of any size is added up in the database."""

    pre_count: int = 0
    pre_sum: float = 0
    post_count: int = 0
    post_sum: float = 0
    both: int = 0  # took both tests
    both_pre_sum: float = 0
    both_post_sum: float = 0
    individual_count: int = 0  # took both, with a pre-test below full marks
    individual_sum: float = 0.0  # of their individual normalised gains
    pre_only: int = 0
    post_only: int = 0
    skipped: int = 0  # pre-tests skipped on purpose

    @classmethod
    def person(cls, pre: int | None, post: int | None, skipped: bool = False) -> GroupResult:
        """One person's part: their pre-test and post-test scores (``None``: not taken)."""
        both = pre is not None and post is not None
        gain = individual_gain(pre, post) if pre is not None and post is not None else None
        return cls(
            pre_count=int(pre is not None),
            pre_sum=pre or 0,
            post_count=int(post is not None),
            post_sum=post or 0,
            both=int(both),
            both_pre_sum=(pre or 0) if both else 0,
            both_post_sum=(post or 0) if both else 0,
            individual_count=int(gain is not None),
            individual_sum=gain or 0.0,
            pre_only=int(pre is not None and post is None),
            post_only=int(pre is None and post is not None),
            skipped=int(skipped),
        )

    def add(self, other: GroupResult) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @staticmethod
    def _mean(total: float, count: int) -> float | None:
        return total / count if count else None

    @property
    def pre_mean(self) -> float | None:
        return self._mean(self.pre_sum, self.pre_count)

    @property
    def post_mean(self) -> float | None:
        return self._mean(self.post_sum, self.post_count)

    @property
    def gain_mean(self) -> float | None:
        """The mean gain in points of the people who took both tests."""
        return self._mean(self.both_post_sum - self.both_pre_sum, self.both)

    @property
    def normalised_gain(self) -> float | None:
        """The class-average normalised gain <g> of the people who took both tests."""
        return normalised_gain(self._mean(self.both_pre_sum, self.both), self._mean(self.both_post_sum, self.both))

    @property
    def individual_gain_mean(self) -> float | None:
        """The mean of individual normalised gains (people with full marks before have none)."""
        return self._mean(self.individual_sum, self.individual_count)


@dataclass
class TrackResults:
    overall: GroupResult
    by_sex: dict[Sex, GroupResult]
    by_country: dict[str, GroupResult]


def results(session: Session, track_row: Track, country_ids: set[int] | None) -> TrackResults:
    """Pre/post results of a track for the people in ``country_ids`` (``None``: everyone).
    Every sex appears, "not recorded" included; a skipped pre-test is counted, never scored.
    Added up in the database, by sex and country: one statement, whatever the number of people."""
    taken_pre = sa.and_(TrackAssessment.phase == AssessmentPhase.PRE, TrackAssessment.skipped.is_(False))
    per_person = (
        sa.select(
            User.sex.label("sex"),
            Country.code.label("country"),
            sa.func.max(sa.case((taken_pre, TrackAssessment.score))).label("pre"),
            sa.func.max(sa.case((TrackAssessment.phase == AssessmentPhase.POST, TrackAssessment.score))).label("post"),
            sa.func.max(sa.case((TrackAssessment.skipped.is_(True), 1), else_=0)).label("skipped"),
        )
        .join(User, User.id == TrackAssessment.user_id)
        .join(Country, Country.id == User.country_id)
        .where(TrackAssessment.track_id == track_row.id)
        .group_by(TrackAssessment.user_id, User.sex, Country.code)
    )
    if country_ids is not None:
        per_person = per_person.where(User.country_id.in_(country_ids))
    person = per_person.subquery()
    both = sa.and_(person.c.pre.is_not(None), person.c.post.is_not(None))
    below_full = sa.and_(both, person.c.pre < 100)

    def count(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
        return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)

    def total(condition: sa.ColumnElement[bool], value: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
        return sa.func.coalesce(sa.func.sum(sa.case((condition, value))), 0)

    groups = sa.select(
        person.c.sex,
        person.c.country,
        sa.func.count(person.c.pre),
        sa.func.coalesce(sa.func.sum(person.c.pre), 0),
        sa.func.count(person.c.post),
        sa.func.coalesce(sa.func.sum(person.c.post), 0),
        count(both),
        total(both, person.c.pre),
        total(both, person.c.post),
        count(below_full),
        total(below_full, sa.cast(person.c.post - person.c.pre, sa.Float) / (100 - person.c.pre)),
        count(sa.and_(person.c.pre.is_not(None), person.c.post.is_(None))),
        count(sa.and_(person.c.pre.is_(None), person.c.post.is_not(None))),
        sa.func.coalesce(sa.func.sum(person.c.skipped), 0),
    ).group_by(person.c.sex, person.c.country)
    overall = GroupResult()
    by_sex = {sex: GroupResult() for sex in Sex}
    by_country: dict[str, GroupResult] = {}
    for sex, country, *figures in session.execute(groups).tuples():
        group = GroupResult(*(float(value) if isinstance(value, Decimal) else value for value in figures))
        for target in (overall, by_sex[Sex(sex)], by_country.setdefault(country, GroupResult())):
            target.add(group)
    return TrackResults(overall, by_sex, by_country)
