"""Absolute links come from LMS_PUBLIC_URL only, never from the request's Host or
X-Forwarded-Host; production answers only requests addressed to its own host names."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from freezegun import freeze_time
from icalendar import Calendar

from lms.certificates import document
from lms.config import ROOT, build_config, trusted_hosts
from lms.models import Role
from lms.web import public_url
from tests.conftest import SECRET, login_as, make_test_app
from tests.courses.helpers import enrol_all, make_course

PUBLIC = "https://lms.example.org/rngt"
POISON = {"Host": "evil.example", "X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "http"}

# Ways of building an address from what the request says about itself.
FROM_THE_REQUEST = re.compile(r"\b_external\b|host_url|url_root|request\.(host|url|base_url)\b")


def test_no_address_is_built_from_the_request() -> None:
    found = []
    for folder, pattern in (("lms", "*.py"), ("templates", "*.html")):
        for path in sorted((ROOT / folder).rglob(pattern)):
            name = path.relative_to(ROOT).as_posix()
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if FROM_THE_REQUEST.search(line):
                    found.append(f"{name}:{number}: {line.strip()}")
    assert not found, "build absolute addresses with lms.web.public_url:\n" + "\n".join(found)


@pytest.fixture
def other_app(app, database_url: str, tmp_path: Path, content_dir: Path) -> Iterator[Callable[..., Flask]]:
    """Another app on the test's database, with its own configuration."""
    made: list[Flask] = []

    def factory(**config: Any) -> Flask:
        made.append(make_test_app(database_url, tmp_path / f"app-{len(made)}", CONTENT_DIR=content_dir, **config))
        return made[-1]

    yield factory
    for other in made:
        other.extensions["lms.engine"].dispose()


def _log_in(client: Any, user: Any) -> None:
    login_as(client, user)
    # The browser of someone forging the Host sends its cookie to that host too.
    client.set_cookie("lms_session", client.get_cookie("lms_session").value, domain="evil.example")


def _feed_path(url: str) -> str:
    assert url.startswith(PUBLIC + "/"), url
    return url.removeprefix(PUBLIC)


def _event_urls(body: bytes) -> list[str]:
    events = Calendar.from_ical(body).walk("VEVENT")
    assert events
    for event in events:
        assert str(event["DESCRIPTION"]).endswith(str(event["URL"]))
    return [str(event["URL"]) for event in events]


@freeze_time("2026-03-01")
def test_feed_addresses_and_ics_links_ignore_a_forged_host(other_app, make_user, session) -> None:
    trainer = make_user("trainer@example.org", roles=[Role.TRAINER])
    cadet = make_user("cadet@example.org", roles=[Role.TRAINEE])
    course = make_course(session, trainer)
    enrol_all(session, course, [cadet], trainer)
    # Behind one proxy, which passes X-Forwarded-* on: the case where a forged header reaches us.
    proxied = other_app(PROXY_COUNT=1, PUBLIC_URL=PUBLIC)
    course_page = f"{PUBLIC}/courses/{course.id}"

    staff = proxied.test_client()
    _log_in(staff, trainer)
    page = staff.get(f"/courses/{course.id}", headers=POISON).get_data(as_text=True)
    assert "evil.example" not in page
    course_feed = _feed_path(re.search(r'id="course-feed"[^>]*value="([^"]+)"', page).group(1))
    ics = staff.get(f"/courses/{course.id}/calendar.ics", headers=POISON)
    assert b"evil.example" not in ics.data
    assert set(_event_urls(ics.data)) == {course_page}
    anonymous = proxied.test_client()
    feed = anonymous.get(course_feed, headers=POISON)
    assert feed.status_code == 200 and b"evil.example" not in feed.data
    assert set(_event_urls(feed.data)) == {course_page}

    person = proxied.test_client()
    _log_in(person, cadet)
    assert person.post("/calendar/feed").status_code == 302
    page = person.get("/calendar/", headers=POISON).get_data(as_text=True)
    personal_feed = _feed_path(re.search(r'id="feed-url"[^>]*value="([^"]+)"', page).group(1))
    assert personal_feed.startswith(f"/calendar/feed/{cadet.id}/")
    feed = anonymous.get(personal_feed, headers=POISON)
    assert feed.status_code == 200 and b"evil.example" not in feed.data
    assert set(_event_urls(feed.data)) == {course_page}


