"""The translation catalogues: in step with the code, and safe to render.

A catalogue may lag behind (an untranslated entry shows in English), but it must contain
every message of the current template, and no translation may drop, add or misspell a
placeholder: a wrong ``%(name)s`` would break the page in that language.
"""

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from lms.config import ROOT

TRANSLATIONS = ROOT / "translations"
CATALOGUES = sorted(TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"))
_PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]|\{\{\s*(\w+)\s*\}\}|%[sd]")


def _placeholders(text: str) -> list[str]:
    return sorted(match.group(0).replace(" ", "") for match in _PLACEHOLDER.finditer(text))


def _read(path: Path):  # type: ignore[no-untyped-def]
    with path.open("rb") as handle:
        return read_po(handle)


def test_template_is_up_to_date(tmp_path: Path) -> None:
    fresh = tmp_path / "messages.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "-q",
            "extract",
            "-F",
            "babel.cfg",
            "--ignore-dirs=.*",
            "-k",
            "_l",
            "-k",
            "lazy_gettext",
            "-k",
            "lazy_pgettext:1c,2",
            "-k",
            "lazy_ngettext:1,2",
            "-o",
            str(fresh),
            ".",
        ],
        cwd=ROOT,
        check=True,
    )
    current = {(message.context, message.id) for message in _read(TRANSLATIONS / "messages.pot") if message.id}
    extracted = {(message.context, message.id) for message in _read(fresh) if message.id}
    assert extracted - current == set(), "new messages: run `make extract-messages`"
    assert current - extracted == set(), "stale messages: run `make extract-messages`"


def test_every_template_message_is_in_the_catalogue_template() -> None:
    """Each template file, read on its own (not through the extractor's walk of folders,
    which once skipped ``templates/_macros``), has all its messages in messages.pot."""
    from babel.messages.extract import extract

    current = {message.id for message in _read(TRANSLATIONS / "messages.pot") if message.id}
    missing = []
    for path in sorted((ROOT / "templates").rglob("*.html")):
        with path.open("rb") as handle:
            for line, message, _comments, _context in extract(
                "jinja2", handle, options={"extensions": "jinja2.ext.do"}
            ):
                key = message if isinstance(message, str) else tuple(message[:2])
                if key not in current:
                    missing.append(f"{path.relative_to(ROOT)}:{line}: {message!r}")
    assert not missing, "messages missing from translations/messages.pot:\n" + "\n".join(missing)


def test_there_is_a_catalogue_for_every_language() -> None:
    from lms.i18n import LANGUAGES, babel_locale

    expected = {babel_locale(code) for code in LANGUAGES if code != "en"}
    assert {path.parent.parent.name for path in CATALOGUES} == expected


@pytest.mark.parametrize("path", CATALOGUES, ids=lambda path: path.parent.parent.name)
def test_catalogue_has_every_message_with_matching_placeholders(path: Path) -> None:
    template = {message.id for message in _read(TRANSLATIONS / "messages.pot") if message.id}
    catalogue = _read(path)
    assert template - {message.id for message in catalogue if message.id} == set(), "run `make extract-messages`"
    problems = []
    for message in catalogue:
        if not message.id or not message.string or message.fuzzy:
            continue  # untranslated and fuzzy entries are not used: the English shows
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        expected = _placeholders(ids[-1])
        for string in strings:
            if string and _placeholders(string) != expected and _placeholders(string) != _placeholders(ids[0]):
                problems.append(f"{ids[0]!r}: {string!r}")
    assert not problems, "placeholders differ:\n" + "\n".join(problems)
