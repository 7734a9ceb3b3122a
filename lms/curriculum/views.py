"""Learning: the catalogue, the module reader, knowledge checks, pre/post tests, progress."""

from __future__ import annotations

import functools
import random
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    get_template_attribute,
    redirect,
    render_template,
    request,
    url_for,
)
from flask import session as session_store
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from lms import access, db
from lms.access import AUTHENTICATED, LEARNING_STAFF, policy
from lms.cache import LRUCache
from lms.courses.attendance import refresh_for_person
from lms.curriculum import analysis, assessment, attempts, content, service
from lms.curriculum.forms import AllowAttemptsForm, CatalogueForm, LearnerSearchForm
from lms.curriculum.overview import learners
from lms.curriculum.store import current_curriculum
from lms.i18n import current_language
from lms.models import AssessmentPhase, Module, QuizAttempt, Track, User
from lms.people import service as people
from lms.rendering import render_cached

bp = Blueprint("learn", __name__, url_prefix="/learn")


@bp.app_template_filter("shuffled")
def shuffled(items: Iterable[Any], seed: str) -> list[Any]:
    """The items in an order fixed by ``seed``: the right answer is not always first, and
    a person sees the same order each time they open the page."""
    result = list(items)
    random.Random(seed).shuffle(result)  # noqa: S311 - presentation order, not security
    return result


def _actor() -> User:
    return current_user._get_current_object()


def _track_or_404(slug: str) -> tuple[Track, content.Track]:
    curriculum = current_curriculum()
    item = curriculum.tracks.get(slug)
    row = service.active_tracks(db.get_session()).get(slug) if content.SLUG.match(slug) else None
    if row is None or item is None:
        abort(404)
    return row, item


def _module_or_404(slug: str) -> tuple[Module, content.Module]:
    row = service.active_module(db.get_session(), slug) if content.SLUG.match(slug) else None
    if row is None:
        abort(404)
    item = current_curriculum().modules.get(slug)
    if item is None:
        raise service.ContentUnavailable(slug)
    return row, item


@bp.errorhandler(service.ContentUnavailable)
def _unavailable(_error: service.ContentUnavailable) -> tuple[str, int]:
    # A broken file takes only its own module offline, never the catalogue.
    return render_template("learn/unavailable.html"), 503


@bp.get("/")
@policy(AUTHENTICATED)
def catalogue() -> str | tuple[str, int]:
    curriculum = current_curriculum()
    form = CatalogueForm(request.args)
    form.set_choices(curriculum, current_language())
    valid = form.validate() if request.args else True
    state = service.learner_state(db.get_session(), curriculum, _actor())
    tracks = service.filter_catalogue(
        curriculum, service.active_modules(db.get_session()), form.filters() if valid else None, current_language()
    )
    return render_template(
        "learn/catalogue.html", form=form, tracks=tracks, state=state, language=current_language()
    ), (200 if valid else 400)


@bp.get("/tracks/<slug>")
@policy(AUTHENTICATED)
def track(slug: str) -> str:
    row, item = _track_or_404(slug)
    curriculum = current_curriculum()
    session = db.get_session()
    state = service.learner_state(session, curriculum, _actor())
    questions = assessment.questions_of(curriculum, item)
    tests = assessment.state_for(session, _actor(), row, state.by_track[item.slug], bool(questions))
    return render_template(
        "learn/track.html",
        track=item,
        modules=[m for m in curriculum.track_modules(item) if m.slug in service.active_modules(session)],
        state=state,
        tests=tests,
        language=current_language(),
        can_see_results=access.LEARNING_STAFF.allows(current_user),
    )


@bp.get("/modules/<slug>")
@policy(AUTHENTICATED)
def module(slug: str) -> str:
    row, item = _module_or_404(slug)
    _remember_visit(row)
    return _module_page(row, item)


VISIT_RECORD_INTERVAL = 300  # seconds


def _remember_visit(row: Module) -> None:
    """Record the visit for "continue where you left off", but not on every reload: the
    session remembers the last one written, which spares the database a write per view."""
    now = int(time.time())
    last = session_store.get("last_visit")
    if isinstance(last, list) and last[:1] == [row.id] and now - int(last[1]) < VISIT_RECORD_INTERVAL:
        return
    service.record_visit(_actor().id, row.id)
    session_store["last_visit"] = [row.id, now]


@dataclass(frozen=True)
class QuestionView:
    """A question as shown: its wording in the reader's language, options in the order drawn."""

    field: str
    text: str
    multiple: bool
    options: tuple[tuple[str, str], ...]

    @property
    def key(self) -> str:
        """The question's key in answers: its id, or ``module/id`` in a track's test."""
        return self.field.removeprefix(service.ANSWER_PREFIX)