def test_public_url_works_without_a_request_and_keeps_the_path(app) -> None:
    app.config["PUBLIC_URL"] = PUBLIC
    with app.app_context():
        assert public_url("verify.certificate", code="7K3M-Q9XD") == f"{PUBLIC}/verify/7K3M-Q9XD"
        assert public_url("courses.detail", course_id=4, _anchor="sessions") == f"{PUBLIC}/courses/4#sessions"
        # The print worker puts this address in each certificate's QR code.
        assert document.verification_url("7K3MQ9XD2HFAPV4N") == f"{PUBLIC}/verify/7K3M-Q9XD-2HFA-PV4N"
    app.config["PUBLIC_URL"] = "http://127.0.0.1:5101"
    with app.test_request_context("/people/", base_url="https://other.example/mounted"):
        assert public_url("auth.activate", token="abc") == "http://127.0.0.1:5101/auth/activate/abc"


def test_a_certificate_printed_for_another_address_is_a_new_file(app) -> None:
    # make run PORT=5101 must not hand out a PDF cached with the QR code of port 5000.
    from types import SimpleNamespace

    from lms.certificates import files

    revision = SimpleNamespace(id=7)
    with app.app_context():
        app.config["PUBLIC_URL"] = "http://127.0.0.1:5000"
        first = files._cache_path(revision)
        app.config["PUBLIC_URL"] = "http://127.0.0.1:5101"
        assert files._cache_path(revision) != first


@pytest.mark.parametrize("value", ["127.0.0.1:5101", "ftp://lms.example.org", "https://user:pw@lms.example.org"])
def test_a_public_url_that_is_not_an_address_is_refused(tmp_path, monkeypatch, value) -> None:
    from lms import ConfigError

    monkeypatch.setenv("LMS_PUBLIC_URL", value)
    with pytest.raises(ConfigError, match="LMS_PUBLIC_URL"):
        build_config({"INSTANCE_DIR": tmp_path, "SECRET_KEY": SECRET})


def test_trusted_hosts_are_the_public_one_and_the_listed_ones(tmp_path, monkeypatch) -> None:
    assert trusted_hosts("https://LMS.example.org:8443/rngt", " localhost, 10.0.0.5,,") == [
        "lms.example.org",
        "localhost",
        "10.0.0.5",
    ]
    monkeypatch.delenv("LMS_TRUSTED_HOSTS", raising=False)
    assert build_config({"INSTANCE_DIR": tmp_path, "SECRET_KEY": SECRET}).get("TRUSTED_HOSTS") is None  # development
    monkeypatch.setenv("LMS_ENV", "production")
    monkeypatch.setenv("LMS_PUBLIC_URL", "https://lms.example.org")
    monkeypatch.setenv("LMS_TRUSTED_HOSTS", "localhost")
    assert build_config({"INSTANCE_DIR": tmp_path, "SECRET_KEY": SECRET})["TRUSTED_HOSTS"] == [
        "lms.example.org",
        "localhost",
    ]


def test_production_answers_only_its_own_host_names(other_app, monkeypatch) -> None:
    monkeypatch.setenv("LMS_ENV", "production")
    monkeypatch.setenv("LMS_PUBLIC_URL", "https://lms.example.org")
    monkeypatch.setenv("LMS_TRUSTED_HOSTS", "localhost")
    monkeypatch.setenv("LMS_PROXY_COUNT", "1")
    production = other_app()
    client = production.test_client()
    assert client.get("/auth/login", base_url="https://lms.example.org").status_code == 200
    assert client.get("/healthz", base_url="http://localhost:8000").status_code == 200  # the listed extra
    for headers in ({"Host": "evil.example"}, {"Host": "lms.example.org.evil.example"}):
        refused = client.get("/auth/login", headers=headers)
        assert refused.status_code == 400, headers
        assert "Content-Security-Policy" in refused.headers
    # The proxy's X-Forwarded-Host is not believed: the Host it passes on decides.
    forwarded = client.get(
        "/auth/login", base_url="https://lms.example.org", headers={"X-Forwarded-Host": "evil.example"}
    )
    assert forwarded.status_code == 200 and "evil.example" not in forwarded.get_data(as_text=True)
    forwarded = client.get("/auth/login", headers={"Host": "evil.example", "X-Forwarded-Host": "lms.example.org"})
    assert forwarded.status_code == 400
