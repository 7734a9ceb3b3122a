"""Changing a password, and setting one from an invitation link."""

from datetime import timedelta

import sqlalchemy as sa
from freezegun import freeze_time

from lms import db
from lms.audit.service import Action
from lms.models import User
from lms.people import service
from tests.conftest import TEST_PASSWORD, login

NEW = "a brand new passphrase"


def _change(client, current=TEST_PASSWORD, new=NEW, confirm=None):
    return client.post(
        "/auth/password", data={"current_password": current, "new_password": new, "confirm": confirm or new}
    )


def test_change_password_keeps_this_session_and_ends_the_others(app, make_user, audit_rows) -> None:
    make_user("nada@example.org")
    phone, laptop = app.test_client(), app.test_client()
    login(phone, "nada@example.org")
    login(laptop, "nada@example.org")
    response = _change(laptop)
    assert response.status_code == 302
    assert laptop.get("/account/").status_code == 200
    assert phone.get("/account/").status_code == 302
    laptop.post("/auth/logout")
    assert login(laptop, "nada@example.org").status_code == 401
    assert login(laptop, "nada@example.org", NEW).status_code == 302
    assert len(audit_rows(Action.PASSWORD_CHANGED)) == 1


def test_change_password_needs_the_current_one(client, make_user) -> None:
    make_user("nada@example.org")
    login(client, "nada@example.org")
    response = _change(client, current="not my password")
    assert response.status_code == 400
    assert "The current password is not correct." in response.get_data(as_text=True)


def test_guessing_the_current_password_from_an_open_session_is_throttled(client, make_user, audit_rows) -> None:
    make_user("ana@example.org")
    login(client, "ana@example.org")
    answers = [_change(client, current=f"guess number {n}") for n in range(6)]
    assert [answer.status_code for answer in answers] == [400] * 5 + [429]
    assert "Try again in" in answers[-1].get_data(as_text=True)
    assert len(audit_rows(Action.LOGIN_FAILED)) == 5
    # Even the right one waits now: the guesses gained nothing.
    assert _change(client).status_code == 429


def test_password_policy(client, make_user) -> None:
    make_user("nada.markovic@example.org", name="Nada Marković")
    login(client, "nada.markovic@example.org")
    cases = {
        "short pass": "Use at least 12 characters.",
        "password1234": "This password is too common.",
        "nada.markovic": "Do not use your name or email address",
        "x" * 257: "Use at most 256 characters.",
    }
    for password, message in cases.items():
        response = _change(client, new=password)
        assert response.status_code == 400, password
        assert message in response.get_data(as_text=True), password
    mismatch = _change(client, confirm="something else entirely")
    assert "The passwords do not match." in mismatch.get_data(as_text=True)
    # Long Unicode passphrases are welcome, and kept exactly (no truncation or case change).
    long_unicode = "Љубица воли планине и море, Arbër Çela 2026 " + "ж" * 20
    assert _change(client, new=long_unicode).status_code == 302
    client.post("/auth/logout")
    assert login(client, "nada.markovic@example.org", long_unicode.upper()).status_code == 401
    assert login(client, "nada.markovic@example.org", long_unicode).status_code == 302


def _link(app, session, email: str) -> str:
    person = session.scalar(sa.select(User).where(User.email == email))
    token = service.create_account_link(session, person, app.config["INVITATION_LIFETIME"], actor=None)
    session.commit()
    return f"/auth/activate/{token}"


def test_invitation_link_sets_a_password_once(app, client, make_user, session, audit_rows) -> None:
    make_user("roster@example.org", password=False)
    url = _link(app, session, "roster@example.org")
    assert "roster@example.org" in client.get(url).get_data(as_text=True)
    weak = client.post(url, data={"new_password": "short", "confirm": "short"})
    assert weak.status_code == 400
    done = client.post(url, data={"new_password": NEW, "confirm": NEW})
    assert done.status_code == 302
    assert login(client, "roster@example.org", NEW).status_code == 302
    client.post("/auth/logout")
    # Used once: the link is dead now.
    assert client.get(url).status_code == 404
    assert (
        client.post(url, data={"new_password": "another passphrase!", "confirm": "another passphrase!"}).status_code
        == 404
    )
    assert len(audit_rows(Action.PASSWORD_SET)) == 1


def test_a_new_link_replaces_the_old_one_and_links_expire(app, client, make_user, session) -> None:
    make_user("roster@example.org", password=False)
    first = _link(app, session, "roster@example.org")
    second = _link(app, session, "roster@example.org")
    assert client.get(first).status_code == 404
    assert client.get(second).status_code == 200
    with freeze_time(db.utcnow() + timedelta(days=15)):
        assert client.get(second).status_code == 404


def test_only_the_hash_of_a_link_is_stored(app, make_user, session) -> None:
    from lms.models import AccountToken

    make_user("roster@example.org", password=False)
    url = _link(app, session, "roster@example.org")
    token = url.rsplit("/", 1)[1]
    stored = session.scalars(sa.select(AccountToken.token_hash)).all()
    assert stored and token not in stored


def test_unknown_or_absurd_tokens_are_404(client) -> None:
    for token in ["nope", "x" * 500, "%00"]:
        assert client.get(f"/auth/activate/{token}").status_code == 404
