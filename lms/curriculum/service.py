"""Learning: reading modules, knowledge checks graded on the server, progress.

Grading never trusts the browser: the form carries a signed token naming the person, the
module and its revision, and a nonce that the database accepts once, so a tampered or
repeated submission is refused and records nothing.
"""

from __future__ import annotations

import json
import math
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lms import db
from lms.curriculum import attempts, content
from lms.models import (
    AttemptAllowance,
    Category,
    Module,
    ModuleCompletion,
    ModuleRevision,
    ModuleVisit,
    QuizAttempt,
    Role,
    Track,
    User,
)
from lms.text import fold_for_search

TOKEN_MAX_AGE = 7 * 24 * 3600
ANSWER_PREFIX = "answer-"


class CheckError(Exception):
    """A knowledge-check submission that cannot be graded; nothing is recorded."""

    def __init__(self, message: object) -> None:
        super().__init__(str(message))
        self.message = str(message)


class IncompleteAnswers(CheckError):
    """Some questions were left unanswered: nothing is recorded, the answers given are kept
    (``answers``) and the page marks each question in ``missing``."""

    def __init__(self, message: object, answers: dict[str, frozenset[str]], missing: list[str]) -> None:
        super().__init__(message)
        self.answers = answers
        self.missing = missing


class ContentUnavailable(Exception):
    """The module is registered but its file cannot be read right now."""


# --- Modules -------------------------------------------------------------------------------


def active_module(session: Session, slug: str) -> Module | None:
    return session.scalar(sa.select(Module).where(Module.slug == slug, Module.archived_at.is_(None)))


def active_modules(session: Session) -> dict[str, Module]:
    return {row.slug: row for row in session.scalars(sa.select(Module).where(Module.archived_at.is_(None)))}


def active_tracks(session: Session) -> dict[str, Track]:
    return {row.slug: row for row in session.scalars(sa.select(Track).where(Track.archived_at.is_(None)))}


def ensure_revision(session: Session, row: Module, item: content.Module) -> ModuleRevision:
    """The revision of ``row`` for the text now served, registering it if it is new."""
    revision = session.scalar(
        sa.select(ModuleRevision).where(
            ModuleRevision.module_id == row.id, ModuleRevision.content_hash == item.content_hash
        )
    )
    if revision is None:
        number = (
            session.scalar(sa.select(sa.func.max(ModuleRevision.number)).where(ModuleRevision.module_id == row.id)) or 0
        ) + 1
        revision = ModuleRevision(module_id=row.id, number=number, version=item.version, content_hash=item.content_hash)
        session.add(revision)
        session.flush()
    if row.content_hash != item.content_hash:
        row.content_hash, row.revision, row.version = item.content_hash, revision.number, item.version
    return revision


def reading_language(item: content.Module, wanted: str) -> str:
    """The language to show: the reader's if translated, else the original's."""
    return wanted if wanted in item.translations else item.original.language


def record_visit(user_id: int, module_id: int) -> None:
    """Remember that a person opened a module (its own small transaction: pages are GETs)."""
    now = db.utcnow()

    def upsert(session: Session) -> None:
        dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
        statement = dialect.insert(ModuleVisit).values(user_id=user_id, module_id=module_id, visited_at=now)
        session.execute(
            statement.on_conflict_do_update(index_elements=["user_id", "module_id"], set_={"visited_at": now})
        )

    db.write_separately(upsert)


# --- Knowledge checks ---------------------------------------------------------------------


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="knowledge-check")


def issue_token(user_id: int, scope: str, drawn: object = None) -> str:
    """A signed, single-use token for one form: ``scope`` names what it answers, ``drawn``
    the questions and option orders it shows (signed, so they cannot be swapped)."""
    data: dict[str, object] = {"u": user_id, "s": scope, "n": secrets.token_hex(16)}
    if drawn is not None:
        data["d"] = drawn
    return _serializer().dumps(data)


def read_token(token: str, user_id: int, scope: str) -> str:
    """The nonce of a valid token issued to ``user_id`` for ``scope``."""
    return str(read_token_data(token, user_id, scope).get("n", ""))


