"""How often a knowledge check may be tried, what each attempt asks, and what it reveals.

Each attempt draws a fresh selection from the module's pool (the questions the learner has
seen least come first) with the options shuffled; the draw travels in the signed form token
and is stored with the attempt, so grading and review are reproducible. The track's
:class:`~lms.curriculum.content.CheckPolicy` limits the attempts and sets a wait between
them; a trainer or coordinator may allow more. Every rule is enforced here, on the server.
"""

from __future__ import annotations

import json
import random
import secrets
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy.orm import Session

from lms import db
from lms.audit.service import Action, record
from lms.curriculum import content
from lms.models import AttemptAllowance, Module, ModuleCompletion, QuizAttempt, User
from lms.people import service as people

# One drawn question: its id and its option ids in the order shown.
Drawn = list[tuple[str, list[str]]]


class AttemptRefused(Exception):
    """The policy does not let this person attempt the check now."""

    def __init__(self, message: object) -> None:
        super().__init__(str(message))
        self.message = str(message)


def policy_of(curriculum: content.Curriculum, item: content.Module) -> content.CheckPolicy:
    track = curriculum.tracks.get(item.track)
    return track.policy if track is not None else content.CheckPolicy()


def shown_of(attempt: QuizAttempt, item: content.Module) -> Drawn:
    """What an attempt asked: its recorded draw, or (attempts from before pools) every question."""
    if attempt.shown:
        return [(question_id, list(options)) for question_id, options in json.loads(attempt.shown)]
    return [(question.id, [option.id for option in question.options]) for question in item.questions.values()]


def draw(
    session: Session, user_id: int, row: Module, item: content.Module, chance: random.Random | None = None
) -> Drawn:
    """A fresh selection of ``item.draw`` questions, the least seen by this person first,
    each with its options shuffled (by ``chance``, a fresh random source unless given: the
    demo passes a seeded one)."""
    seen: Counter[str] = Counter()
    for shown in session.scalars(
        sa.select(QuizAttempt.shown).where(QuizAttempt.user_id == user_id, QuizAttempt.module_id == row.id)
    ):
        if shown:
            seen.update(question_id for question_id, _options in json.loads(shown))
    if chance is None:
        chance = random.Random(secrets.randbits(64))  # noqa: S311 - a quiz draw, not a secret
    pool = list(item.questions)
    chance.shuffle(pool)
    pool.sort(key=lambda question_id: seen[question_id])  # stable: random among equally seen
    chosen = pool[: min(item.draw, len(pool))]
    chance.shuffle(chosen)
    drawn: Drawn = []
    for question_id in chosen:
        options = [option.id for option in item.questions[question_id].options]
        chance.shuffle(options)
        drawn.append((question_id, options))
    return drawn


def valid_draw(value: object, item: content.Module) -> Drawn | None:
    """The draw carried by a token, if it still fits the module's questions."""
    if not isinstance(value, list) or not value:
        return None
    drawn: Drawn = []
    for entry in value:
        if not (isinstance(entry, list) and len(entry) == 2 and isinstance(entry[1], list)):
            return None
        question_id, options = entry
        question = item.questions.get(question_id)
        if question is None or sorted(options) != sorted(option.id for option in question.options):
            return None
        drawn.append((question_id, list(options)))
    return drawn


@dataclass
class CheckState:
    """Where one person stands with one module's knowledge check."""

    policy: content.CheckPolicy
    completion: ModuleCompletion | None
    last: QuizAttempt | None
    used: int  # attempts since the last allowance
    next_at: datetime | None  # the end of the wait after a failed attempt

    @property
    def left(self) -> int:
        return max(0, self.policy.attempts - self.used)

    @property
    def exhausted(self) -> bool:
        return self.completion is None and self.left == 0

    @property
    def waiting(self) -> bool:
        return self.next_at is not None and self.next_at > db.utcnow()

    @property
    def can_attempt(self) -> bool:
        return self.completion is None and not self.exhausted and not self.waiting

    @property
    def reveals_answers(self) -> bool:
        """Right answers and explanations: after a pass or the last allowed attempt."""
        return self.policy.review == "after-final" and (self.completion is not None or self.exhausted)

    def refusal(self) -> str | None:
        if self.completion is not None:
            return str(_l("You have passed this knowledge check: the module is complete."))
        if self.exhausted:
            return ngettext(
                "You have used your %(num)d attempt at this knowledge check. Your trainer can allow you more.",
                "You have used all %(num)d attempts at this knowledge check. Your trainer can allow you more.",
                self.policy.attempts,
            )
        if self.waiting:
            return str(_l("You can try again after a short wait, so that you can look at the module again first."))
        return None


def state_for(session: Session, user_id: int, row: Module, policy: content.CheckPolicy) -> CheckState:
    completion = session.scalar(
        sa.select(ModuleCompletion).where(ModuleCompletion.user_id == user_id, ModuleCompletion.module_id == row.id)
    )
    since = session.scalar(
        sa.select(sa.func.max(AttemptAllowance.granted_at)).where(
            AttemptAllowance.user_id == user_id, AttemptAllowance.module_id == row.id
        )
    )
    counted = sa.select(sa.func.count()).where(QuizAttempt.user_id == user_id, QuizAttempt.module_id == row.id)
    if since is not None:
        counted = counted.where(QuizAttempt.submitted_at >= since)
    last = session.scalar(
        sa.select(QuizAttempt)
        .where(QuizAttempt.user_id == user_id, QuizAttempt.module_id == row.id)
        .order_by(QuizAttempt.submitted_at.desc(), QuizAttempt.id.desc())
        .limit(1)
    )
    next_at = None
    if last is not None and not last.passed and policy.wait_minutes:
        next_at = last.submitted_at + timedelta(minutes=policy.wait_minutes)
    return CheckState(policy, completion, last, session.scalar(counted) or 0, next_at)


def ensure_may_attempt(session: Session, user: User, row: Module, policy: content.CheckPolicy) -> CheckState:
    """The person's state, or :class:`AttemptRefused`. The person's row is locked first, so
    two submissions at once cannot both take the last attempt."""
    people.lock(session, user)
    state = state_for(session, user.id, row, policy)
    refusal = state.refusal()
    if refusal is not None:
        raise AttemptRefused(refusal)
    return state


REASON_MAX = 500


def allow_more_attempts(session: Session, person: User, row: Module, reason: str, *, actor: User) -> AttemptAllowance:
    """Give ``person`` a fresh set of attempts at ``row`` (the caller checked ``actor`` may
    reach them); audited with the reason."""
    reason = reason.strip()
    if not reason:
        raise AttemptRefused(_l("Give the reason for allowing more attempts."))
    if len(reason) > REASON_MAX:
        raise AttemptRefused(_l("The reason is too long (at most %(max)d characters).", max=REASON_MAX))
    allowance = AttemptAllowance(user_id=person.id, module_id=row.id, granted_by_id=actor.id, reason=reason)
    session.add(allowance)
    session.flush()
    record(
        session,
        Action.ATTEMPTS_ALLOWED,
        actor=actor,
        target=person,
        details={"module": row.slug, "reason": reason},
    )
    return allowance
