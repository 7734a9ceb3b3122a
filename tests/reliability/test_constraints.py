"""Invariants live in the database, on both engines (SECURITY.md, R3 and R8)."""

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError, IntegrityError

from lms.models import AuditEvent, Role
from tests.conftest import country_id


def _insert_user(connection, **overrides) -> None:
    values = {
        "full_name": "Ana Anić",
        "email": "ana@example.org",
        "sex": "female",
        "country_id": overrides.pop("country", None),
        "preferred_language": "en",
        "is_active": True,
        "session_nonce": "n",
        "sort_name": "x",
        "search_text": "x",
        "created_at": sa.func.now(),
        "updated_at": sa.func.now(),
    }
    values.update(overrides)
    connection.execute(sa.table("users", *map(sa.column, values)).insert().values(**values))


def _raises_on_insert(app, exception, **values) -> None:
    engine = app.extensions["lms.engine"]
    with engine.connect() as connection:
        with pytest.raises(exception):
            _insert_user(connection, **values)
        connection.rollback()


def test_email_is_unique_in_the_database(app, make_user, session) -> None:
    make_user("ana@example.org")
    _raises_on_insert(app, IntegrityError, country=country_id(session, "RS"))


def test_enums_and_names_are_checked(app, session) -> None:
    rs = country_id(session, "RS")
    _raises_on_insert(app, IntegrityError, country=rs, sex="other")
    _raises_on_insert(app, IntegrityError, country=rs, category="general")
    _raises_on_insert(app, IntegrityError, country=rs, full_name="")


def test_foreign_keys_are_enforced(app) -> None:
    _raises_on_insert(app, IntegrityError, country=987654)


def test_one_grant_per_role_and_person(app, make_user) -> None:
    person = make_user(roles=[Role.TRAINEE])
    grants = sa.table("role_grants", sa.column("user_id"), sa.column("role"), sa.column("granted_at"))
    with app.extensions["lms.engine"].connect() as connection, pytest.raises(IntegrityError):
        connection.execute(grants.insert().values(user_id=person.id, role="trainee", granted_at=sa.func.now()))


def test_audit_log_is_append_only(app, make_user) -> None:
    make_user()
    engine = app.extensions["lms.engine"]
    for statement in [sa.update(AuditEvent).values(action="edited"), sa.delete(AuditEvent)]:
        with engine.connect() as connection:
            with pytest.raises(DBAPIError, match="append-only"):
                connection.execute(statement)
            connection.rollback()
    with engine.connect() as connection:
        assert connection.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) >= 1


def test_sqlite_runs_in_wal_with_foreign_keys_and_a_busy_timeout(app) -> None:
    engine = app.extensions["lms.engine"]
    if engine.dialect.name != "sqlite":
        assert engine.dialect.name == "postgresql"
        return
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