def read_token_data(token: str, user_id: int, scope: str) -> dict[str, object]:
    """What a valid token issued to ``user_id`` for ``scope`` carries."""
    try:
        data = _serializer().loads(token or "", max_age=TOKEN_MAX_AGE)
    except SignatureExpired as error:
        raise CheckError(_l("This form has expired. Reload the page and answer again.")) from error
    except BadSignature as error:
        raise CheckError(_l("This form was not issued by the platform. Reload the page and answer again.")) from error
    if not isinstance(data, dict) or data.get("u") != user_id or data.get("s") != scope:
        raise CheckError(_l("This form belongs to another knowledge check. Reload the page and answer again."))
    return data


def parse_answers(
    form: Mapping[str, Sequence[str]], questions: Mapping[str, content.Question]
) -> dict[str, frozenset[str]]:
    """The chosen option ids per question, or :class:`CheckError` for any tampering.

    ``form`` maps each field name to its list of values (a ``MultiDict.to_dict(flat=False)``).
    """
    answers: dict[str, frozenset[str]] = {}
    for name, values in form.items():
        if not name.startswith(ANSWER_PREFIX):
            continue
        question_id = name[len(ANSWER_PREFIX) :]
        question = questions.get(question_id)
        if question is None:
            raise CheckError(_l("The answers name a question that is not in this knowledge check."))
        chosen = frozenset(values)
        known = {option.id for option in question.options}
        if not chosen <= known:
            raise CheckError(_l("The answers name an option that does not exist."))
        if not question.multiple and len(chosen) != 1:
            raise CheckError(_l("Choose exactly one answer to each single-choice question."))
        answers[question_id] = chosen
    missing = [question_id for question_id in questions if not answers.get(question_id)]
    if missing:
        given = {key: value for key, value in answers.items() if value}
        raise IncompleteAnswers(
            _l("Answer every question before submitting (%(count)d unanswered).", count=len(missing)), given, missing
        )
    return answers


def encode_answers(answers: Mapping[str, frozenset[str]]) -> str:
    """The answers as stored: JSON, question id to the sorted option ids chosen."""
    return json.dumps({key: sorted(value) for key, value in sorted(answers.items())})


def score(answers: Mapping[str, frozenset[str]], questions: Mapping[str, content.Question]) -> tuple[int, int, int]:
    """(correct, total, percent rounded down): a question counts when exactly its right options are chosen."""
    correct = sum(1 for question_id, question in questions.items() if answers.get(question_id) == question.correct_ids)
    total = len(questions)
    return correct, total, math.floor(100 * correct / total) if total else 0


def grade(
    session: Session,
    *,
    user: User,
    row: Module,
    item: content.Module,
    policy: content.CheckPolicy,
    language: str,
    form: Mapping[str, Sequence[str]],
    token: str,
) -> QuizAttempt:
    """Grade a knowledge check on the questions its form showed, record the attempt and,
    on a first pass, the completion. Refused (nothing recorded) when the track's policy
    does not allow an attempt now."""
    data = read_token_data(token, user.id, check_scope(row, item))
    drawn = attempts.valid_draw(data.get("d"), item)
    if drawn is None:
        raise CheckError(_l("This form no longer matches the knowledge check. Reload the page and answer again."))
    try:
        attempts.ensure_may_attempt(session, user, row, policy)
    except attempts.AttemptRefused as error:
        raise CheckError(error.message) from error
    questions = {question_id: item.questions[question_id] for question_id, _options in drawn}
    answers = parse_answers(form, questions)
    correct, total, percent = score(answers, questions)
    revision = ensure_revision(session, row, item)
    attempt = QuizAttempt(
        user_id=user.id,
        module_id=row.id,
        revision_id=revision.id,
        language=language,
        nonce=str(data.get("n", "")),
        correct=correct,
        total=total,
        score=percent,
        passed=percent >= item.pass_mark,
        answers=encode_answers(answers),
        shown=json.dumps(drawn),
    )
    try:
        with session.begin_nested():
            session.add(attempt)
    except IntegrityError as error:
        raise CheckError(_l("These answers have already been submitted.")) from error
    if attempt.passed:
        _complete(session, user, row, revision, attempt, language)
    return attempt


