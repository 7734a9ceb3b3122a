"""The interface in the region's languages: choosing one, and locale formats."""

from datetime import UTC, datetime

import pytest
from flask import render_template_string
from flask_babel import force_locale, gettext

from lms.i18n import LANGUAGES, babel_locale
from lms.models import Role, User
from tests.conftest import login_as


def _translated(app, language: str, text: str) -> str:
    with app.test_request_context(), force_locale(babel_locale(language)):
        return gettext(text)


@pytest.mark.parametrize("language", [code for code in LANGUAGES if code != "en"])
def test_every_language_has_its_own_text(app, language: str) -> None:
    assert _translated(app, language, "Log in") != "Log in"
    assert _translated(app, language, "Not recorded") != "Not recorded"


def test_serbian_comes_in_both_scripts(app) -> None:
    cyrillic = _translated(app, "sr-Cyrl", "People")
    latin = _translated(app, "sr-Latn", "People")
    assert all("\u0400" <= char <= "\u04ff" for char in cyrillic if char.isalpha())
    assert latin.isascii() or all(not "\u0400" <= char <= "\u04ff" for char in latin)


def test_browser_language_is_used_before_login(app, client) -> None:
    page = client.get("/auth/login", headers={"Accept-Language": "mk-MK,mk;q=0.9,en;q=0.5"})
    html = page.get_data(as_text=True)
    assert '<html lang="mk">' in html
    assert _translated(app, "mk", "Log in") in html


def test_choosing_a_language_keeps_it_for_the_session(app, client) -> None:
    response = client.post("/account/language", data={"language": "sq", "next": "/auth/login"})
    assert response.headers["Location"] == "/auth/login"
    html = client.get("/auth/login").get_data(as_text=True)
    assert '<html lang="sq">' in html and _translated(app, "sq", "Log in") in html
    refused = client.post("/account/language", data={"language": "xx"}, follow_redirects=True)
    assert '<html lang="sq">' in refused.get_data(as_text=True)


def test_signed_in_people_see_their_preferred_language_and_can_change_it(app, client, make_user, session) -> None:
    person = make_user("marija@example.org", roles=[Role.TRAINEE], country="MK")
    person.preferred_language = "mk"
    session.commit()
    login_as(client, person)
    html = client.get("/account/").get_data(as_text=True)
    assert '<html lang="mk">' in html and _translated(app, "mk", "My account") in html
    client.post("/account/language", data={"language": "sr-Cyrl"})
    session.expire_all()
    assert session.get(User, person.id).preferred_language == "sr-Cyrl"
    assert '<html lang="sr-Cyrl">' in client.get("/account/").get_data(as_text=True)


def test_dates_and_numbers_follow_the_locale(app) -> None:
    moment = datetime(2026, 3, 8, 10, 30, tzinfo=UTC)
    template = "{{ moment|date }} | {{ 4700|number }} | {{ 0.523|percent }}"
    results = {}
    for language in ["en", "sr-Latn", "mk", "sq"]:
        with app.test_request_context(), force_locale(babel_locale(language)):
            results[language] = render_template_string(template, moment=moment)
    assert results["en"] == "8 Mar 2026 | 4,700 | 52%"
    assert results["sr-Latn"].startswith("8. 3. 2026.") and "4.700" in results["sr-Latn"]
    assert "2026" in results["mk"] and "4.700" in results["mk"]
    assert results["sq"] != results["en"]
