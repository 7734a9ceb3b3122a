"""One terminology: the glossary's agreed forms, and warnings where a text uses a rejected one."""

from __future__ import annotations

import pytest
from babel.messages.pofile import read_po

from lms.config import ROOT
from lms.curriculum.glossary import Glossary
from tests.content_fixture import translation

GLOSSARY = Glossary.load(ROOT / "content")
LANGUAGES = ["bs", "cnr", "hr", "mk", "sq", "sr-Cyrl"]
# Interface catalogue directory -> the glossary's language.
CATALOGUES = {"bs": "bs", "hr": "hr", "mk": "mk", "sq": "sq", "sr_Cyrl": "sr-Cyrl", "sr_Latn": "sr-Latn"}
CATALOGUES["sr_Latn_ME"] = "cnr"


def test_the_glossary_gives_every_term_in_every_language() -> None:
    assert len(GLOSSARY) >= 80
    for term in GLOSSARY.terms:
        for language in LANGUAGES:
            entry = term[language]
            assert entry.get("use") or entry.get("paired"), (term["id"], language)
            if term["kind"] in ("role", "rank"):
                assert {"masculine", "feminine", "paired"} <= set(entry), (term["id"], language)


def test_rejected_forms_are_found_where_they_are_prose() -> None:
    text = (
        "Gendera nema.\n"
        "Ovo je gender\n  analiza za jedinicu.\n"
        "[modul](module:gender-analysis-in-operational-planning), `gender`, rodna ravnopravnost (*gender mainstreaming*).\n"
        "Gender akcioni plan Bosne i Hercegovine je službeni naziv.\n"
    )
    found = GLOSSARY.avoided(text, "bs", first_line=10)
    assert [(item.line, item.term) for item in found] == [(10, "gender"), (11, "gender-analysis")]
    assert found[1].agreed == "rodna analiza"


def test_serbian_latin_is_held_to_the_cyrillic_rules() -> None:
    assert [item.term for item in GLOSSARY.avoided("Ovo je gender pristup.", "sr-Latn")] == ["gender"]


def test_the_content_check_warns_with_file_and_line(runner, content_dir) -> None:
    (content_dir / "glossary.yml").write_text((ROOT / "content" / "glossary.yml").read_text(encoding="utf-8"))
    text = translation("second-module", "bs").replace("Uvod u modul.", "Uvod u gender pitanja.")
    (content_dir / "basics" / "second-module.bs.md").write_text(text)
    result = runner.invoke(args=["lms", "content", "check"])
    assert result.exit_code == 0  # a warning, not a failure
    line = text.splitlines().index("Uvod u gender pitanja.") + 1
    assert f"warning: content/basics/second-module.bs.md:{line}: 'gender' is not the agreed term" in result.output
    assert "(glossary 'gender': write 'rod')" in result.output
    assert "1 warning(s)" in result.output


@pytest.mark.parametrize("folder", sorted(CATALOGUES))
def test_the_interface_uses_the_agreed_terms(folder: str) -> None:
    path = ROOT / "translations" / folder / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as handle:
        catalogue = read_po(handle)
    problems = []
    for message in catalogue:
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for string in strings:
            for found in GLOSSARY.avoided(string or "", CATALOGUES[folder]):
                problems.append(f"{message.id!r}: '{found.form}' (write '{found.agreed}')")
    assert not problems, "\n".join(problems)
