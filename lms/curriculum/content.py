"""The curriculum as files: tracks and modules under ``content/``, parsed and validated.

:func:`load_curriculum` reads every file and returns what is valid together with every
problem found (file and line). A broken file is reported and left out; it never stops the
rest of the curriculum from loading. ``content/README.md`` describes the format.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lms.curriculum.frontmatter import Document, FrontMatterError, parse_document, parse_yaml
from lms.curriculum.item_quality import item_problems
from lms.i18n import LANGUAGES
from lms.text import cyrillic_to_latin

AUDIENCES = ("cadet", "commander", "staff", "trainer", "all")
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
MODULE_LINK = re.compile(r"\]\(module:([^)\s]*)\)")
MIN_WORDS, MAX_WORDS = 600, 2000
TRACK_FILE = "_track.yml"

MODULE_KEYS = {
    "slug", "title", "summary", "track", "audience", "estimated_minutes", "language", "version",
    "objectives", "sources", "knowledge_check",
}  # fmt: skip
TRANSLATION_KEYS = {"translation_of", "language", "source_version", "title", "summary", "objectives", "knowledge_check"}
TRACK_KEYS = {
    "slug", "title", "description", "audience", "position", "modules", "assessment", "translations",
    "knowledge_checks",
}  # fmt: skip
POLICY_KEYS = {"attempts", "wait_minutes", "review"}
REVIEW_MODES = ("after-final", "never")
SOURCE_KEYS = {"id", "title", "publisher", "year", "url"}


@dataclass(frozen=True)
class Problem:
    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


@dataclass(frozen=True)
class Option:
    id: str
    text: str
    correct: bool = False


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    options: tuple[Option, ...]
    explanation: str

    @property
    def correct_ids(self) -> frozenset[str]:
        return frozenset(option.id for option in self.options if option.correct)

    @property
    def multiple(self) -> bool:
        return len(self.correct_ids) > 1


@dataclass(frozen=True)
class CheckPolicy:
    """How a track's knowledge checks may be retried and reviewed (``knowledge_checks`` in
    ``_track.yml``). ``attempts`` are allowed before a trainer must allow more, with
    ``wait_minutes`` between two attempts. ``review``: "after-final" shows the right answers
    and explanations after a pass or after the last allowed attempt; "never" shows only which
    questions were wrong. A failed attempt never shows the right answers."""

    attempts: int = 3
    wait_minutes: int = 10
    review: str = "after-final"


@dataclass(frozen=True)
class Source:
    id: str
    title: str
    publisher: str
    year: int | str
    url: str


@dataclass
class ModuleText:
    """A module's words in one language (the original or a translation)."""

    language: str
    title: str
    summary: str
    objectives: list[str]
    body: str
    questions: dict[str, Question]
    path: str
    content_hash: str
    source_version: int | None = None


@dataclass
class Module:
    slug: str
    track: str
    audience: list[str]
    estimated_minutes: int
    version: int
    pass_mark: int
    draw: int  # questions asked in one attempt, drawn from the pool
    sources: list[Source]
    original: ModuleText
    translations: dict[str, ModuleText] = field(default_factory=dict)

    @property
    def questions(self) -> dict[str, Question]:
        """The questions with their answer key (always the original's)."""
        return self.original.questions

    @property
    def content_hash(self) -> str:
        return self.original.content_hash

    @property
    def languages(self) -> list[str]:
        return [self.original.language, *sorted(self.translations)]

    def text(self, language: str) -> ModuleText:
        """The text in ``language`` if translated, else the original."""
        return self.translations.get(language, self.original)


@dataclass
class Track:
    slug: str
    title: str
    description: str
    audience: list[str]
    position: int
    modules: list[str]
    assessment: list[tuple[str, str]]
    translations: dict[str, dict[str, str]]
    path: str
    policy: CheckPolicy = CheckPolicy()

    def _words(self, language: str, key: str, default: str) -> str:
        if language == "sr-Latn" and key not in self.translations.get(language, {}):
            written = self.translations.get("sr-Cyrl", {}).get(key)
            return cyrillic_to_latin(written) if written else default
        return self.translations.get(language, {}).get(key, default)

    def title_in(self, language: str) -> str:
        return self._words(language, "title", self.title)

    def description_in(self, language: str) -> str:
        return self._words(language, "description", self.description)


