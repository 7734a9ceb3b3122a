"""Multi-factor sign-in: enrolment, the code at every login, recovery codes, remembered
devices, the administrator's reset, and the rules of production and of the demo."""

import re
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
import sqlalchemy as sa
from freezegun import freeze_time

from lms.audit.service import Action
from lms.config import ConfigError, build_config
from lms.models import MfaDevice, MfaRecoveryCode, MfaState, Role
from tests.conftest import TEST_PASSWORD, login, login_as

# Ten seconds into a 30-second time step, so that a tick of 30 s always reaches the next one.
START = datetime(2030, 5, 6, 8, 0, 10, tzinfo=UTC)
NEW_PASSWORD = "a quite different passphrase"


def _secret_on(html: str) -> str:
    match = re.search(r"<code>([A-Z2-7]{4}(?: [A-Z2-7]{1,4})+)</code>", html)
    assert match, "no key shown on the page"
    return match.group(1).replace(" ", "")


def enrol(client) -> tuple[str, list[str]]:
    """Set up a second factor through the pages, as a person would: the key shown, a code
    typed from the app. Returns the key and the recovery codes shown once."""
    start = client.get("/account/mfa/setup")
    assert start.status_code == 200 and "<svg" not in start.get_data(as_text=True)
    assert client.post("/account/mfa/setup").headers["Location"] == "/account/mfa/setup"
    page = client.get("/account/mfa/setup").get_data(as_text=True)
    assert "<svg" in page and "<img" not in page  # the QR code is drawn inline, nothing fetched
    secret = _secret_on(page)
    response = client.post("/account/mfa/confirm", data={"code": pyotp.TOTP(secret).now(), "password": TEST_PASSWORD})
    assert response.status_code == 200
    codes = re.findall(r"<li><code>([a-z2-9]{4}(?:-[a-z2-9]{4}){3})</code></li>", response.get_data(as_text=True))
    assert len(set(codes)) == 10
    return secret, codes


def wrong_code(secret: str) -> str:
    """A well-formed code that the app does not show in the accepted window."""
    totp = pyotp.TOTP(secret)
    valid = {totp.at(datetime.now(UTC), counter_offset=offset) for offset in (-1, 0, 1)}
    return next(code for code in ("000000", "111111", "222222", "333333") if code not in valid)


def signed_in(client) -> bool:
    return client.get("/account/").status_code == 200


def next_step(frozen) -> None:
    frozen.tick(timedelta(seconds=30))


def logout(client) -> None:
    assert client.post("/auth/logout").status_code == 302


def give_code(client, code: str, **extra: str):
    return client.post("/auth/mfa", data={"code": code, **extra})


@pytest.fixture
def admin(make_user):
    return make_user("admin@example.org", roles=[Role.ADMIN], country="REG")


@pytest.fixture
def production(app):
    app.config["LMS_ENV"] = "production"
    return app


def test_admin_enrols_and_is_then_asked_for_a_code_at_every_login(client, admin, session, audit_rows) -> None:
    with freeze_time(START) as frozen:
        login_as(client, admin)
        secret, _ = enrol(client)
        assert [event.target_id for event in audit_rows(Action.MFA_ENROLLED)] == [str(admin.id)]
        # Once on, the key is never shown again, and the database holds it only encrypted.
        assert secret not in client.get("/account/mfa/setup", follow_redirects=True).get_data(as_text=True)
        assert secret not in client.get("/account/mfa").get_data(as_text=True)
        stored = session.scalar(sa.select(MfaState.secret_encrypted).where(MfaState.user_id == admin.id))
        assert stored and secret not in stored
        assert "Recovery codes left: 10" in client.get("/account/").get_data(as_text=True)
        logout(client)
        for _ in range(2):
            next_step(frozen)
            response = login(client, admin.email)
            assert response.headers["Location"] == "/auth/mfa"
            assert not signed_in(client)
            response = give_code(client, pyotp.TOTP(secret).now())
            assert response.status_code == 302 and response.headers["Location"] == "/"
            assert signed_in(client)
            logout(client)