def check_scope(row: Module, item: content.Module) -> str:
    """What a module's knowledge-check token is for: this module, as it reads now."""
    return f"module:{row.id}:{item.content_hash[:16]}"


def _complete(
    session: Session, user: User, row: Module, revision: ModuleRevision, attempt: QuizAttempt, language: str
) -> None:
    exists = session.scalar(
        sa.select(ModuleCompletion.id).where(ModuleCompletion.user_id == user.id, ModuleCompletion.module_id == row.id)
    )
    if exists is not None:
        return
    try:
        with session.begin_nested():
            session.add(
                ModuleCompletion(
                    user_id=user.id, module_id=row.id, revision_id=revision.id, attempt_id=attempt.id, language=language
                )
            )
    except IntegrityError:
        pass  # completed by a concurrent submission a moment ago: the first one stands


def status_for(session: Session, user_id: int, module_id: int) -> tuple[ModuleCompletion | None, QuizAttempt | None]:
    """A person's completion of a module and their latest attempt at it (one query)."""
    row = session.execute(
        sa.select(QuizAttempt, ModuleCompletion)
        .outerjoin(
            ModuleCompletion,
            sa.and_(ModuleCompletion.user_id == user_id, ModuleCompletion.module_id == module_id),
        )
        .where(QuizAttempt.user_id == user_id, QuizAttempt.module_id == module_id)
        .order_by(QuizAttempt.submitted_at.desc(), QuizAttempt.id.desc())
        .limit(1)
    ).first()
    # No attempt means no completion either: completions come from attempts.
    return (row[1], row[0]) if row is not None else (None, None)


def completion_for(session: Session, user_id: int, module_id: int) -> ModuleCompletion | None:
    return session.scalar(
        sa.select(ModuleCompletion).where(ModuleCompletion.user_id == user_id, ModuleCompletion.module_id == module_id)
    )


# --- Progress --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Progress:
    done: int
    total: int

    @property
    def percent(self) -> int:
        return math.floor(100 * self.done / self.total) if self.total else 0

    @property
    def complete(self) -> bool:
        return self.total > 0 and self.done == self.total


@dataclass
class LearnerState:
    """What one learner has done, for the catalogue, the dashboard and track pages."""

    completed: set[str]
    attempted: set[str]
    overall: Progress
    by_track: dict[str, Progress]
    continue_with: content.Module | None


def progress_by_track(
    curriculum: content.Curriculum, rows: Mapping[str, Module], completed: set[str]
) -> tuple[dict[str, Progress], Progress]:
    """Modules completed out of the active ones, per track and overall."""
    by_track: dict[str, Progress] = {}
    for track in curriculum.ordered_tracks():
        slugs = [module.slug for module in curriculum.track_modules(track) if module.slug in rows]
        by_track[track.slug] = Progress(sum(1 for slug in slugs if slug in completed), len(slugs))
    overall = Progress(sum(p.done for p in by_track.values()), sum(p.total for p in by_track.values()))
    return by_track, overall


def learner_state(session: Session, curriculum: content.Curriculum, user: User) -> LearnerState:
    rows = active_modules(session)
    completed = set(
        session.scalars(
            sa.select(Module.slug)
            .join(ModuleCompletion, ModuleCompletion.module_id == Module.id)
            .where(ModuleCompletion.user_id == user.id, Module.archived_at.is_(None))
        )
    )
    attempted = set(
        session.scalars(
            sa.select(Module.slug)
            .join(QuizAttempt, QuizAttempt.module_id == Module.id)
            .where(QuizAttempt.user_id == user.id)
            .distinct()
        )
    )
    by_track, overall = progress_by_track(curriculum, rows, completed)
    return LearnerState(
        completed, attempted, overall, by_track, _continue_with(session, curriculum, user, completed, rows)
    )