@dataclass
class Curriculum:
    tracks: dict[str, Track] = field(default_factory=dict)
    modules: dict[str, Module] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def ordered_tracks(self) -> list[Track]:
        return sorted(self.tracks.values(), key=lambda track: (track.position, track.slug))

    def track_modules(self, track: Track) -> list[Module]:
        return [self.modules[slug] for slug in track.modules if slug in self.modules]


class _Checker:
    """Collects problems for one file while reading its front matter."""

    def __init__(self, path: str, document: Document | None, problems: list[Problem]) -> None:
        self.path = path
        self.document = document
        self.problems = problems
        self.failed = False

    def problem(self, message: str, *key: str | int, line: int | None = None) -> None:
        if line is None:
            line = self.document.line(*key) if self.document else 1
        self.problems.append(Problem(self.path, line, message))
        self.failed = True

    def keys(self, data: dict[str, Any], allowed: set[str], required: set[str], *where: str | int) -> None:
        for key in sorted(set(data) - allowed, key=str):
            self.problem(f"unknown key '{key}' (allowed: {', '.join(sorted(allowed))})", *where, key)
        for key in sorted(required - set(data)):
            self.problem(f"missing key '{key}'", *where)

    def text(self, value: Any, *key: str | int, required: bool = True) -> str:
        if isinstance(value, str) and value.strip():
            return value.strip()
        if value is None and not required:
            return ""
        if value is not None and not isinstance(value, str):
            self.problem(f"'{key[-1]}' must be text; put it in quotes", *key)
        elif required:
            self.problem(f"'{key[-1]}' must not be empty", *key)
        return ""

    def integer(self, value: Any, low: int, high: int, *key: str | int) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.problem(f"'{key[-1]}' must be a whole number from {low} to {high}", *key)
            return low
        return value

    def text_list(self, value: Any, *key: str | int) -> list[str]:
        if not isinstance(value, list) or not value:
            self.problem(f"'{key[-1]}' must be a list with at least one item", *key)
            return []
        return [self.text(item, *key, index) for index, item in enumerate(value)]

    def audience(self, value: Any, *key: str) -> list[str]:
        values = value if isinstance(value, list) else [value]
        bad = [item for item in values if item not in AUDIENCES]
        if bad or not values:
            self.problem(f"'audience' must be a list of: {', '.join(AUDIENCES)}", *key)
        return [item for item in values if item in AUDIENCES]


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def word_count(markdown_text: str) -> int:
    """Words of running text, not counting Markdown markup."""
    text = re.sub(r"^\s*!!!\s+\w+", " ", markdown_text, flags=re.M)
    text = re.sub(r"\]\([^)]*\)", "]", text)
    return len(re.findall(r"\w[\w'’-]*", text))


def _questions(check: _Checker, raw: Any, *, original: dict[str, Question] | None) -> dict[str, Question]:
    """Read a knowledge check's questions. A translation (``original`` given) must have
    the same question and option ids; its ``correct`` marks are taken from the original."""
    where = ("knowledge_check", "questions")
    if not isinstance(raw, list):
        check.problem("'questions' must be a list", *where)
        return {}
    questions: dict[str, Question] = {}
    for index, item in enumerate(raw):
        key = (*where, index)
        if not isinstance(item, dict):
            check.problem("each question must have id, text, options and explanation", *key)
            continue
        check.keys(item, {"id", "text", "options", "explanation"}, {"id", "text", "options", "explanation"}, *key)
        question_id = check.text(item.get("id"), *key, "id")
        if question_id in questions:
            check.problem(f"question id '{question_id}' is used twice", *key, "id")
        options = _options(check, item.get("options"), key, original.get(question_id) if original else None)
        if original is None and options and not any(option.correct for option in options):
            check.problem(f"question '{question_id}' has no correct answer (mark one with 'correct: true')", *key)
        questions[question_id] = Question(
            question_id,
            check.text(item.get("text"), *key, "text"),
            tuple(options),
            check.text(item.get("explanation"), *key, "explanation"),
        )
    if original is not None:
        if set(questions) != set(original):
            missing = sorted(set(original) - set(questions))
            extra = sorted(set(questions) - set(original))
            check.problem(f"the questions differ from the original's (missing: {missing}, unknown: {extra})", *where)
    elif not questions:
        check.problem("a knowledge check needs questions", *where)
    return questions


