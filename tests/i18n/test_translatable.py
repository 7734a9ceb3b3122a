"""Every user-facing string in a template goes through the translator.

Each template has its Jinja parts (``{% trans %}`` blocks, ``{{ ... }}``, tags and
comments) replaced by a placeholder; whatever words remain in the HTML text, or in the
attributes people read or hear (title, alt, placeholder, aria-label), were never
translatable.
"""

import re
from html.parser import HTMLParser

from lms.config import ROOT

# Not words of any language: the programme's acronym and file formats. Text inside
# <code> is a technical name (such as a roster column) and stays as it is.
ALLOWED = {"RNGT", "CSV", "XLSX"}
VISIBLE_ATTRIBUTES = {"title", "alt", "placeholder", "aria-label", "value"}
_JINJA = re.compile(r"\{%-?\s*trans\b.*?\{%-?\s*endtrans\s*-?%\}|\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.S)
_WORD = re.compile(r"[^\W\d_]{2,}")


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.texts: list[tuple[int, str]] = []
        self.in_code = 0

    def handle_data(self, data: str) -> None:
        if not self.in_code:
            self.texts.append((self.getpos()[0], data))

    def handle_endtag(self, tag: str) -> None:
        if tag == "code":
            self.in_code -= 1

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "code":
            self.in_code += 1
        shown_value = tag == "input" and dict(attrs).get("type") in {"submit", "button", "reset"}
        for name, value in attrs:
            if name in VISIBLE_ATTRIBUTES and value and (name != "value" or shown_value):
                self.texts.append((self.getpos()[0], value))


def untranslated_words(source: str) -> list[tuple[int, str]]:
    """``(line, word)`` for each word in ``source`` that no translation function covers."""
    # Keep line numbers: replace each Jinja part by a placeholder with its newlines.
    stripped = _JINJA.sub(lambda match: "§" + "\n" * match.group(0).count("\n"), source)
    collector = _TextCollector()
    collector.feed(stripped)
    return [(line, word) for line, text in collector.texts for word in _WORD.findall(text) if word not in ALLOWED]


def test_template_text_is_translatable() -> None:
    problems = [
        f"{path.relative_to(ROOT)}:{line}: {word}"
        for path in sorted((ROOT / "templates").rglob("*.html"))
        for line, word in untranslated_words(path.read_text(encoding="utf-8"))
    ]
    assert not problems, "words outside _() or {% trans %}:\n" + "\n".join(problems)


def test_the_check_catches_bare_words() -> None:
    source = (
        '<p class="x">{{ _("Fine") }}</p>\n<p>Forgotten words</p>\n'
        '{% trans name=x %}Also {{ name }} fine{% endtrans %}\n<img alt="A picture" src="{{ url }}">'
    )
    assert untranslated_words(source) == [(2, "Forgotten"), (2, "words"), (4, "picture")]