def _continue_with(
    session: Session, curriculum: content.Curriculum, user: User, completed: set[str], rows: dict[str, Module]
) -> content.Module | None:
    """The module to go on with: the last one opened and not yet completed, else the next
    one after the last opened (in its track's order), else nothing (not started)."""
    recent = session.scalars(
        sa.select(Module.slug)
        .join(ModuleVisit, ModuleVisit.module_id == Module.id)
        .where(ModuleVisit.user_id == user.id, Module.archived_at.is_(None))
        .order_by(ModuleVisit.visited_at.desc())
        .limit(10)
    ).all()
    for slug in recent:
        if slug not in completed and slug in curriculum.modules and slug in rows:
            return curriculum.modules[slug]
    if recent and recent[0] in curriculum.modules:
        track = curriculum.tracks.get(curriculum.modules[recent[0]].track)
        if track is not None:
            for module in curriculum.track_modules(track):
                if module.slug not in completed and module.slug in rows:
                    return module
    return None


def audience_of(user: User) -> str:
    """Which audience a person belongs to, for "recommended for you"."""
    if user.has_role(Role.TRAINER):
        return "trainer"
    return {Category.CADET: "cadet", Category.COMMANDER: "commander"}.get(user.category, "staff")  # type: ignore[arg-type]


# --- Catalogue and details ---------------------------------------------------------------


@dataclass(frozen=True)
class CatalogueFilters:
    track: str | None = None
    audience: str | None = None
    language: str | None = None
    query: str = ""


def filter_catalogue(
    curriculum: content.Curriculum, rows: Mapping[str, Module], filters: CatalogueFilters | None, language: str
) -> list[tuple[content.Track, list[content.Module]]]:
    """Tracks with their active modules that match ``filters`` (none when they are invalid)."""
    if filters is None:
        return []
    words = fold_for_search(filters.query).split()
    result = []
    for track in curriculum.ordered_tracks():
        if filters.track and track.slug != filters.track:
            continue
        modules = []
        for module in curriculum.track_modules(track):
            if module.slug not in rows:
                continue
            if filters.audience and filters.audience not in module.audience and "all" not in module.audience:
                continue
            if filters.language and filters.language not in module.languages:
                continue
            shown = module.text(language)
            haystack = fold_for_search(
                " ".join([shown.title, shown.summary, module.original.title, module.original.summary])
            )
            if all(word in haystack for word in words):
                modules.append(module)
        if modules:
            result.append((track, modules))
    return result


def stored_answers(answers_json: str) -> dict[str, set[str]]:
    return {key: set(value) for key, value in json.loads(answers_json).items()}


@dataclass
class ModuleRecord:
    """One learner's record on one module, for trainers and coordinators."""

    module: content.Module
    completion: ModuleCompletion | None
    attempts: int
    best_score: int | None
    left: int = 0  # attempts left under the track's policy
    row_slug: str = ""

    @property
    def exhausted(self) -> bool:
        return self.completion is None and self.left == 0


def learner_details(
    session: Session, curriculum: content.Curriculum, person: User
) -> list[tuple[content.Track, list[ModuleRecord]]]:
    rows = active_modules(session)
    completions = {
        completion.module_id: completion
        for completion in session.scalars(sa.select(ModuleCompletion).where(ModuleCompletion.user_id == person.id))
    }
    attempt_rows = session.execute(
        sa.select(QuizAttempt.module_id, QuizAttempt.submitted_at, QuizAttempt.score).where(
            QuizAttempt.user_id == person.id
        )
    ).all()
    allowed_since = dict(
        session.execute(
            sa.select(AttemptAllowance.module_id, sa.func.max(AttemptAllowance.granted_at))
            .where(AttemptAllowance.user_id == person.id)
            .group_by(AttemptAllowance.module_id)
        )
        .tuples()
        .all()
    )
    details = []
    for track in curriculum.ordered_tracks():
        records = []
        for module in curriculum.track_modules(track):
            row = rows.get(module.slug)
            if row is None:
                continue
            mine = [(at, value) for module_id, at, value in attempt_rows if module_id == row.id]
            since = allowed_since.get(row.id)
            used = sum(1 for at, _value in mine if since is None or at >= since)
            best = max((value for _at, value in mine), default=None)
            records.append(
                ModuleRecord(
                    module, completions.get(row.id), len(mine), best, max(0, track.policy.attempts - used), row.slug
                )
            )
        details.append((track, records))
    return details