def _options(check: _Checker, raw: Any, key: tuple[str | int, ...], original: Question | None) -> list[Option]:
    if not isinstance(raw, list) or len(raw) < 2:
        check.problem("a question needs at least two options", *key, "options")
        return []
    options: list[Option] = []
    for index, item in enumerate(raw):
        option_key = (*key, "options", index)
        if not isinstance(item, dict):
            check.problem("each option needs an id and a text", *option_key)
            continue
        allowed = {"id", "text"} if original is not None else {"id", "text", "correct"}
        check.keys(item, allowed, {"id", "text"}, *option_key)
        option_id = check.text(item.get("id"), *option_key, "id")
        if option_id in {option.id for option in options}:
            check.problem(f"option id '{option_id}' is used twice in this question", *option_key, "id")
        correct = item.get("correct", False)
        if not isinstance(correct, bool):
            check.problem("'correct' must be true or false", *option_key, "correct")
        options.append(Option(option_id, check.text(item.get("text"), *option_key, "text"), correct is True))
    if original is not None:
        if [option.id for option in options] != [option.id for option in original.options]:
            check.problem("the options differ from the original's", *key, "options")
        correct_ids = original.correct_ids
        options = [Option(option.id, option.text, option.id in correct_ids) for option in options]
    return options


def _sources(check: _Checker, raw: Any) -> list[Source]:
    if not isinstance(raw, list) or not raw:
        check.problem("'sources' must list at least one public source", "sources")
        return []
    sources = []
    for index, item in enumerate(raw):
        key = ("sources", index)
        if not isinstance(item, dict):
            check.problem("each source needs id, title, publisher, year and url", *key)
            continue
        check.keys(item, SOURCE_KEYS, SOURCE_KEYS, *key)
        url = check.text(item.get("url"), *key, "url")
        if url and not url.startswith(("https://", "http://")):
            check.problem("a source's url must start with https:// or http://", *key, "url")
        year = item.get("year")
        if not isinstance(year, int | str) or isinstance(year, bool):
            check.problem("'year' must be a year", *key, "year")
        sources.append(
            Source(
                check.text(item.get("id"), *key, "id"),
                check.text(item.get("title"), *key, "title"),
                check.text(item.get("publisher"), *key, "publisher"),
                year if isinstance(year, int | str) else "",
                url,
            )
        )
    return sources


def _body_problems(check: _Checker, document: Document, *, count_words: bool) -> None:
    if count_words:
        words = word_count(document.body)
        if not MIN_WORDS <= words <= MAX_WORDS:
            check.problem(
                f"the text has {words} words; a module has {MIN_WORDS} to {MAX_WORDS} words", line=document.body_line
            )


def module_links(document: Document) -> list[tuple[str, int]]:
    """Every ``module:`` link in the body, with its line."""
    links = []
    for offset, line in enumerate(document.body.split("\n")):
        for match in MODULE_LINK.finditer(line):
            links.append((match.group(1), document.body_line + offset))
    return links


def _module_text(
    check: _Checker,
    document: Document,
    text: str,
    language: str,
    questions: dict[str, Question],
    source_version: int | None = None,
) -> ModuleText:
    data = document.data
    return ModuleText(
        language=language,
        title=check.text(data.get("title"), "title"),
        summary=check.text(data.get("summary"), "summary"),
        objectives=check.text_list(data.get("objectives"), "objectives"),
        body=document.body,
        questions=questions,
        path=check.path,
        content_hash=content_hash(text),
        source_version=source_version,
    )


def _read_module(check: _Checker, document: Document, text: str, folder: str, stem: str) -> Module | None:
    data = document.data
    check.keys(data, MODULE_KEYS, MODULE_KEYS)
    slug = check.text(data.get("slug"), "slug")
    if slug and slug != stem:
        check.problem(f"the slug '{slug}' must equal the file name '{stem}'", "slug")
    if data.get("track") != folder:
        check.problem(f"'track' must be the folder name '{folder}'", "track")
    if data.get("language", "en") != "en":
        check.problem(
            "an original module is written in English ('language: en'); translations are separate files", "language"
        )
    raw_check = data.get("knowledge_check")
    pass_mark, draw = 80, 1
    questions: dict[str, Question] = {}
    if not isinstance(raw_check, dict):
        check.problem("'knowledge_check' must have 'pass_mark', 'draw' and 'questions'", "knowledge_check")
    else:
        keys = {"pass_mark", "draw", "questions"}
        check.keys(raw_check, keys, keys, "knowledge_check")
        pass_mark = check.integer(raw_check.get("pass_mark"), 50, 100, "knowledge_check", "pass_mark")
        questions = _questions(check, raw_check.get("questions"), original=None)
        # A draw the pool cannot fill is an error; a pool too small for fresh retries is a
        # quality problem (reported by the item rules, the module is still served).
        draw = check.integer(raw_check.get("draw"), 1, max(1, len(questions)), "knowledge_check", "draw")
    module = Module(
        slug=stem,
        track=folder,
        audience=check.audience(data.get("audience"), "audience"),
        estimated_minutes=check.integer(data.get("estimated_minutes"), 5, 180, "estimated_minutes"),
        version=check.integer(data.get("version"), 1, 10_000, "version"),
        pass_mark=pass_mark,
        draw=draw,
        sources=_sources(check, data.get("sources")),
        original=_module_text(check, document, text, "en", questions),
    )
    _body_problems(check, document, count_words=True)
    return None if check.failed else module