def question_views(questions: list[tuple[str, content.Question, content.Question]], seed: str) -> list[QuestionView]:
    """For the fixed questions of a pre- or post-test: ``questions`` are (field name,
    question with the answer key, question as worded), options in an order fixed by ``seed``."""
    views = []
    for field, question, wording in questions:
        words = {option.id: option.text for option in wording.options}
        options = [
            (option.id, words.get(option.id, option.text)) for option in shuffled(question.options, seed + field)
        ]
        views.append(QuestionView(field, wording.text, question.multiple, tuple(options)))
    return views


def drawn_views(drawn: attempts.Drawn, item: content.Module, text: content.ModuleText) -> list[QuestionView]:
    """The questions of one attempt, in the order and with the options drawn for it."""
    views = []
    for question_id, option_ids in drawn:
        question = item.questions[question_id]
        wording = text.questions.get(question_id, question)
        words = {option.id: option.text for option in question.options} | {o.id: o.text for o in wording.options}
        views.append(
            QuestionView(
                f"{service.ANSWER_PREFIX}{question_id}",
                wording.text,
                question.multiple,
                tuple((option_id, words[option_id]) for option_id in option_ids),
            )
        )
    return views


_PAGE_PARTS: LRUCache[dict[str, Markup]] = LRUCache(256)


def _page_parts(item: content.Module, language: str, wanted: str) -> dict[str, Markup]:
    """The parts of the module page that are the same for all its readers (cached)."""
    text = item.text(language)
    store = current_app.extensions["lms.content"]
    key = (store.generation, item.slug, text.content_hash, item.content_hash, language, wanted, str(get_locale()))

    def make() -> dict[str, Markup]:
        curriculum = current_curriculum()
        body = render_cached(text.content_hash, text.body, link_base=url_for("learn.catalogue") + "modules/")
        track = curriculum.tracks.get(item.track)
        siblings = curriculum.track_modules(track) if track else [item]
        position = [m.slug for m in siblings].index(item.slug)
        macro = functools.partial(get_template_attribute, "learn/_module_parts.html")
        return {
            "head": macro("head")(item, text, track, language, wanted),
            "toc": macro("toc")(body),
            "content": macro("content")(item, text, body),
            "pager": macro("pager")(
                siblings[position - 1] if position > 0 else None,
                siblings[position + 1] if position + 1 < len(siblings) else None,
                language,
            ),
        }

    return _PAGE_PARTS.get_or_make(key, make)


def _module_page(
    row: Module,
    item: content.Module,
    *,
    errors: str | None = None,
    status: int = 200,
    retry: service.IncompleteAnswers | None = None,
    token: str | None = None,
) -> tuple[str, int]:
    """The module page; after an incomplete submission (``retry``, with its ``token``) the
    same questions again, with the answers given and the unanswered ones marked."""
    user = _actor()
    wanted = request.args.get("lang") or current_language()
    language = service.reading_language(item, wanted)
    session = db.get_session()
    text = item.text(language)
    state = attempts.state_for(session, user.id, row, attempts.policy_of(current_curriculum(), item))
    views: list[QuestionView] = []
    if state.can_attempt:
        drawn = None
        if retry is not None and token:
            scope = service.check_scope(row, item)
            drawn = attempts.valid_draw(service.read_token_data(token, user.id, scope).get("d"), item)
        if drawn is None:
            drawn = attempts.draw(session, user.id, row, item)
            token = service.issue_token(user.id, service.check_scope(row, item), drawn)
        views = drawn_views(drawn, item, text)
    return render_template(
        "learn/module.html",
        module=item,
        text=text,
        parts=_page_parts(item, language, wanted),
        language=language,
        check=state,
        question_views=views,
        chosen=retry.answers if retry else {},
        missing=retry.missing if retry else [],
        token=token,
        errors=errors,
        pretest=_pretest_offer(session, item),
    ), status


@dataclass(frozen=True)
class TestOffer:
    """An invitation on a module page: the track's pre-test (before starting) or post-test."""

    track: content.Track
    phase: AssessmentPhase
    questions: int


def _pretest_offer(session: Session, item: content.Module) -> TestOffer | None:
    """The track's pre-test while it is open and not skipped, or its post-test once every
    module is complete and it has not been taken."""
    curriculum = current_curriculum()
    track_item = curriculum.tracks.get(item.track)
    row = service.active_tracks(session).get(item.track)
    questions = assessment.questions_of(curriculum, track_item) if track_item else []
    if track_item is None or row is None or not questions:
        return None
    progress = assessment.track_progress(session, curriculum, _actor(), track_item)
    tests = assessment.state_for(session, _actor(), row, progress, True)
    if tests.offer_pre:
        return TestOffer(track_item, AssessmentPhase.PRE, len(questions))
    if tests.can_take_post:
        return TestOffer(track_item, AssessmentPhase.POST, len(questions))
    return None


