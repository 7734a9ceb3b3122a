"""Login throttling: guessing is slowed down, and nobody can lock anyone else out.

Addresses come from the documentation ranges (RFC 5737, RFC 3849).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask import Flask
from freezegun import freeze_time

from lms import db
from lms.audit.service import Action
from lms.auth import throttle
from lms.models import AuditEvent
from tests.conftest import TEST_PASSWORD

ATTACKER = "198.51.100.66"
OWNER = "203.0.113.10"
PROXY = "192.0.2.1"  # a ministry's proxy: every colleague arrives from it
WRONG = "wrong password!"


def attempt(client: Any, email: str, address: str, password: str = TEST_PASSWORD) -> Any:
    """A login through the form, from ``address``."""
    return client.post(
        "/auth/login", data={"email": email, "password": password}, environ_base={"REMOTE_ADDR": address}
    )


def past_failures(session: Any, email: str, address: str, count: int = 1) -> None:
    """Failed logins in the audit log, as the form writes them (Argon2 makes the form slow)."""
    for _ in range(count):
        session.add(AuditEvent(action=Action.LOGIN_FAILED, subject=email, ip=address))
    session.commit()


def test_the_pair_is_refused_after_five_failures_even_with_the_right_password(client, make_user, audit_rows) -> None:
    make_user("alice@example.org")
    make_user("bob@example.org")
    for _ in range(5):
        assert attempt(client, "alice@example.org", ATTACKER, WRONG).status_code == 401
    refused = attempt(client, "alice@example.org", ATTACKER)
    assert refused.status_code == 429
    assert 0 < int(refused.headers["Retry-After"]) <= 15 * 60
    assert "Too many failed attempts" in refused.get_data(as_text=True)
    [event] = audit_rows(Action.LOGIN_THROTTLED)
    assert event.subject == "alice@example.org"
    assert event.ip == ATTACKER
    assert '"rule": "account_and_address"' in event.details
    # Refusals are not failures: only the five count.
    assert len(audit_rows(Action.LOGIN_FAILED)) == 5
    # Only the pair is refused: another account from that address signs in.
    assert attempt(client, "bob@example.org", ATTACKER).status_code == 302


def test_an_attacker_at_one_address_does_not_stop_the_owner_elsewhere(app, make_user, session) -> None:
    make_user("alice@example.org")
    attacker, owner = app.test_client(), app.test_client()
    with freeze_time(db.utcnow()) as frozen:
        # An hour of guessing at the full rate one address is allowed: 20 failures...
        for _ in range(4):
            past_failures(session, "alice@example.org", ATTACKER, 5)
            assert attempt(attacker, "alice@example.org", ATTACKER).status_code == 429
            frozen.tick(timedelta(minutes=15))
        # ...and five more now, through the form.
        for _ in range(5):
            assert attempt(attacker, "alice@example.org", ATTACKER, WRONG).status_code == 401
        assert attempt(attacker, "alice@example.org", ATTACKER).status_code == 429
        # Alice has never logged in before, and arrives from an address never seen: she is in.
        assert attempt(owner, "alice@example.org", OWNER).status_code == 302
        assert owner.get("/account/").status_code == 200


def test_colleagues_failing_behind_one_proxy_do_not_stop_anyone_else(app, make_user, session) -> None:
    for number in range(12):
        make_user(f"colleague{number}@example.org")
    make_user("dana@example.org")
    colleagues = app.test_client()
    # 60 failures from the proxy (more than the old limit for a whole address, 50)...
    for number in range(12):
        past_failures(session, f"colleague{number}@example.org", PROXY, 5)
    # ...and Dana, who has never logged in from the proxy (nor anywhere), is in.
    dana = app.test_client()
    assert attempt(dana, "dana@example.org", PROXY).status_code == 302
    # Each colleague is refused only for their own account, and only from the proxy.
    assert attempt(colleagues, "colleague0@example.org", PROXY).status_code == 429
    assert attempt(colleagues, "colleague0@example.org", OWNER).status_code == 302


def test_an_address_naming_many_nonexistent_accounts_is_refused_except_to_its_own_people(
    app, make_user, audit_rows
) -> None:
    app.config["LOGIN_MAX_UNKNOWN_ACCOUNT_FAILURES_PER_ADDRESS"] = 3
    make_user("bob@example.org")
    make_user("carol@example.org")
    bob, carol, scanner = app.test_client(), app.test_client(), app.test_client()
    assert attempt(bob, "bob@example.org", PROXY).status_code == 302  # Bob works behind the proxy
    for number in range(3):
        assert attempt(scanner, f"guess{number}@example.org", PROXY, WRONG).status_code == 401
    # From the proxy now: the scanner gets the same answer for real and made-up accounts...
    made_up = attempt(scanner, "guess9@example.org", PROXY, WRONG)
    real = attempt(scanner, "carol@example.org", PROXY, WRONG)
    assert made_up.status_code == real.status_code == 429
    assert 0 < int(real.headers["Retry-After"]) <= 15 * 60
    assert '"rule": "address"' in audit_rows(Action.LOGIN_THROTTLED)[-1].details
    # ...while Bob, who signs in from there, still does; and Carol does from elsewhere.
    assert attempt(bob, "bob@example.org", PROXY).status_code == 302
    assert attempt(carol, "carol@example.org", OWNER).status_code == 302
    # Failures of real accounts never count towards it.
    assert attempt(app.test_client(), "carol@example.org", "192.0.2.2", WRONG).status_code == 401


def test_guessing_from_many_addresses_is_slowed_down_but_never_locks_the_owner_out(
    app, make_user, session, audit_rows
) -> None:
    make_user("alice@example.org")
    home, attacker, travelling = app.test_client(), app.test_client(), app.test_client()
    with freeze_time(db.utcnow()) as frozen:
        assert attempt(home, "alice@example.org", OWNER).status_code == 302
        frozen.tick(timedelta(hours=1))
        # Ten failures from ten addresses: no pair comes near its limit.
        for number in range(9):
            past_failures(session, "alice@example.org", f"198.51.100.{number}")
        assert attempt(attacker, "alice@example.org", "198.51.100.9", WRONG).status_code == 401
        # From any address alice has not logged in from, the next attempt must wait a second.
        slowed = attempt(travelling, "alice@example.org", "198.51.100.200")
        assert slowed.status_code == 429
        assert slowed.headers["Retry-After"] == "1"
        assert '"rule": "account"' in audit_rows(Action.LOGIN_THROTTLED)[-1].details
        # At home she is not slowed at all.
        assert attempt(home, "alice@example.org", OWNER).status_code == 302
        # Each further failure doubles the wait: 2 s after the 11th.
        frozen.tick(timedelta(seconds=1))
        assert attempt(attacker, "alice@example.org", "198.51.100.11", WRONG).status_code == 401
        frozen.tick(timedelta(seconds=1))
        assert attempt(attacker, "alice@example.org", "198.51.100.12", WRONG).headers["Retry-After"] == "1"
        # It is a wait, not a lockout: once it is over, the right password works anywhere.
        frozen.tick(timedelta(seconds=1))
        assert attempt(travelling, "alice@example.org", "198.51.100.200").status_code == 302


def test_distributed_guessing_is_bounded_per_day(app, session) -> None:
    """An attacker with unlimited addresses, guessing whenever allowed, for two days."""
    email = "alice@example.org"
    max_delay = int(app.config["LOGIN_ACCOUNT_MAX_DELAY"].total_seconds())
    day = timedelta(days=1)
    failures = []
    with freeze_time(db.utcnow()) as frozen, app.app_context():
        start = db.utcnow()
        while db.utcnow() < start + 2 * day:
            address = f"10.{len(failures) // 250}.{len(failures) % 250}.1"
            refused = throttle.check(session, email, address)
            if refused is None:
                now = db.utcnow()
                session.add(AuditEvent(occurred_at=now, action=Action.LOGIN_FAILED, subject=email, ip=address))
                session.flush()  # read back by the same session: no need to commit
                failures.append(now)
            else:
                assert refused.rule == "account"
                assert refused.retry_after_seconds <= max_delay
                frozen.tick(timedelta(seconds=refused.retry_after_seconds))
    first_day = [moment for moment in failures if moment < start + day]
    second_day = [moment for moment in failures if moment >= start + day]
    # At most: ten free, nine waits from 1 s doubling to 256 s, then one guess every 5 minutes.
    ramp = 10 + 9
    assert len(first_day) <= ramp + day.total_seconds() // max_delay
    assert len(second_day) <= day.total_seconds() // max_delay + 1
    # ...and the attacker did guess at that pace: a slow-down, not a stop.
    assert len(second_day) >= day.total_seconds() // max_delay - 1


def test_one_address_alone_is_held_to_five_guesses_in_fifteen_minutes(app, session) -> None:
    email = "alice@example.org"
    guesses = 0
    with freeze_time(db.utcnow()) as frozen, app.app_context():
        start = db.utcnow()
        while db.utcnow() < start + timedelta(hours=2):
            refused = throttle.check(session, email, ATTACKER)
            if refused is None:
                session.add(AuditEvent(action=Action.LOGIN_FAILED, subject=email, ip=ATTACKER))
                session.flush()  # read back by the same session: no need to commit
                guesses += 1
            else:
                assert refused.rule == "account_and_address"
                frozen.tick(timedelta(seconds=refused.retry_after_seconds))
    assert guesses == 5 * 8


def test_the_pair_lifts_when_its_failures_leave_the_window(client, make_user) -> None:
    make_user("alice@example.org")
    with freeze_time(db.utcnow()) as frozen:
        for _ in range(5):
            attempt(client, "alice@example.org", ATTACKER, WRONG)
        refused = attempt(client, "alice@example.org", ATTACKER)
        assert refused.status_code == 429
        frozen.tick(timedelta(seconds=int(refused.headers["Retry-After"]) - 2))
        assert attempt(client, "alice@example.org", ATTACKER).status_code == 429
        frozen.tick(timedelta(seconds=2))
        assert attempt(client, "alice@example.org", ATTACKER).status_code == 302


def test_a_good_login_starts_the_pair_count_afresh(client, make_user) -> None:
    make_user("alice@example.org")
    for _ in range(4):
        attempt(client, "alice@example.org", OWNER, WRONG)
    assert attempt(client, "alice@example.org", OWNER).status_code == 302
    client.post("/auth/logout")
    assert attempt(client, "alice@example.org", OWNER, WRONG).status_code == 401
    assert attempt(client, "alice@example.org", OWNER).status_code == 302


def test_ipv6_addresses_count_by_their_64_network(client, make_user) -> None:
    make_user("alice@example.org")
    for host in range(1, 6):
        attempt(client, "alice@example.org", f"2001:db8:1:2::{host}", WRONG)
    # A device picking a new address in the same /64 is the same address...
    assert attempt(client, "alice@example.org", "2001:db8:1:2::99").status_code == 429
    # ...another /64 is another.
    assert attempt(client, "alice@example.org", "2001:db8:1:3::1").status_code == 302


def test_network_of_an_address() -> None:
    assert throttle.network("203.0.113.10") == "203.0.113.10"
    assert throttle.network("2001:db8:1:2:aaaa:bbbb:cccc:dddd") == "2001:db8:1:2::/64"
    assert throttle.network("::ffff:203.0.113.10") == "203.0.113.10"
    assert throttle.network(None) == ""


def test_the_counting_queries_use_the_audit_indexes(app: Flask, session) -> None:
    """Throttling reads the log on every attempt: each query searches the index for the
    account or for the address (never the whole table), on both engines."""
    now = db.utcnow()
    actions = [Action.LOGIN, Action.LOGIN_FAILED, Action.ACCESS_DENIED, Action.PERSON_UPDATED]
    rows = [
        {
            "action": actions[number % 4],
            "subject": f"person{number % 700}@example.org",
            "ip": f"10.0.{number % 250}.{number % 7}",
            "occurred_at": now - timedelta(minutes=number % 5000),
        }
        for number in range(8000)
    ]
    session.execute(sa.insert(AuditEvent), rows)
    # An unknown account from the attacker's address: the address rule then needs the
    # familiar-address query too, so all four queries run.
    past_failures(session, "nobody@example.org", ATTACKER)
    session.execute(sa.text("ANALYZE"))
    session.commit()
    app.config["LOGIN_MAX_UNKNOWN_ACCOUNT_FAILURES_PER_ADDRESS"] = 1
    engine = session.get_bind()
    statements = []

    def capture(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        statements.append((statement, parameters))

    sa.event.listen(engine, "before_cursor_execute", capture)
    try:
        with app.app_context():
            assert throttle.check(session, "person1@example.org", ATTACKER) is not None
    finally:
        sa.event.remove(engine, "before_cursor_execute", capture)
    statements = [(statement, parameters) for statement, parameters in statements if "audit_events" in statement]
    assert len(statements) == 4
    connection = session.connection()
    for statement, parameters in statements:
        expected = "ix_audit_events_action_subject_time"
        if "audit_events.subject =" not in statement:
            expected = "ix_audit_events_action_ip_time"
        if engine.dialect.name == "sqlite":
            plan = " | ".join(
                str(row[-1]) for row in connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
            )
        else:
            plan = " | ".join(row[0] for row in connection.exec_driver_sql("EXPLAIN " + statement, parameters))
        assert expected in plan, plan
        assert "SCAN audit_events" not in plan, plan  # SQLite's words for a full scan
        assert "Seq Scan on audit_events" not in plan, plan  # PostgreSQL's
    session.rollback()