def _read_translation(
    check: _Checker, document: Document, text: str, stem: str, language: str, originals: dict[str, Module]
) -> tuple[str, ModuleText] | None:
    data = document.data
    check.keys(data, TRANSLATION_KEYS, TRANSLATION_KEYS)
    source_slug = data.get("translation_of")
    if source_slug != stem:
        check.problem(f"'translation_of' must be '{stem}', the original's slug", "translation_of")
    original = originals.get(stem)
    if original is None:
        check.problem(
            f"the original module '{stem}.md' is missing or invalid: a translation needs its source", "translation_of"
        )
        return None
    if data.get("language") != language:
        check.problem(f"'language' must be '{language}', as in the file name", "language")
    source_version = check.integer(data.get("source_version"), 1, original.version, "source_version")
    raw_check = data.get("knowledge_check")
    questions: dict[str, Question] = {}
    if not isinstance(raw_check, dict):
        check.problem("'knowledge_check' must have 'questions'", "knowledge_check")
    else:
        check.keys(raw_check, {"questions"}, {"questions"}, "knowledge_check")
        questions = _questions(check, raw_check.get("questions"), original=original.questions)
    translated = _module_text(check, document, text, language, questions, source_version)
    if len(document.body.split()) < 100:
        check.problem("the translated text is missing or far too short", line=document.body_line)
    return None if check.failed else (language, translated)


def _read_track(path: Path, relative: str, folder: str, problems: list[Problem]) -> Track | None:
    text = path.read_text(encoding="utf-8")
    try:
        data, lines = parse_yaml(text)
    except FrontMatterError as error:
        problems.append(Problem(relative, error.line, str(error)))
        return None
    document = Document(data=data if isinstance(data, dict) else {}, body="", lines=lines)
    check = _Checker(relative, document, problems)
    if not isinstance(data, dict):
        check.problem("a track file must be a set of 'key: value' lines")
        return None
    check.keys(data, TRACK_KEYS, TRACK_KEYS - {"assessment", "translations", "knowledge_checks"})
    if data.get("slug") != folder:
        check.problem(f"the track's slug must be its folder name '{folder}'", "slug")
    modules = data.get("modules")
    if not isinstance(modules, list) or not modules or not all(isinstance(m, str) for m in modules):
        check.problem("'modules' must list the track's module slugs in order", "modules")
        modules = []
    assessment: list[tuple[str, str]] = []
    raw_assessment = data.get("assessment")
    if raw_assessment is not None:
        refs = raw_assessment.get("questions") if isinstance(raw_assessment, dict) else None
        if not isinstance(refs, list) or not refs:
            check.problem("'assessment' must have a list of 'questions' (module-slug/question-id)", "assessment")
        else:
            for index, ref in enumerate(refs):
                if not isinstance(ref, str) or ref.count("/") != 1:
                    check.problem(
                        "an assessment question is written 'module-slug/question-id'", "assessment", "questions", index
                    )
                    continue
                module_slug, question_id = ref.split("/")
                assessment.append((module_slug, question_id))
    translations = data.get("translations") or {}
    if not isinstance(translations, dict) or any(
        language not in LANGUAGES or not isinstance(value, dict) for language, value in translations.items()
    ):
        check.problem(
            f"'translations' maps a language ({', '.join(LANGUAGES)}) to its title and description", "translations"
        )
        translations = {}
    track = Track(
        slug=folder,
        title=check.text(data.get("title"), "title"),
        description=check.text(data.get("description"), "description"),
        audience=check.audience(data.get("audience"), "audience"),
        position=check.integer(data.get("position"), 0, 1000, "position"),
        modules=list(modules),
        assessment=assessment,
        translations=translations,
        path=relative,
        policy=_policy(check, data.get("knowledge_checks")),
    )
    return None if check.failed else track