def test_the_page_asked_for_before_login_is_reached_after_the_code(client, admin) -> None:
    with freeze_time(START) as frozen:
        login_as(client, admin)
        secret, _ = enrol(client)
        logout(client)
        next_step(frozen)
        client.post("/auth/login", data={"email": admin.email, "password": TEST_PASSWORD, "next": "/people/"})
        assert give_code(client, pyotp.TOTP(secret).now()).headers["Location"] == "/people/"


def test_a_wrong_code_is_refused_audited_and_throttled(client, admin, audit_rows) -> None:
    with freeze_time(START) as frozen:
        login_as(client, admin)
        secret, _ = enrol(client)
        logout(client)
        next_step(frozen)
        login(client, admin.email)
        for _ in range(5):
            response = give_code(client, wrong_code(secret))
            assert response.status_code == 401
            assert "This code is not correct" in response.get_data(as_text=True)
        assert len(audit_rows(Action.MFA_FAILED)) == 5
        assert not signed_in(client)
        # Even the right code is refused now; the refusal says how long to wait.
        throttled = give_code(client, pyotp.TOTP(secret).now())
        assert throttled.status_code == 429
        assert 0 < int(throttled.headers["Retry-After"]) <= 15 * 60
        assert not signed_in(client)
        frozen.tick(timedelta(minutes=15))
        login(client, admin.email)
        assert give_code(client, pyotp.TOTP(secret).now()).status_code == 302
        assert signed_in(client)


def test_a_code_cannot_be_used_twice(client, admin) -> None:
    with freeze_time(START) as frozen:
        login_as(client, admin)
        secret, _ = enrol(client)
        used_at_enrolment = pyotp.TOTP(secret).now()
        logout(client)
        login(client, admin.email)
        assert give_code(client, used_at_enrolment).status_code == 401
        next_step(frozen)
        code = pyotp.TOTP(secret).now()
        assert give_code(client, code).status_code == 302
        logout(client)
        login(client, admin.email)
        assert give_code(client, code).status_code == 401
        assert not signed_in(client)


def test_a_recovery_code_works_once(client, admin, audit_rows) -> None:
    with freeze_time(START):
        login_as(client, admin)
        _, codes = enrol(client)
        logout(client)
        login(client, admin.email)
        response = give_code(client, codes[0])
        assert response.status_code == 302
        assert "Recovery codes left: 9" in client.get("/").get_data(as_text=True)
        [event] = audit_rows(Action.MFA_RECOVERY_CODE_USED)
        assert event.target_id == str(admin.id)
        logout(client)
        login(client, admin.email)
        assert give_code(client, codes[0]).status_code == 401
        # Typed back from paper: upper case, spaces instead of dashes.
        assert give_code(client, codes[1].upper().replace("-", " ")).status_code == 302


def test_recovery_codes_are_stored_hashed_and_renewed_with_a_current_code(client, admin, session, audit_rows) -> None:
    with freeze_time(START) as frozen:
        login_as(client, admin)
        secret, old_codes = enrol(client)
        hashes = set(session.scalars(sa.select(MfaRecoveryCode.code_hash)))
        assert len(hashes) == 10 and not any(code.replace("-", "") in hashes for code in old_codes)
        # A recovery code does not make new ones; a current code from the app does.
        assert client.post("/account/mfa/recovery-codes", data={"renew-code": old_codes[0]}).status_code == 400
        next_step(frozen)
        response = client.post("/account/mfa/recovery-codes", data={"renew-code": pyotp.TOTP(secret).now()})
        assert response.status_code == 200
        new_codes = re.findall(r"<code>([a-z2-9-]{19})</code>", response.get_data(as_text=True))
        assert len(new_codes) == 10 and not set(new_codes) & set(old_codes)
        assert audit_rows(Action.MFA_RECOVERY_CODES_RENEWED)
        logout(client)
        login(client, admin.email)
        assert give_code(client, old_codes[1]).status_code == 401
        assert give_code(client, new_codes[0]).status_code == 302