@bp.post("/modules/<slug>/check")
@policy(AUTHENTICATED)
def check_submit(slug: str) -> str | Response | tuple[str, int]:
    row, item = _module_or_404(slug)
    session = db.get_session()
    language = service.reading_language(item, request.form.get("language", ""))
    token = request.form.get("token", "")
    try:
        attempt = service.grade(
            session,
            user=_actor(),
            row=row,
            item=item,
            policy=attempts.policy_of(current_curriculum(), item),
            language=language,
            form=request.form.to_dict(flat=False),
            token=token,
        )
    except service.IncompleteAnswers as error:
        session.rollback()
        return _module_page(row, item, errors=error.message, status=400, retry=error, token=token)
    except service.CheckError as error:
        session.rollback()
        return _module_page(row, item, errors=error.message, status=400)
    if attempt.passed:
        # A completed module may complete a course the person is on.
        refresh_for_person(session, attempt.user_id)
    session.commit()
    return redirect(url_for("learn.attempt", attempt_id=attempt.id))


@bp.get("/attempts/<int:attempt_id>")
@policy(AUTHENTICATED)
def attempt(attempt_id: int) -> str:
    session = db.get_session()
    found = session.get(QuizAttempt, attempt_id)
    if found is None or found.user_id != _actor().id:
        # Attempts are the learner's own: another person's id is simply not found.
        access.deny(404, reason="knowledge-check attempt of another person", target=found)
    row = session.get(Module, found.module_id)
    curriculum = current_curriculum()
    item = curriculum.modules.get(row.slug)
    if item is None or row.archived_at is not None:
        raise service.ContentUnavailable(row.slug)
    state = attempts.state_for(session, found.user_id, row, attempts.policy_of(curriculum, item))
    text = item.text(found.language)
    shown = [
        (item.questions[question_id], text.questions.get(question_id, item.questions[question_id]), options)
        for question_id, options in attempts.shown_of(found, item)
        if question_id in item.questions
    ]
    return render_template(
        "learn/attempt.html",
        attempt=found,
        row=row,
        module=item,
        text=text,
        shown=shown,
        answers=service.stored_answers(found.answers),
        check=state,
        changed=found.revision.content_hash != item.content_hash,
        track=curriculum.tracks.get(item.track),
        offer=_pretest_offer(session, item),
    )


@bp.get("/tracks/<slug>/tests/<phase>")
@policy(AUTHENTICATED)
def test(slug: str, phase: str) -> str:
    return _test_page(slug, _phase_or_404(phase))


def _phase_or_404(phase: str) -> AssessmentPhase:
    try:
        return AssessmentPhase(phase)
    except ValueError:
        abort(404)


def _test_context(
    slug: str, phase: AssessmentPhase
) -> tuple[Track, content.Track, list[assessment.AssessmentQuestion], assessment.AssessmentState]:
    row, item = _track_or_404(slug)
    curriculum = current_curriculum()
    session = db.get_session()
    questions = assessment.questions_of(curriculum, item)
    if not questions:
        abort(404)
    state = service.learner_state(session, curriculum, _actor())
    tests = assessment.state_for(session, _actor(), row, state.by_track[item.slug], True)
    return row, item, questions, tests


def _test_page(
    slug: str,
    phase: AssessmentPhase,
    *,
    errors: str | None = None,
    status: int = 200,
    retry: service.IncompleteAnswers | None = None,
) -> str:
    row, item, questions, tests = _test_context(slug, phase)
    open_now = tests.can_take_pre if phase == AssessmentPhase.PRE else tests.can_take_post
    language = current_language()
    views = question_views(
        [
            (f"answer-{q.key}", q.question, q.module.text(language).questions.get(q.question.id, q.question))
            for q in questions
        ],
        item.slug,
    )
    return render_template(
        "learn/test.html",
        track=item,
        phase=phase,
        question_views=views,
        tests=tests,
        open_now=open_now,
        language=language,
        token=service.issue_token(_actor().id, assessment.token_scope(row, phase)),
        errors=errors,
        chosen=retry.answers if retry else {},
        missing=retry.missing if retry else [],
        module_slug=request.values.get("module", ""),
    ), status


@bp.post("/tracks/<slug>/tests/<phase>")
@policy(AUTHENTICATED)
def test_submit(slug: str, phase: str) -> str | Response | tuple[str, int]:
    phase_ = _phase_or_404(phase)
    row, item, questions, tests = _test_context(slug, phase_)
    session = db.get_session()
    try:
        result = assessment.take(
            session,
            user=_actor(),
            track_row=row,
            questions=questions,
            phase=phase_,
            state=tests,
            language=current_language(),
            form=request.form.to_dict(flat=False),
            token=request.form.get("token", ""),
        )
    except service.IncompleteAnswers as error:
        session.rollback()
        return _test_page(slug, phase_, errors=error.message, status=400, retry=error)
    except service.CheckError as error:
        session.rollback()
        return _test_page(slug, phase_, errors=error.message, status=400)
    session.commit()
    flash(_("Test recorded: %(correct)d of %(total)d correct.", correct=result.correct, total=result.total), "success")
    # Back to the module the learner came from (a pre-test taken from a module page).
    module_slug = request.form.get("module", "")
    if module_slug in item.modules:
        return redirect(url_for("learn.module", slug=module_slug))
    return redirect(url_for("learn.track", slug=slug))