def _policy(check: _Checker, raw: Any) -> CheckPolicy:
    """A track's retry and review policy; what it leaves out takes the defaults."""
    if raw is None:
        return CheckPolicy()
    if not isinstance(raw, dict):
        check.problem("'knowledge_checks' must set 'attempts', 'wait_minutes' and/or 'review'", "knowledge_checks")
        return CheckPolicy()
    check.keys(raw, POLICY_KEYS, set(), "knowledge_checks")
    default = CheckPolicy()
    review = raw.get("review", default.review)
    if review not in REVIEW_MODES:
        check.problem(f"'review' must be one of: {', '.join(REVIEW_MODES)}", "knowledge_checks", "review")
        review = default.review
    return CheckPolicy(
        attempts=check.integer(raw.get("attempts", default.attempts), 1, 20, "knowledge_checks", "attempts"),
        wait_minutes=check.integer(
            raw.get("wait_minutes", default.wait_minutes), 0, 7 * 24 * 60, "knowledge_checks", "wait_minutes"
        ),
        review=review,
    )


def _module_files(folder: Path) -> tuple[list[Path], list[tuple[Path, str]]]:
    originals, translations = [], []
    for path in sorted(folder.glob("*.md")):
        _stem, dot, language = path.stem.partition(".")
        if dot:
            translations.append((path, language))
        else:
            originals.append(path)
    return originals, translations


def load_curriculum(root: Path) -> Curriculum:
    """Read and validate every track and module under ``root``."""
    curriculum = Curriculum()
    problems = curriculum.problems
    documents: dict[str, Document] = {}
    if not root.is_dir():
        problems.append(Problem(str(root), 1, "the content folder does not exist"))
        return curriculum
    folders = sorted(path for path in root.iterdir() if path.is_dir() and not path.name.startswith((".", "_")))
    for folder in folders:
        relative_folder = folder.relative_to(root)
        if not SLUG.match(folder.name):
            problems.append(Problem(str(relative_folder), 1, "a track folder name uses only a-z, 0-9 and hyphens"))
            continue
        track_path = folder / TRACK_FILE
        if not track_path.exists():
            problems.append(Problem(f"{relative_folder}/{TRACK_FILE}", 1, "every track folder needs a _track.yml"))
        else:
            track = _read_track(track_path, f"{relative_folder}/{TRACK_FILE}", folder.name, problems)
            if track is not None:
                curriculum.tracks[track.slug] = track
        originals, translations = _module_files(folder)
        for path in originals:
            loaded = _load_file(path, root, problems, documents)
            module = _read_module(*loaded, folder.name, path.stem) if loaded else None
            if module is None:
                continue
            if module.slug in curriculum.modules:
                other = curriculum.modules[module.slug].original.path
                problems.append(Problem(module.original.path, 1, f"duplicate slug '{module.slug}' (also {other})"))
                continue
            curriculum.modules[module.slug] = module
        for path, language in translations:
            stem = path.stem.partition(".")[0]
            if language == SERBIAN_DERIVED:
                message = "Serbian is written once, in Cyrillic (.sr-Cyrl.md); Latin script is derived from it"
                problems.append(Problem(str(path.relative_to(root)), 1, message))
                continue
            if language not in LANGUAGES or language == "en":
                codes = ", ".join(code for code in LANGUAGES if code != "en")
                message = f"unknown language '{language}' in the file name (use one of: {codes})"
                problems.append(Problem(str(path.relative_to(root)), 1, message))
                continue
            loaded = _load_file(path, root, problems, documents)
            result = _read_translation(*loaded, stem, language, curriculum.modules) if loaded else None
            if result is not None:
                curriculum.modules[stem].translations[result[0]] = result[1]
    for module in curriculum.modules.values():
        _derive_serbian_latin(module)
    _cross_check(curriculum, documents)
    return curriculum


# Serbian is written once, in Cyrillic; readers who chose Latin script read it transliterated.
SERBIAN_WRITTEN, SERBIAN_DERIVED = "sr-Cyrl", "sr-Latn"


