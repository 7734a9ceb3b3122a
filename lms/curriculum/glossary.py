"""The terminology base (``content/glossary.yml``): the agreed form of each key term in every
language of the region, and the forms to avoid.

``lms content check`` warns, with file and line, where a translation uses a form the glossary
rejects; a test holds the interface catalogues to the same rule. A form to avoid matches at
the start of a word, case-insensitively ("gender" also catches "gendera"); a phrase matches
its words in order. Occurrences inside an ``allow`` phrase (official names) are correct, and
link targets, inline code, slugs and an original given once as ``(*...*)`` are not read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from lms.text import cyrillic_to_latin

GLOSSARY_FILE = "glossary.yml"

# Parts of a text that are not prose in its language.
_NOT_PROSE = re.compile(
    r"\]\([^)]*\)"  # link targets
    r"|`[^`]*`"  # inline code
    r"|\(\*[^*]*\*\)"  # an original given once in italics and parentheses
    r"|\b[a-z0-9]+(?:-[a-z0-9]+){2,}\b"  # slugs
    r"|^\s*(?:translation_of|language|source_version|- id|id):.*$",  # front-matter identifiers
    re.MULTILINE,
)


@dataclass(frozen=True)
class Avoided:
    term: str  # the glossary entry's id
    form: str  # the form found
    agreed: str  # what to write instead
    line: int


@dataclass(frozen=True)
class _Rule:
    term: str
    pattern: re.Pattern[str]
    agreed: str
    allow: tuple[re.Pattern[str], ...]


def _phrase(words: str) -> re.Pattern[str]:
    """``words`` at the start of a word, in order, whatever the spaces between them."""
    return re.compile(r"(?<!\w)" + r"\s+".join(re.escape(word) for word in words.split()), re.IGNORECASE)


class Glossary:
    def __init__(self, terms: list[dict[str, object]]) -> None:
        self.terms = terms
        self._rules: dict[str, list[_Rule]] = {}

    @classmethod
    def load(cls, root: Path) -> Glossary:
        path = root / GLOSSARY_FILE
        if not path.exists():
            return cls([])
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return cls(list(data.get("terms") or []))

    def __len__(self) -> int:
        return len(self.terms)

    def rules(self, language: str) -> list[_Rule]:
        """The avoid rules of ``language`` (Serbian Latin: the Cyrillic rules transliterated)."""
        if language not in self._rules:
            source = "sr-Cyrl" if language == "sr-Latn" else language
            convert = cyrillic_to_latin if language == "sr-Latn" else (lambda value: value)
            rules = []
            for term in self.terms:
                entry = term.get(source)
                if not isinstance(entry, dict):
                    continue
                agreed = str((entry.get("use") or [entry.get("paired") or entry.get("masculine") or ""])[0])
                allow = tuple(_phrase(convert(str(phrase))) for phrase in entry.get("allow") or [])
                for form in entry.get("avoid") or []:
                    rules.append(_Rule(str(term.get("id")), _phrase(convert(str(form))), convert(agreed), allow))
            self._rules[language] = rules
        return self._rules[language]

    def avoided(self, text: str, language: str, *, first_line: int = 1) -> list[Avoided]:
        """Every use of a rejected form in ``text`` (written in ``language``)."""
        prose = _NOT_PROSE.sub(lambda match: " " * len(match.group(0)), text)
        matches: list[tuple[int, int, _Rule, str]] = []
        for rule in self.rules(language):
            allowed = [span.span() for pattern in rule.allow for span in pattern.finditer(prose)]
            for match in rule.pattern.finditer(prose):
                if not any(start <= match.start() and match.end() <= end for start, end in allowed):
                    matches.append((match.start(), match.end(), rule, match.group(0)))
        # "gender analiza" is one finding, not also one for "gender" inside it.
        spans: set[tuple[int, int]] = set()
        kept = []
        for start, end, rule, form in matches:
            inside = any(s <= start and end <= e and (s, e) != (start, end) for s, e, _r, _f in matches)
            if not inside and (start, end) not in spans:
                spans.add((start, end))
                kept.append((start, rule, form))
        found = [
            Avoided(rule.term, form, rule.agreed, first_line + prose.count("\n", 0, start))
            for start, rule, form in kept
        ]
        return sorted(found, key=lambda item: (item.line, item.term))
