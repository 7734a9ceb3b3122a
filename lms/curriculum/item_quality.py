"""Rules for knowledge-check items that test understanding rather than test-wiseness.

A learner who has not read the module should not pass by picking the longest option, by
ruling out the one absurd option of a "choose all that apply" item, or by reading an
explanation that names option letters (options are shuffled and shown without letters).
``lms content check`` reports every item that breaks a rule, with its file and question.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lms.curriculum.content import Module, ModuleText, Question

# The share of a module's single-answer items whose right answer may be the longest option.
LONGEST_RIGHT_SHARE = 1 / 3
MIN_WRONG_IN_MULTIPLE = 2
# Each attempt draws ``draw`` questions from the pool: the pool is at least MIN_POOL, an
# attempt asks at least MIN_DRAW, and leaves at least MIN_LEFT_OUT out, so a retry asks
# different questions.
MIN_POOL, MIN_DRAW, MIN_LEFT_OUT = 10, 5, 3

_OPTION_WORDS = (
    r"options?|answers?|choices?|alternatives?"
    r"|opcij\w*|odgovor\w*|alternativ\w*|opsion\w*|përgjigj\w*"
    r"|опциј\w*|одговор\w*|алтернатив\w*"
)
# "option b is right", "answers a and c", "(c)", "b) is ...": letters the learner never sees.
OPTION_LETTER = re.compile(
    rf"\b(?:{_OPTION_WORDS})\s+\(?[a-hа-з]\)?"
    r"(?=\s*[),.;:!?]|\s*$|\s+(?:and|or|is|are|i|ili|je|su|и|или|је|су|dhe|ose|është)\b)"
    r"|(?:^|[\s,;:])\(\s*[a-hа-з]\s*\)"
    r"|(?:^|[.;:]\s+)[a-hа-з]\)\s",
    re.IGNORECASE,
)


def _longest_is_right(question: Question, wording: Question) -> bool:
    lengths = {option.id: len(option.text) for option in wording.options}
    right = [lengths[option.id] for option in question.options if option.correct]
    wrong = [lengths[option.id] for option in question.options if not option.correct]
    return bool(right and wrong) and min(right) > max(wrong)


def _pool_problems(module: Module) -> list[tuple[int, str]]:
    pool, draw = len(module.questions), module.draw
    found = []
    if pool < MIN_POOL:
        found.append(f"the pool has {pool} questions: write at least {MIN_POOL}")
    if draw < MIN_DRAW:
        found.append(f"'draw' is {draw}: an attempt asks at least {MIN_DRAW} questions")
    if pool - draw < MIN_LEFT_OUT:
        found.append(
            f"the pool ({pool}) must be at least {MIN_LEFT_OUT} larger than 'draw' ({draw}),"
            " so that a retry asks different questions"
        )
    return [(-1, message) for message in found]


def item_problems(module: Module, text: ModuleText) -> list[tuple[int, str]]:
    """(index of the question in the file, message) for every item of ``text`` that breaks a
    rule. ``text`` is the module's original or one of its translations: the wording is
    checked in every language, the answer key comes from the original."""
    problems: list[tuple[int, str]] = []
    if text is module.original:
        problems.extend(_pool_problems(module))
    keyed = module.questions
    order = list(text.questions)
    singles = [qid for qid in order if qid in keyed and not keyed[qid].multiple]
    longest = [qid for qid in singles if _longest_is_right(keyed[qid], text.questions[qid])]
    if singles and len(longest) > LONGEST_RIGHT_SHARE * len(singles):
        for qid in longest:
            problems.append(
                (
                    order.index(qid),
                    f"question '{qid}': the right answer is the longest option, as in {len(longest)} of the"
                    f" {len(singles)} single-answer questions of this module (at most a third may be):"
                    " make the wrong options as long and as plausible",
                )
            )
    for index, qid in enumerate(order):
        question = keyed.get(qid)
        if question is None:
            continue
        wrong = sum(1 for option in question.options if not option.correct)
        if question.multiple and wrong < MIN_WRONG_IN_MULTIPLE and text is module.original:
            problems.append(
                (
                    index,
                    f"question '{qid}' has several right answers but only {wrong} wrong option:"
                    f" give it at least {MIN_WRONG_IN_MULTIPLE} plausible wrong options",
                )
            )
        if OPTION_LETTER.search(text.questions[qid].explanation):
            problems.append(
                (
                    index,
                    f"question '{qid}': the explanation names an option by its letter, but options are"
                    " shuffled and shown without letters: name the answer by what it says",
                )
            )
    return problems


def longest_right_share(modules: list[Module]) -> tuple[int, int]:
    """(single-answer items whose right answer is the longest option, single-answer items),
    over the originals of ``modules``: what always picking the longest option would score."""
    singles = [question for module in modules for question in module.questions.values() if not question.multiple]
    return sum(1 for question in singles if _longest_is_right(question, question)), len(singles)