def _latin_question(question: Question) -> Question:
    return Question(
        question.id,
        cyrillic_to_latin(question.text),
        tuple(Option(option.id, cyrillic_to_latin(option.text), option.correct) for option in question.options),
        cyrillic_to_latin(question.explanation),
    )


def serbian_latin(text: ModuleText) -> ModuleText:
    """A Serbian Cyrillic text shown in Latin script (Latin letters, links and code stay as they are)."""
    body = cyrillic_to_latin(text.body)
    return ModuleText(
        language=SERBIAN_DERIVED,
        title=cyrillic_to_latin(text.title),
        summary=cyrillic_to_latin(text.summary),
        objectives=[cyrillic_to_latin(objective) for objective in text.objectives],
        body=body,
        questions={key: _latin_question(question) for key, question in text.questions.items()},
        path=text.path,
        content_hash=content_hash(body + text.content_hash),
        source_version=text.source_version,
    )


def _derive_serbian_latin(module: Module) -> None:
    cyrillic = module.translations.get(SERBIAN_WRITTEN)
    if cyrillic is not None:
        module.translations[SERBIAN_DERIVED] = serbian_latin(cyrillic)


def _load_file(
    path: Path, root: Path, problems: list[Problem], documents: dict[str, Document]
) -> tuple[_Checker, Document, str] | None:
    """Read and split one file; ``None`` (with the problem recorded) when that fails."""
    relative = str(path.relative_to(root))
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        problems.append(Problem(relative, 1, "the file is not valid UTF-8 text"))
        return None
    try:
        document = parse_document(text)
    except FrontMatterError as error:
        problems.append(Problem(relative, error.line, str(error)))
        return None
    documents[relative] = document
    return _Checker(relative, document, problems), document, text


def _cross_check(curriculum: Curriculum, documents: dict[str, Document]) -> None:
    """Checks across files: track listings, assessment questions, links between modules."""
    problems = curriculum.problems
    for track in list(curriculum.tracks.values()):
        listed = set(track.modules)
        for slug in track.modules:
            if track.modules.count(slug) > 1:
                problems.append(Problem(track.path, 1, f"module '{slug}' is listed twice"))
        present = {slug for slug, module in curriculum.modules.items() if module.track == track.slug}
        for slug in sorted(listed - present):
            problems.append(Problem(track.path, 1, f"module '{slug}' is listed but its file is missing or invalid"))
        for slug in sorted(present - listed):
            problems.append(Problem(track.path, 1, f"module '{slug}' has a file but is not listed in 'modules'"))
        for module_slug, question_id in track.assessment:
            module = curriculum.modules.get(module_slug)
            if module is None or module.track != track.slug or question_id not in module.questions:
                problems.append(
                    Problem(
                        track.path, 1, f"assessment question '{module_slug}/{question_id}' does not exist in this track"
                    )
                )
    for module in curriculum.modules.values():
        for text in [module.original, *module.translations.values()]:
            checker = _Checker(text.path, documents[text.path], problems)
            for index, message in item_problems(module, text):
                where = ("knowledge_check", "questions", index) if index >= 0 else ("knowledge_check", "draw")
                checker.problem(message, *where)
        if module.track not in curriculum.tracks:
            problems.append(Problem(module.original.path, 1, f"the track '{module.track}' has no valid _track.yml"))
        for text in [module.original, *module.translations.values()]:
            for target, line in module_links(documents[text.path]):
                if target not in curriculum.modules:
                    problems.append(Problem(text.path, line, f"broken link: no module '{target}'"))


# Languages a module is translated into (Serbian Latin is derived from Cyrillic).
TRANSLATED_LANGUAGES = [code for code in LANGUAGES if code not in ("en", SERBIAN_DERIVED)]


def translation_status(module: Module, language: str) -> str:
    """ "translated", "out of date" (made from an older English version) or "missing"."""
    text = module.translations.get(language)
    if text is None:
        return "missing"
    if text.source_version is not None and text.source_version < module.version:
        return "out of date"
    return "translated"


def coverage(curriculum: Curriculum) -> list[tuple[Module, dict[str, str]]]:
    """Each module, in track order, with its status in every language of the region."""
    return [
        (module, {language: translation_status(module, language) for language in TRANSLATED_LANGUAGES})
        for track in curriculum.ordered_tracks()
        for module in curriculum.track_modules(track)
    ]
