"""`lms backup` and `lms restore` give back exactly the data of the backup, on both engines.

Runs on the engine under test: SQLite by default, PostgreSQL with LMS_TEST_DATABASE_URL
(there the restore replaces the tables of the test database, which the fixtures empty
after each test as usual).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

import pyotp
import pytest
import sqlalchemy as sa
from flask import Flask

from lms import backup, db, migrate
from lms.audit.service import Action
from lms.auth import mfa, mfa_secrets
from lms.db import Base
from lms.models import MfaState, Role, User
from lms.people import service as people
from tests.conftest import POSTGRES_URL, make_test_app

CHECKED_TABLES = ("mfa_states", "users", "role_grants", "enrolments", "attendance", "certificates", "coaching_sessions")


def _counts(app: Flask) -> dict[str, int]:
    return backup.row_counts(app.extensions["lms.engine"])


def _digest(app: Flask, table_name: str, *, limit: int | None = None) -> str:
    """A hash of every row of the table in primary-key order (the first ``limit`` rows)."""
    table = Base.metadata.tables[table_name]
    query = sa.select(table).order_by(*table.primary_key.columns).limit(limit)
    with app.extensions["lms.engine"].connect() as connection:
        rows = connection.execute(query).all()
    return hashlib.sha256(repr([tuple(row) for row in rows]).encode()).hexdigest()


def _execute(app: Flask, *statements: str) -> None:
    with app.extensions["lms.engine"].begin() as connection:
        for statement in statements:
            connection.execute(sa.text(statement))


def _change_everything(app: Flask) -> None:
    """Delete rows, add rows and edit rows, as days of use after a backup would."""
    _execute(
        app,
        "DELETE FROM attendance WHERE id % 2 = 0",
        "DELETE FROM coaching_action_items",
        "DELETE FROM mfa_recovery_codes",
        "UPDATE users SET full_name = 'Renamed After The Backup' WHERE id = (SELECT min(id) FROM users)",
        "INSERT INTO countries (code, name, position) VALUES ('XK', 'Added after the backup', 9)",
    )
    with app.app_context(), db.new_session() as session:
        country_id = session.scalar(sa.text("SELECT id FROM countries WHERE code = 'RS'"))
        people.create_person(
            session,
            people.PersonData(full_name="Added After Backup", email="added@example.org", country_id=country_id),
            actor=None,
        )
        session.commit()


@pytest.fixture
def demo(app: Flask, runner) -> Flask:  # type: ignore[no-untyped-def]
    result = runner.invoke(args=["lms", "demo"])
    assert result.exit_code == 0, result.output
    return app


@pytest.fixture
def some_people(app: Flask, make_user) -> Flask:  # type: ignore[no-untyped-def]
    """A few people with roles (and their audit rows): a quicker start than the demo."""
    make_user(roles=[Role.ADMIN])
    make_user(roles={Role.TRAINER: "RS"})
    make_user(roles=[Role.TRAINEE], country="ME")
    return app


def _enrol_second_factor(app: Flask, email: str) -> str:
    """Set up the authenticator of ``email``; returns its key."""
    with app.test_request_context(), db.new_session() as session:
        person = session.scalar(sa.select(User).where(User.email == email))
        mfa.begin_enrolment(session, person)
        key = mfa.pending_secret(session, person)
        assert key
        mfa.confirm_enrolment(session, person, pyotp.TOTP(key).now())
        session.commit()
    return key


def _stored_second_factor(app: Flask, email: str) -> str | None:
    with app.test_request_context(), db.new_session() as session:
        person = session.scalar(sa.select(User).where(User.email == email))
        state = session.scalar(sa.select(MfaState).where(MfaState.user_id == person.id))
        return mfa_secrets.decrypt_key(state.secret_encrypted)


def test_backup_then_restore_gives_back_every_row_of_every_table(demo: Flask, runner, audit_rows, tmp_path) -> None:  # type: ignore[no-untyped-def]
    app = demo
    key = _enrol_second_factor(app, "admin@example.org")
    at_backup = _counts(app)
    assert set(at_backup) == set(Base.metadata.tables) | {"alembic_version"}
    assert at_backup["mfa_states"] == 1 and at_backup["mfa_recovery_codes"] > 0
    assert at_backup["users"] > 300 and at_backup["attendance"] > 1000 and at_backup["coaching_sessions"] > 0
    digests = {table: _digest(app, table) for table in CHECKED_TABLES}
    audit_digest = _digest(app, "audit_events")
    file = tmp_path / "backups" / "lms.backup"
    file.parent.mkdir()

    result = runner.invoke(args=["lms", "backup", "--output", str(file)])

    assert result.exit_code == 0, result.output
    assert f"schema version {migrate.head_revision()}" in result.output
    assert "LMS_SECRET_KEY" in result.output or "secret_key" in result.output
    assert "print-jobs" in result.output
    assert stat.S_IMODE(file.stat().st_mode) == 0o600, "a backup holds personal data: its owner only"
    assert os.listdir(file.parent) == ["lms.backup"], "no temporary file is left beside it"
    assert backup.backup_revision(file) == migrate.head_revision()
    [backed_up] = audit_rows(Action.DATABASE_BACKED_UP)
    assert backed_up.subject == str(file)

    _change_everything(app)
    changed = _counts(app)
    assert changed != at_backup
    assert {table for table in at_backup if changed[table] != at_backup[table]} >= {
        "attendance",
        "coaching_action_items",
        "countries",
        "users",
    }

    refused = runner.invoke(args=["lms", "restore", str(file)])
    assert refused.exit_code != 0
    assert "--force" in refused.output and "already holds" in refused.output
    assert _counts(app) == changed, "a refused restore changes nothing"

    restored = runner.invoke(args=["lms", "restore", str(file), "--force"])

    assert restored.exit_code == 0, restored.output
    after = _counts(app)
    # Identical, table by table; the audit log has one more row: this restore, recorded in it.
    assert {table: count for table, count in after.items() if table != "audit_events"} == {
        table: count for table, count in at_backup.items() if table != "audit_events"
    }
    assert after["audit_events"] == at_backup["audit_events"] + 1
    assert audit_rows()[-1].action == Action.DATABASE_RESTORED
    assert _digest(app, "audit_events", limit=at_backup["audit_events"]) == audit_digest
    assert {table: _digest(app, table) for table in CHECKED_TABLES} == digests
    # The second factor's key is back, and readable with the same secret key only.
    assert _stored_second_factor(app, "admin@example.org") == key
    app.config["SECRET_KEY"] = "another-secret-" + "y" * 40
    assert _stored_second_factor(app, "admin@example.org") is None
    # The app works on the restored database, new rows included (sequences restored too).
    with app.app_context(), db.new_session() as session:
        assert session.scalar(sa.text("SELECT count(*) FROM users WHERE email = 'added@example.org'")) == 0
        country_id = session.scalar(sa.text("SELECT id FROM countries WHERE code = 'ME'"))
        person = people.create_person(
            session,
            people.PersonData(full_name="After The Restore", email="after@example.org", country_id=country_id),
            actor=None,
        )
        session.commit()
        assert person.id > 0


def test_a_backup_is_one_snapshot_while_the_app_writes(some_people: Flask, runner, tmp_path) -> None:  # type: ignore[no-untyped-def]
    app = some_people
    at_backup = _counts(app)
    file = tmp_path / "lms.backup"
    writer = db.create_engine(app.config["DATABASE_URL"])
    try:
        with writer.connect() as connection:
            transaction = connection.begin()
            connection.execute(sa.text("INSERT INTO countries (code, name, position) VALUES ('XK', 'Uncommitted', 9)"))
            # Another person's transaction is open (on SQLite it holds the write lock).
            backup.backup(app.config["DATABASE_URL"], file)
            transaction.commit()
    finally:
        writer.dispose()
    assert _counts(app)["countries"] == at_backup["countries"] + 1

    result = runner.invoke(args=["lms", "restore", str(file), "--force"])

    assert result.exit_code == 0, result.output
    after = _counts(app)
    assert after["countries"] == at_backup["countries"], "the backup holds what was committed when it began"
    assert after["users"] == at_backup["users"]


def test_restore_refuses_a_backup_of_a_newer_version(some_people: Flask, runner, tmp_path) -> None:  # type: ignore[no-untyped-def]
    app = some_people
    file = tmp_path / "future.backup"
    head = migrate.head_revision()
    _execute(app, "UPDATE alembic_version SET version_num = '9999_future'")
    try:
        made = runner.invoke(args=["lms", "backup", "--output", str(file)])
    finally:
        with app.extensions["lms.engine"].begin() as connection:
            connection.execute(sa.text("UPDATE alembic_version SET version_num = :head"), {"head": head})
    assert made.exit_code == 0, made.output
    before = _counts(app)

    result = runner.invoke(args=["lms", "restore", str(file), "--force"])

    assert result.exit_code != 0
    assert "9999_future" in result.output and "newer version" in result.output and head in result.output
    assert _counts(app) == before
    assert migrate.current_revision(app.extensions["lms.engine"]) == head


@pytest.fixture
def scratch_url(tmp_path: Path) -> Iterator[Callable[[str], str]]:
    """Empty databases of the engine under test, by name, removed afterwards."""
    made: list[str] = []
    admin = None
    if POSTGRES_URL:
        base = sa.make_url(POSTGRES_URL)
        admin = db.create_engine(base.render_as_string(hide_password=False), isolation_level="AUTOCOMMIT")

    def make(name: str) -> str:
        if admin is None:
            return f"sqlite:///{tmp_path / f'{name}.sqlite3'}"
        database = f"{base.database}_{name}"
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{database}"')
            connection.exec_driver_sql(f'CREATE DATABASE "{database}"')
        made.append(database)
        return base.set(database=database).render_as_string(hide_password=False)

    yield make
    if admin is not None:
        with admin.connect() as connection:
            for database in made:
                connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        admin.dispose()


def test_a_backup_of_an_older_version_is_restored_then_migrated(
    some_people: Flask, runner, scratch_url, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    app = some_people
    old_url = scratch_url("old")
    old = db.create_engine(old_url)
    previous = "0005"
    try:
        migrate.upgrade(old, previous)
        with old.begin() as connection:
            connection.execute(sa.text("INSERT INTO countries (code, name, position) VALUES ('RS', 'Serbia', 4)"))
    finally:
        old.dispose()
    file = tmp_path / "old.backup"
    made = backup.backup(old_url, file)
    assert made.revision == previous != migrate.head_revision()

    # Into the app's database, at the newest schema: its newer tables go, then come back empty.
    result = runner.invoke(args=["lms", "restore", str(file), "--force"])

    assert result.exit_code == 0, result.output
    assert f"schema version {previous}" in result.output and "older version" in result.output
    engine = app.extensions["lms.engine"]
    assert migrate.current_revision(engine) == migrate.head_revision()
    counts = _counts(app)
    assert set(counts) == set(Base.metadata.tables) | {"alembic_version"}
    assert counts["countries"] == 1 and counts["users"] == 0 and counts["mfa_states"] == 0
    assert counts["audit_events"] == 1, "the restore itself"


def test_a_damaged_backup_is_refused_and_changes_nothing(some_people: Flask, runner, tmp_path) -> None:  # type: ignore[no-untyped-def]
    app = some_people
    file = tmp_path / "lms.backup"
    assert runner.invoke(args=["lms", "backup", "--output", str(file)]).exit_code == 0
    data = file.read_bytes()
    damaged = tmp_path / "damaged.backup"
    # Its end cut off: on PostgreSQL the tables are already dropped when the dump runs out.
    damaged.write_bytes(data[:-64])
    not_a_backup = tmp_path / "notes.txt"
    not_a_backup.write_text("hello")
    _change_everything(app)
    before = _counts(app)
    digests = {table: _digest(app, table) for table in CHECKED_TABLES}

    result = runner.invoke(args=["lms", "restore", str(damaged), "--force"])

    assert _counts(app) == before, "a restore that fails leaves the database as it was"
    assert {table: _digest(app, table) for table in CHECKED_TABLES} == digests
    assert result.exit_code != 0
    assert "nothing was changed" in result.output if POSTGRES_URL else "damaged" in result.output

    result = runner.invoke(args=["lms", "restore", str(not_a_backup), "--force"])
    assert result.exit_code != 0
    assert "not a backup made by `lms backup`" in result.output
    result = runner.invoke(args=["lms", "restore", str(tmp_path / "missing.backup")])
    assert result.exit_code != 0
    assert "There is no file" in result.output


def test_without_the_postgresql_client_backup_and_restore_say_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_test_app("postgresql+psycopg://lms@127.0.0.1:1/lms", tmp_path)
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    file = tmp_path / "out" / "lms.dump"
    file.parent.mkdir()
    runner = app.test_cli_runner()

    result = runner.invoke(args=["lms", "backup", "--output", str(file)])

    assert result.exit_code != 0
    assert "pg_dump was not found" in result.output and "postgresql-client" in result.output
    assert list(file.parent.iterdir()) == [], "no file, complete or partial"

    dump = tmp_path / "lms.dump"
    dump.write_bytes(b"PGDMP" + b"\0" * 100)
    result = runner.invoke(args=["lms", "restore", str(dump)])
    assert result.exit_code != 0
    assert "pg_restore was not found" in result.output
    app.extensions["lms.engine"].dispose()


@pytest.mark.skipif(not POSTGRES_URL and shutil.which("pg_dump") is None, reason="no PostgreSQL client here")
def test_a_failing_pg_dump_is_reported_with_its_message(tmp_path: Path) -> None:
    file = tmp_path / "lms.dump"

    with pytest.raises(backup.BackupError) as refused:
        backup.backup("postgresql+psycopg://lms:not-on-the-command-line@127.0.0.1:1/lms", file)

    assert "pg_dump failed" in refused.value.message and "127.0.0.1" in refused.value.message
    assert "not-on-the-command-line" not in refused.value.message
    assert list(tmp_path.iterdir()) == []


def test_the_password_goes_to_the_client_in_the_environment() -> None:
    conninfo, env = backup._libpq(sa.make_url("postgresql+psycopg://lms:s3cret'x@db.example:6543/lms?sslmode=require"))
    assert "s3cret" not in conninfo
    assert env["PGPASSWORD"] == "s3cret'x"
    assert "host='db.example'" in conninfo and "port='6543'" in conninfo and "sslmode='require'" in conninfo


@pytest.mark.skipif(not POSTGRES_URL, reason="PostgreSQL locks; SQLite's backup API waits for its writer")
def test_a_restore_gives_up_on_tables_the_running_app_holds(
    some_people: Flask, runner, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    app = some_people
    file = tmp_path / "lms.backup"
    assert runner.invoke(args=["lms", "backup", "--output", str(file)]).exit_code == 0
    _change_everything(app)
    before = _counts(app)
    monkeypatch.setattr(backup, "PG_LOCK_WAIT", "1s")
    other = db.create_engine(app.config["DATABASE_URL"])
    try:
        with other.connect() as connection, connection.begin():
            # A request of the still-running app, in the middle of reading people (ended by
            # the server after 20 s, so that a restore waiting for ever fails this test, not hangs).
            connection.execute(sa.text("SET LOCAL idle_in_transaction_session_timeout = '20s'"))
            connection.execute(sa.text("SELECT count(*) FROM users"))
            result = runner.invoke(args=["lms", "restore", str(file), "--force"])
    finally:
        other.dispose()

    assert result.exit_code != 0
    assert "lock timeout" in result.output and "Stop the app and the print worker first" in result.output
    assert _counts(app) == before