@bp.post("/tracks/<slug>/tests/pre/skip")
@policy(AUTHENTICATED)
def skip_pretest(slug: str) -> Response:
    row, item, _questions, tests = _test_context(slug, AssessmentPhase.PRE)
    session = db.get_session()
    try:
        assessment.skip_pre(session, user=_actor(), track_row=row, state=tests)
    except service.CheckError as error:
        session.rollback()
        flash(error.message, "error")
    else:
        session.commit()
        flash(_("The pre-test is skipped. You can still take it from the track page until you complete a module."))
    # Back to the module the learner was reading, if it is one of this track's.
    module_slug = request.form.get("module", "")
    if module_slug in item.modules:
        return redirect(url_for("learn.module", slug=module_slug))
    return redirect(url_for("learn.track", slug=slug))


@bp.get("/progress")
@policy(LEARNING_STAFF)
def progress() -> str | tuple[str, int]:
    curriculum = current_curriculum()
    session = db.get_session()
    form = LearnerSearchForm(request.args)
    form.set_choices(session, _actor())
    if request.args and not form.validate():
        return render_template("learn/progress.html", form=form, page=None, curriculum=curriculum), 400
    page = learners(
        session,
        curriculum,
        actor=_actor(),
        query=form.q.data or "",
        country_id=form.country.data,
        page=min(max(request.args.get("page", 1, type=int) or 1, 1), 100_000),
        per_page=current_app.config["PEOPLE_PER_PAGE"],
    )
    return render_template("learn/progress.html", form=form, page=page, curriculum=curriculum)


@bp.get("/progress/<int:person_id>")
@policy(LEARNING_STAFF)
def learner(person_id: int) -> str:
    session = db.get_session()
    person = people.get_person_in_reach(session, person_id, _actor())
    return _learner_page(person)


def _learner_page(
    person: User, *, form: AllowAttemptsForm | None = None, failed_module: str = "", status: int = 200
) -> tuple[str, int]:
    session = db.get_session()
    curriculum = current_curriculum()
    return render_template(
        "learn/learner.html",
        person=person,
        curriculum=curriculum,
        details=service.learner_details(session, curriculum, person),
        tests=assessment.person_tests(session, person),
        form=form or AllowAttemptsForm(),
        failed_module=failed_module,
    ), status


@bp.post("/progress/<int:person_id>/modules/<slug>/attempts")
@policy(LEARNING_STAFF)
def allow_attempts(person_id: int, slug: str) -> Response | tuple[str, int]:
    session = db.get_session()
    person = people.get_person_in_reach(session, person_id, _actor())
    row, _item = _module_or_404(slug)
    form = AllowAttemptsForm()
    if not form.validate():
        return _learner_page(person, form=form, failed_module=slug, status=400)
    try:
        attempts.allow_more_attempts(session, person, row, form.reason.data or "", actor=_actor())
    except attempts.AttemptRefused as error:
        session.rollback()
        form.reason.errors = [error.message]
        return _learner_page(person, form=form, failed_module=slug, status=400)
    session.commit()
    flash(_("%(name)s may now try the knowledge check again.", name=person.full_name), "success")
    return redirect(url_for("learn.learner", person_id=person.id))


@bp.get("/tracks/<slug>/results")
@policy(LEARNING_STAFF)
def results(slug: str) -> str:
    row, item = _track_or_404(slug)
    scope = access.reach_country_ids(_actor())
    return render_template(
        "learn/results.html",
        track=item,
        results=assessment.results(db.get_session(), row, scope),
        language=current_language(),
    )


@bp.get("/tracks/<slug>/analysis", endpoint="analysis")
@policy(LEARNING_STAFF)
def item_analysis(slug: str) -> str:
    """How each knowledge-check question of a track measures, for the learners in reach."""
    row, item = _track_or_404(slug)
    session = db.get_session()
    scope = access.reach_country_ids(_actor())
    language = current_language()
    return render_template(
        "learn/analysis.html",
        track=item,
        report=analysis.track_analysis(
            session,
            current_curriculum(),
            item,
            scope,
            language,
            cache=current_app.extensions.setdefault("lms.item_analysis", analysis.TallyCache()),
        ),
        results=assessment.results(session, row, scope),
        language=language,
    )
