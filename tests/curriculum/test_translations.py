"""Modules in the reader's language, with English as the fallback."""

import sqlalchemy as sa

from lms.models import ModuleCompletion, Role
from tests.conftest import login_as
from tests.content_fixture import DRAW, translation
from tests.curriculum.helpers import RIGHT, shown_questions, submit_check


def shown_questions_of_attempt(session) -> list[str]:
    import json

    from lms.models import QuizAttempt

    return [question_id for question_id, _options in json.loads(session.scalar(sa.select(QuizAttempt.shown)))]


def _reader(make_user, client, session, language: str):
    person = make_user(roles=[Role.TRAINEE], country="BA")
    person.preferred_language = language
    session.commit()
    login_as(client, person)
    return person


def test_the_reader_shows_the_readers_language(client, make_user, session) -> None:
    _reader(make_user, client, session, "bs")
    page = client.get("/learn/modules/first-module").get_data(as_text=True)
    assert "Prevedeni naslov" in page
    # The questions drawn for this attempt, worded in Bosnian.
    asked = shown_questions(page)
    assert len(asked) == DRAW and all(f"Pitanje {q}?" in page and f"Opcija a pitanja {q}" in page for q in asked)
    assert "Shown in" in page or 'lang="bs"' in page
    assert '<article class="reader" lang="bs"' in page


def test_english_is_the_fallback_and_says_so(app, client, make_user, session) -> None:
    _reader(make_user, client, session, "bs")
    page = client.get("/learn/modules/second-module").get_data(as_text=True)
    assert '<article class="reader" lang="en"' in page
    from flask_babel import force_locale, gettext

    with app.test_request_context(), force_locale("bs"):
        notice = gettext(
            "This module is not yet available in %(language)s. It is shown in English.", language="Bosanski"
        )
    assert notice in page


def test_another_language_can_be_chosen(client, make_user, session) -> None:
    _reader(make_user, client, session, "en")
    page = client.get("/learn/modules/first-module").get_data(as_text=True)
    assert 'href="/learn/modules/first-module?lang=bs"' in page
    assert "Prevedeni naslov" in client.get("/learn/modules/first-module?lang=bs").get_data(as_text=True)
    assert "Prevedeni naslov" not in client.get("/learn/modules/first-module?lang=xx").get_data(as_text=True)


def test_completing_in_a_translation_completes_the_module(client, make_user, session) -> None:
    _reader(make_user, client, session, "bs")
    response = submit_check(client, "first-module", RIGHT)
    assert response.status_code == 302
    completion = session.scalar(sa.select(ModuleCompletion))
    assert completion.language == "bs"
    result = client.get(response.headers["Location"]).get_data(as_text=True)
    assert all(f"Objašnjenje {q}." in result for q in shown_questions_of_attempt(session))


def test_an_outdated_translation_is_flagged(app, client, make_user, session, content_dir) -> None:
    from tests.content_fixture import module

    (content_dir / "basics" / "first-module.md").write_text(
        module("first-module", "basics", version=2, extra="See [the next one](module:second-module).")
    )
    (content_dir / "basics" / "first-module.bs.md").write_text(translation("first-module", "bs", source_version=1))
    app.extensions["lms.content"].refresh()
    _reader(make_user, client, session, "en")
    page = client.get("/learn/modules/first-module?lang=bs").get_data(as_text=True)
    assert "has been updated since this translation was made" in page


def _serbian(content_dir) -> None:
    """A Serbian Cyrillic translation of the second module (the fixture's is Bosnian)."""
    text = translation("second-module", "sr-Cyrl", title="Други модул: Љубица и Ђорђе")
    (content_dir / "basics" / "second-module.sr-Cyrl.md").write_text(text.replace("Uvod u modul.", "Увод у модул."))


def test_serbian_latin_readers_read_the_cyrillic_text_transliterated(app, client, make_user, session, content_dir):
    _serbian(content_dir)
    app.extensions["lms.content"].refresh()
    _reader(make_user, client, session, "sr-Latn")
    page = client.get("/learn/modules/second-module").get_data(as_text=True)
    assert "Drugi modul: Ljubica i Đorđe" in page and "Uvod u modul." in page
    assert '<article class="reader" lang="sr-Latn"' in page
    cyrillic = client.get("/learn/modules/second-module?lang=sr-Cyrl").get_data(as_text=True)
    assert "Други модул: Љубица и Ђорђе" in cyrillic and "Увод у модул." in cyrillic


def test_serbian_is_written_once(runner, content_dir) -> None:
    (content_dir / "basics" / "second-module.sr-Latn.md").write_text(translation("second-module", "sr-Latn"))
    result = runner.invoke(args=["lms", "content", "check"])
    assert result.exit_code != 0
    assert "basics/second-module.sr-Latn.md:1: Serbian is written once, in Cyrillic" in result.output


def test_the_check_prints_the_coverage_of_each_language(runner, content_dir) -> None:
    from tests.content_fixture import module

    (content_dir / "basics" / "first-module.md").write_text(
        module("first-module", "basics", version=2, extra="See [the next one](module:second-module).")
    )
    result = runner.invoke(args=["lms", "content", "check"])
    rows = {line.split()[0]: line.split()[1:] for line in result.output.splitlines() if line.split()}
    assert rows["module"] == ["bs", "cnr", "hr", "mk", "sq", "sr-Cyrl"]
    assert rows["first-module"] == ["old", "-", "-", "-", "-", "-"]  # Bosnian made from version 1
    assert rows["second-module"] == ["-"] * 6
    assert rows["complete"] == ["0/3", "0/3", "0/3", "0/3", "0/3", "0/3"]