def test_a_remembered_device_skips_the_code_for_30_days_but_not_after(client, admin) -> None:
    with freeze_time(START) as frozen:
        login_as(client, admin)
        secret, _ = enrol(client)
        logout(client)
        next_step(frozen)
        login(client, admin.email)
        response = give_code(client, pyotp.TOTP(secret).now(), remember="y")
        assert response.status_code == 302
        cookie = response.headers.getlist("Set-Cookie")
        assert any(c.startswith("lms_device=") and "HttpOnly" in c for c in cookie)
        token = client.get_cookie("lms_device").value
        logout(client)
        frozen.tick(timedelta(days=29))
        assert login(client, admin.email).headers["Location"] == "/"
        assert signed_in(client)
        logout(client)
        frozen.tick(timedelta(days=1, minutes=1))
        client.set_cookie("lms_device", token)  # a browser would have dropped it; the server must too
        assert login(client, admin.email).headers["Location"] == "/auth/mfa"
        assert not signed_in(client)


def test_a_remembered_device_is_forgotten_when_the_password_changes(client, admin, session) -> None:
    with freeze_time(START) as frozen:
        login_as(client, admin)
        secret, _ = enrol(client)
        logout(client)
        next_step(frozen)
        login(client, admin.email)
        give_code(client, pyotp.TOTP(secret).now(), remember="y")
        form = {"current_password": TEST_PASSWORD, "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
        assert client.post("/auth/password", data=form).status_code == 302
        assert session.scalar(sa.select(sa.func.count(MfaDevice.id))) == 0
        logout(client)
        assert login(client, admin.email, NEW_PASSWORD).headers["Location"] == "/auth/mfa"


def test_an_administrator_resets_a_lost_second_factor(app, client, admin, make_user, session, audit_rows) -> None:
    coach = make_user("coach@example.org", roles=[Role.COACH], country="MK")
    coach_client = app.test_client()
    with freeze_time(START) as frozen:
        login_as(coach_client, coach)
        secret, _ = enrol(coach_client)
        logout(coach_client)
        next_step(frozen)
        login(coach_client, coach.email)
        give_code(coach_client, pyotp.TOTP(secret).now(), remember="y")
        assert signed_in(coach_client)

        login_as(client, admin)
        page = client.get(f"/people/{coach.id}").get_data(as_text=True)
        assert "Reset the second factor" in page
        response = client.post(f"/people/{coach.id}/mfa/reset")
        assert response.headers["Location"] == f"/people/{coach.id}"
        [event] = audit_rows(Action.MFA_RESET)
        assert (event.actor_id, event.target_id) == (admin.id, str(coach.id))
        # Factor, recovery codes and remembered devices are gone, and so are the coach's sessions.
        assert session.scalar(sa.select(MfaState.enrolled_at).where(MfaState.user_id == coach.id)) is None
        assert session.scalar(sa.select(sa.func.count(MfaRecoveryCode.id))) == 0
        assert session.scalar(sa.select(sa.func.count(MfaDevice.id))) == 0
        assert not signed_in(coach_client)

        # The coach logs in with the password alone, sets up a new factor; the old
        # remembered device does not skip it.
        assert login(coach_client, coach.email).headers["Location"] == "/"
        new_secret, _ = enrol(coach_client)
        assert new_secret != secret
        logout(coach_client)
        next_step(frozen)
        assert login(coach_client, coach.email).headers["Location"] == "/auth/mfa"


def test_only_an_administrator_resets_and_not_their_own(app, client, admin, make_user, session) -> None:
    coordinator = make_user("coordinator@example.org", roles={Role.COORDINATOR: None}, country="REG")
    coach = make_user("coach@example.org", roles=[Role.COACH])
    with freeze_time(START):
        for person in (coach, admin):
            person_client = app.test_client()
            login_as(person_client, person)
            enrol(person_client)
        login_as(client, coordinator)
        assert "Reset the second factor" not in client.get(f"/people/{coach.id}").get_data(as_text=True)
        assert client.post(f"/people/{coach.id}/mfa/reset").status_code == 403
        assert client.post(f"/people/{admin.id}/mfa/reset").status_code == 403
        # Not even their own: that is turned off on the account page, with a code.
        admin_client = app.test_client()
        login_as(admin_client, admin)
        assert admin_client.post(f"/people/{admin.id}/mfa/reset").status_code in {302, 404}
        enrolled = session.scalars(sa.select(MfaState.user_id).where(MfaState.enrolled_at.is_not(None))).all()
        assert sorted(enrolled) == sorted([coach.id, admin.id])


def test_a_factor_can_be_turned_off_only_where_roles_do_not_require_it(app, client, admin, make_user, audit_rows):
    trainee = make_user("trainee@example.org", roles=[Role.TRAINEE])
    with freeze_time(START) as frozen:
        login_as(client, admin)
        enrol(client)
        page = client.get("/account/mfa").get_data(as_text=True)
        assert "cannot be turned off" in page and "/account/mfa/disable" not in page
        trainee_client = app.test_client()
        login_as(trainee_client, trainee)
        secret, _ = enrol(trainee_client)
        next_step(frozen)
        form = {"disable-code": pyotp.TOTP(secret).now()}
        assert trainee_client.post("/account/mfa/disable", data=form).status_code == 302
        assert [event.actor_id for event in audit_rows(Action.MFA_DISABLED)] == [trainee.id]
        logout(trainee_client)
        assert login(trainee_client, trainee.email).headers["Location"] == "/"


def test_half_way_through_logging_in_is_not_logged_in(client, admin) -> None:
    with freeze_time(START) as frozen:
        login_as(client, admin)
        secret, _ = enrol(client)
        logout(client)
        next_step(frozen)
        assert login(client, admin.email).headers["Location"] == "/auth/mfa"
        for page in ("/", "/account/", "/account/mfa", "/account/mfa/setup", "/people/", "/audit/"):
            response = client.get(page)
            assert response.status_code == 302 and response.headers["Location"].startswith("/auth/login")
        assert client.post("/account/mfa/setup").headers["Location"].startswith("/auth/login")
        # The step itself expires after five minutes: the password must be given again.
        frozen.tick(timedelta(minutes=5, seconds=1))
        response = give_code(client, pyotp.TOTP(secret).now())
        assert response.headers["Location"] == "/auth/login"
        assert not signed_in(client)


def test_production_refuses_a_coordinator_without_a_factor_after_the_grace_period(
    production, client, admin, make_user, session, audit_rows
) -> None:
    coordinator = make_user("coordinator@example.org", roles={Role.COORDINATOR: "RS"})
    trainee = make_user("trainee@example.org", roles=[Role.TRAINEE])
    with freeze_time(START) as frozen:
        # Within the grace period: signed in, straight to the set-up, told the deadline.
        response = login(client, coordinator.email)
        assert response.headers["Location"] == "/account/mfa/setup"
        page = client.get("/account/mfa/setup").get_data(as_text=True)
        assert "cannot log in without it" in page and "20 May 2030" in page
        since = session.scalar(sa.select(MfaState.required_since).where(MfaState.user_id == coordinator.id))
        assert since == START
        logout(client)
        frozen.tick(timedelta(days=13, hours=23))
        assert login(client, coordinator.email).headers["Location"] == "/account/mfa/setup"
        logout(client)
        frozen.tick(timedelta(hours=1))
        refused = login(client, coordinator.email)
        assert refused.status_code == 403
        assert "Ask an administrator" in refused.get_data(as_text=True)
        assert not signed_in(client)
        assert [event.subject for event in audit_rows(Action.MFA_REFUSED)] == [coordinator.email]
        # Roles that need no second factor are not affected.
        assert login(client, trainee.email).headers["Location"] == "/"
        logout(client)
        # The administrator's reset gives the full time again.
        admin_client = production.test_client()
        login_as(admin_client, admin)
        assert "Reset the second factor" in admin_client.get(f"/people/{coordinator.id}").get_data(as_text=True)
        admin_client.post(f"/people/{coordinator.id}/mfa/reset")
        assert login(client, coordinator.email).headers["Location"] == "/account/mfa/setup"
        secret, _ = enrol(client)
        logout(client)
        next_step(frozen)
        assert login(client, coordinator.email).headers["Location"] == "/auth/mfa"
        assert give_code(client, pyotp.TOTP(secret).now()).status_code == 302


def test_outside_production_a_missing_factor_is_offered_never_required(client, make_user, session) -> None:
    coach = make_user("coach@example.org", roles=[Role.COACH])
    with freeze_time(START) as frozen:
        for _ in range(2):
            response = login(client, coach.email)
            assert response.headers["Location"] == "/"
            page = client.get("/").get_data(as_text=True)
            assert "protect your account with a second factor" in page
            assert '<a href="/account/mfa">' in page
            logout(client)
            frozen.tick(timedelta(days=400))
        assert session.scalar(sa.select(sa.func.count()).select_from(MfaState)) == 0


def test_every_demo_account_logs_in_without_a_second_factor(client, runner) -> None:
    from lms.demo import ACCOUNTS, DEMO_PASSWORD

    assert runner.invoke(args=["lms", "demo"]).exit_code == 0
    for email, *_ in ACCOUNTS:
        response = login(client, email, DEMO_PASSWORD)
        assert response.headers["Location"] == "/", email
        assert signed_in(client)
        logout(client)


def test_the_shell_command_resets_when_no_administrator_can(client, runner, admin, audit_rows) -> None:
    with freeze_time(START):
        login_as(client, admin)
        enrol(client)
        result = runner.invoke(args=["lms", "mfa-reset", "Admin@Example.org"])
        assert result.exit_code == 0, result.output
        [event] = audit_rows(Action.MFA_RESET)
        assert (event.actor_id, event.target_id) == (None, str(admin.id))
        assert not signed_in(client)
        assert login(client, admin.email).headers["Location"] == "/"
    assert runner.invoke(args=["lms", "mfa-reset", "nobody@example.org"]).exit_code != 0


def test_remembering_a_device_can_be_turned_off_but_not_made_longer_than_30_days(
    app, client, admin, tmp_path, monkeypatch
) -> None:
    monkeypatch.setenv("LMS_MFA_REMEMBER_DAYS", "31")
    with pytest.raises(ConfigError):
        build_config({"INSTANCE_DIR": tmp_path})
    app.config["MFA_REMEMBER_DAYS"] = 0
    with freeze_time(START) as frozen:
        login_as(client, admin)
        secret, _ = enrol(client)
        logout(client)
        next_step(frozen)
        login(client, admin.email)
        assert "Do not ask again" not in client.get("/auth/mfa").get_data(as_text=True)
        response = give_code(client, pyotp.TOTP(secret).now(), remember="y")
        assert response.status_code == 302
        assert not any(c.startswith("lms_device=") for c in response.headers.getlist("Set-Cookie"))


def test_turning_it_on_asks_for_the_password_so_an_open_session_is_not_enough(client, admin, session) -> None:
    """Someone at an unlocked computer must not tie the account to their own phone."""
    login_as(client, admin)
    client.post("/account/mfa/setup")
    secret = _secret_on(client.get("/account/mfa/setup").get_data(as_text=True))
    refused = client.post("/account/mfa/confirm", data={"code": pyotp.TOTP(secret).now(), "password": "guess"})
    assert refused.status_code == 400 and "The password is not correct." in refused.get_data(as_text=True)
    session.rollback()
    state = session.get(MfaState, admin.id)
    assert state is None or state.enrolled_at is None
    # Guessing the password this way is throttled like a login.
    for _ in range(6):
        last = client.post("/account/mfa/confirm", data={"code": pyotp.TOTP(secret).now(), "password": "guess"})
    assert last.status_code == 429
