"""Logging in and out, and sessions the server can end (throttling: test_lockout.py)."""

from datetime import timedelta

import sqlalchemy as sa
from freezegun import freeze_time

from lms import db
from lms.audit.service import Action
from lms.models import Role, User
from tests.conftest import TEST_PASSWORD, login


def test_login_with_the_right_password_opens_the_dashboard(client, make_user, audit_rows) -> None:
    make_user("nada@example.org", name="Нада Ђурић", roles=[Role.TRAINEE])
    response = login(client, "Nada@Example.org")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    page = client.get("/")
    assert page.status_code == 200
    assert "Нада Ђурић" in page.get_data(as_text=True)
    [event] = audit_rows(Action.LOGIN)
    assert event.subject == "nada@example.org"
    assert event.ip == "127.0.0.1"


def test_wrong_password_and_unknown_email_get_the_same_answer(client, make_user, audit_rows) -> None:
    make_user("nada@example.org")
    wrong = login(client, "nada@example.org", "not the password")
    unknown = login(client, "nobody@example.org", "not the password")
    assert wrong.status_code == unknown.status_code == 401
    message = "The email address or password is not correct."
    assert message in wrong.get_data(as_text=True)
    assert message in unknown.get_data(as_text=True)
    assert [e.subject for e in audit_rows(Action.LOGIN_FAILED)] == ["nada@example.org", "nobody@example.org"]
    assert client.get("/").status_code == 302


def test_a_person_without_a_login_or_disabled_cannot_log_in(client, make_user, session) -> None:
    make_user("roster@example.org", password=False)
    disabled = make_user("disabled@example.org")
    disabled.is_active = False
    session.commit()
    assert login(client, "roster@example.org", "").status_code == 400
    assert login(client, "roster@example.org", "anything at all").status_code == 401
    assert login(client, "disabled@example.org").status_code == 401


def test_session_cookie_changes_at_login_and_old_keys_are_dropped(client, make_user) -> None:
    make_user("nada@example.org")
    client.get("/auth/login")
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    before = client.get_cookie("lms_session").value
    login(client, "nada@example.org")
    after = client.get_cookie("lms_session").value
    assert before != after
    with client.session_transaction() as session:
        assert "planted" not in session


def test_logout_ends_the_session_on_the_server(client, make_user, audit_rows) -> None:
    make_user("nada@example.org")
    login(client, "nada@example.org")
    copied = client.get_cookie("lms_session").value
    assert client.post("/auth/logout").status_code == 302
    assert client.get("/").status_code == 302
    # Replaying the cookie copied before logout does not bring the session back.
    client.set_cookie("lms_session", copied)
    response = client.get("/account/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/login")
    assert len(audit_rows(Action.LOGOUT)) == 1


def test_logout_needs_post_and_a_csrf_token(client, make_user) -> None:
    make_user("nada@example.org")
    login(client, "nada@example.org")
    assert client.get("/auth/logout").status_code == 405
    assert client.post("/auth/logout", csrf=False).status_code == 400
    assert client.get("/account/").status_code == 200


def test_disabling_an_account_ends_its_sessions(client, make_user, session) -> None:
    person = make_user("nada@example.org")
    login(client, "nada@example.org")
    assert client.get("/account/").status_code == 200
    from lms.people import service

    service.set_active(session, session.get(User, person.id), False, actor=None)
    session.commit()
    assert client.get("/account/").status_code == 302


def test_idle_and_absolute_timeouts(client, make_user, audit_rows) -> None:
    make_user("nada@example.org")
    with freeze_time(db.utcnow()) as frozen:
        login(client, "nada@example.org")
        frozen.tick(timedelta(minutes=59))
        assert client.get("/account/").status_code == 200
        frozen.tick(timedelta(minutes=61))
        response = client.get("/account/")
        assert response.status_code == 302
        assert "/auth/login" in response.headers["Location"]
    assert len(audit_rows(Action.SESSION_EXPIRED)) == 1
    with freeze_time(db.utcnow()) as frozen:
        login(client, "nada@example.org")
        for _ in range(13):  # active all along: 11 h 55 min
            frozen.tick(timedelta(minutes=55))
            assert client.get("/account/").status_code == 200
        frozen.tick(timedelta(minutes=10))  # past 12 hours since login
        assert client.get("/account/").status_code == 302


def test_next_only_redirects_to_our_own_pages(client, make_user) -> None:
    make_user("nada@example.org")
    for target in ["https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:alert(1)"]:
        response = client.post(
            "/auth/login", data={"email": "nada@example.org", "password": TEST_PASSWORD, "next": target}
        )
        assert response.headers["Location"] == "/", target
        client.post("/auth/logout")
    response = client.post(
        "/auth/login", data={"email": "nada@example.org", "password": TEST_PASSWORD, "next": "/account/"}
    )
    assert response.headers["Location"] == "/account/"


def test_login_page_carries_next_from_the_redirect(client, make_user) -> None:
    make_user("nada@example.org")
    response = client.get("/account/")
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'name="next" type="hidden" value="/account/"' in page


def test_login_form_refuses_malformed_input(client) -> None:
    for email in ["not-an-email", "a" * 300 + "@example.org", "nul\x00@example.org"]:
        response = client.post("/auth/login", data={"email": email, "password": "whatever it is"})
        assert response.status_code == 400, email


def test_password_hash_is_argon2id(make_user, session) -> None:
    person = make_user("nada@example.org")
    stored = session.scalar(sa.select(User.password_hash).where(User.id == person.id))
    assert stored.startswith("$argon2id$")
    assert TEST_PASSWORD not in stored
