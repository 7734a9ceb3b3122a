"""Answering knowledge checks as a learner's browser would."""

from __future__ import annotations

import html
import re
from typing import Any

from tests.content_fixture import MULTIPLE, POOL

# In the test curriculum option "a" is right everywhere, and the multiple-answer questions
# also want "b"; "c" is wrong everywhere.
RIGHT = {f"q{n}": (["a", "b"] if f"q{n}" in MULTIPLE else ["a"]) for n in range(1, POOL + 1)}
WRONG = {f"q{n}": ["c"] for n in range(1, POOL + 1)}


def form_fields(page: str) -> dict[str, str]:
    """The hidden fields of the knowledge-check form on a page."""
    return {
        name: html.unescape(value)
        for name, value in re.findall(r'<input type="hidden" name="(token|language)" value="([^"]*)"', page)
    }


def shown_questions(page: str) -> list[str]:
    """The question ids the page's knowledge check asks, in order."""
    return list(dict.fromkeys(re.findall(r'name="answer-([^"]+)" value="', page)))


def shown_options(page: str, question_id: str) -> list[str]:
    return re.findall(rf'name="answer-{re.escape(question_id)}" value="([^"]+)"', page)


def answers_for(page: str, answers: dict[str, list[str]]) -> dict[str, list[str]]:
    """The form fields answering the questions shown with ``answers`` (keys the pool does
    not have are sent as they are, to try tampering)."""
    shown = shown_questions(page)
    return {
        f"answer-{question_id}": options
        for question_id, options in answers.items()
        if question_id in shown or question_id not in RIGHT
    }


def submit_check(client: Any, slug: str, answers: dict[str, list[str]] | None = None, **extra: Any) -> Any:
    """Open the module and submit ``answers`` (question id to option ids) to the questions it
    shows, like a browser."""
    page = client.get(f"/learn/modules/{slug}").get_data(as_text=True)
    data: dict[str, Any] = {**form_fields(page), **extra, **answers_for(page, RIGHT if answers is None else answers)}
    return client.post(f"/learn/modules/{slug}/check", data=data)
