"""A small, valid curriculum written for tests, independent of the real content/."""

from __future__ import annotations

import textwrap
from pathlib import Path

FILLER = (
    "Commanders set the tone in their units. A gender perspective helps a unit understand how an "
    "operation affects women and men differently, and how to keep everyone safe. "
)


def body(words: int = 650, extra: str = "") -> str:
    sentences = (FILLER * (words // len(FILLER.split()) + 1)).split(" ")[:words]
    paragraph = " ".join(sentences)
    return textwrap.dedent(f"""
        Introduction to the module.

        ## First section

        {paragraph}

        !!! example "Scenario: the duty roster"
            A platoon commander notices that only women are given office duties.

        ## Second section

        {extra}
        """)


POOL = 10  # questions in each module's pool
DRAW = 5  # asked in one attempt
MULTIPLE = {"q5", "q10"}  # "choose all that apply": a and b are right


def question(qid: str, correct: str = "a", multiple: bool = False) -> str:
    lines = [f"    - id: {qid}", f'      text: "Question {qid}?"', "      options:"]
    for option in "abcd":
        right = option == correct or (multiple and option == "b")
        lines.append(
            f'        - {{id: {option}, text: "Option {option} of {qid}"{", correct: true" if right else ""}}}'
        )
    lines.append(f'      explanation: "Because {correct} is right for {qid}."')
    return "\n".join(lines)


def module(slug: str, track: str, *, version: int = 1, extra: str = "", title: str | None = None) -> str:
    questions = "\n".join(question(f"q{n}", multiple=f"q{n}" in MULTIPLE) for n in range(1, POOL + 1))
    return f"""---
slug: {slug}
title: "{title or slug.replace("-", " ").title()}"
summary: "A module for tests."
track: {track}
audience: [all]
estimated_minutes: 20
language: en
version: {version}
objectives:
  - "Understand the test."
sources:
  - id: s1
    title: "UN Security Council resolution 1325 (2000)"
    publisher: "United Nations"
    year: 2000
    url: "https://undocs.org/S/RES/1325(2000)"
knowledge_check:
  pass_mark: 80
  draw: {DRAW}
  questions:
{questions}
---
{body(extra=extra)}"""


def translation(slug: str, language: str, *, source_version: int = 1, title: str = "Prevedeni naslov") -> str:
    questions = []
    for n in range(1, POOL + 1):
        options = "\n".join(f'        - {{id: {o}, text: "Opcija {o} pitanja q{n}"}}' for o in "abcd")
        head = f'    - id: q{n}\n      text: "Pitanje q{n}?"\n      options:\n'
        questions.append(f'{head}{options}\n      explanation: "Objašnjenje q{n}."')
    joined = "\n".join(questions)
    words = " ".join(["riječ"] * 150)
    return f"""---
translation_of: {slug}
language: {language}
source_version: {source_version}
title: "{title}"
summary: "Modul za testove."
objectives:
  - "Razumjeti test."
knowledge_check:
  questions:
{joined}
---
Uvod u modul.

## Prvi dio

{words}
"""


TRACK = """slug: {slug}
title: "{title}"
description: "A track for tests."
audience: [all]
position: {position}
modules:
{modules}
assessment:
  questions:
{assessment}
{policy}"""


def write_curriculum(root: Path) -> Path:
    """Two tracks: "basics" (two modules, a pre/post test, a Bosnian translation) and "advanced"."""
    tracks = {
        "basics": ("Basics", 1, ["first-module", "second-module"]),
        "advanced": ("Advanced", 2, ["third-module"]),
    }
    for slug, (title, position, modules) in tracks.items():
        folder = root / slug
        folder.mkdir(parents=True, exist_ok=True)
        assessment = "\n".join(f"    - {m}/q1" for m in modules)
        (folder / "_track.yml").write_text(
            TRACK.format(
                slug=slug,
                title=title,
                position=position,
                modules="\n".join(f"  - {m}" for m in modules),
                assessment=assessment,
                # "basics" may be retried at once; "advanced" keeps the defaults (a wait).
                policy="knowledge_checks:\n  attempts: 3\n  wait_minutes: 0\n" if slug == "basics" else "",
            ),
            encoding="utf-8",
        )
        for module_slug in modules:
            extra = "See [the next one](module:second-module)." if module_slug == "first-module" else ""
            (folder / f"{module_slug}.md").write_text(module(module_slug, slug, extra=extra), encoding="utf-8")
    (root / "basics" / "first-module.bs.md").write_text(translation("first-module", "bs"), encoding="utf-8")
    return root
