"""Test fixtures: an app with a fresh database per test, clients, and people factories.

The schema is created once per run through the real Alembic migrations. On SQLite each
test copies that database file; on PostgreSQL (``LMS_TEST_DATABASE_URL``) each test runs
on the migrated schema and the tables are emptied afterwards. Both engines therefore
run exactly the same tests, with real commits and real concurrent connections.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer

from lms import create_app, db, migrate
from lms.auth.passwords import hash_password
from lms.curriculum.content import load_curriculum
from lms.curriculum.sync import sync_curriculum
from lms.models import Category, Country, Role, Sex, User
from lms.people import service as people
from lms.reference import load_reference_data
from tests.content_fixture import write_curriculum

POSTGRES_URL = os.environ.get("LMS_TEST_DATABASE_URL")
TEST_PASSWORD = "correct horse battery staple"
SECRET = "test-secret-" + "x" * 40


def _reset_postgres_schema(url: str) -> None:
    engine = db.create_engine(url)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
            connection.exec_driver_sql("CREATE SCHEMA public")
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def database_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """A database migrated to head: ("sqlite", file path) or ("postgresql", URL)."""
    if POSTGRES_URL:
        # No try/except: an unreachable PostgreSQL must fail the run, never skip it.
        _reset_postgres_schema(POSTGRES_URL)
        engine = db.create_engine(POSTGRES_URL)
        migrate.upgrade(engine)
        engine.dispose()
        yield ("postgresql", POSTGRES_URL)
        return
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    engine = db.create_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    # Closing the last connection checkpoints the WAL into the main file, ready to copy.
    engine.dispose()
    yield ("sqlite", str(path))


def _empty_postgres_tables(engine: sa.Engine) -> None:
    with engine.begin() as connection:
        tables = [
            row[0]
            for row in connection.exec_driver_sql(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
            )
        ]
        if tables:
            names = ", ".join(f'"{name}"' for name in tables)
            connection.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")


class Client(FlaskClient):
    """A test client that sends a valid CSRF token with every form, as a browser would.

    Pass ``csrf=False`` to send a form without one.
    """

    def csrf_token(self) -> str:
        with self.session_transaction() as session:
            if "csrf_token" not in session:
                session["csrf_token"] = os.urandom(20).hex()
            raw = session["csrf_token"]
        return URLSafeTimedSerializer(self.application.secret_key, salt="wtf-csrf-token").dumps(raw)

    def open(self, *args: Any, **kwargs: Any) -> Any:
        # End the test's own open transaction first, as two separate people would not
        # share one: it would hold SQLite's write lock, and a later read in it would not
        # see what this request changed.
        for session in self.application.extensions.get("test.helper_sessions", []):
            session.rollback()
        return super().open(*args, **kwargs)

    def post(self, *args: Any, csrf: bool = True, **kwargs: Any) -> Any:
        data = kwargs.get("data")
        if csrf and (data is None or isinstance(data, dict)):
            data = dict(data or {})
            data.setdefault("csrf_token", self.csrf_token())
            kwargs["data"] = data
        return super().post(*args, **kwargs)


@pytest.fixture(scope="session")
def content_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_curriculum(tmp_path_factory.mktemp("content-template"))


@pytest.fixture
def content_dir(content_template: Path, tmp_path: Path) -> Path:
    """The test curriculum, copied so a test may edit it."""
    target = tmp_path / "content"
    shutil.copytree(content_template, target)
    return target


def make_test_app(url: str, tmp_path: Path, **overrides: Any) -> Flask:
    config = {
        "TESTING": True,
        "DATABASE_URL": url,
        "SECRET_KEY": SECRET,
        "INSTANCE_DIR": tmp_path / "instance",
        "CONTENT_DIR": tmp_path / "content",
        **overrides,
    }
    app = create_app(config)
    app.test_client_class = Client
    return app


@pytest.fixture
def database_url(database_template: tuple[str, str], tmp_path: Path) -> Iterator[str]:
    kind, source = database_template
    if kind == "sqlite":
        target = tmp_path / "lms.sqlite3"
        shutil.copyfile(source, target)
        yield f"sqlite:///{target}"
        return
    yield source
    engine = db.create_engine(source)
    _empty_postgres_tables(engine)
    engine.dispose()


@pytest.fixture
def app(database_url: str, content_dir: Path, tmp_path: Path) -> Iterator[Flask]:
    app = make_test_app(database_url, tmp_path, CONTENT_DIR=content_dir)
    with app.app_context(), db.new_session() as session:
        load_reference_data(session)
        sync_curriculum(session, load_curriculum(content_dir), content_dir)
        session.commit()
    yield app
    app.extensions["lms.engine"].dispose()


@pytest.fixture
def client(app: Flask) -> Client:
    return app.test_client()  # type: ignore[return-value]


@pytest.fixture
def runner(app: Flask) -> Any:
    return app.test_cli_runner()


@pytest.fixture
def session(app: Flask) -> Iterator[sa.orm.Session]:
    """A database session for arranging and inspecting data (commit to make it visible).

    No app context stays pushed during the test: requests made by the test client must
    get their own, with their own database session, as they do in production. The
    helper's transactions begin deferred (as readers), so inspecting the database never
    holds SQLite's write lock while the app works.
    """
    token = db.set_write_intent(False)
    with app.extensions["lms.sessionmaker"]() as session:
        app.extensions.setdefault("test.helper_sessions", []).append(session)
        yield session
    db.reset_write_intent(token)


_PASSWORD_HASH: dict[str, str] = {}


def _test_password_hash() -> str:
    # Argon2 is slow on purpose; hash the shared test password once per run.
    if "hash" not in _PASSWORD_HASH:
        _PASSWORD_HASH["hash"] = hash_password(TEST_PASSWORD)
    return _PASSWORD_HASH["hash"]


def country_id(session: sa.orm.Session, code: str) -> int:
    return session.scalar(sa.select(Country.id).where(Country.code == code))


@pytest.fixture
def make_user(app: Flask, session: sa.orm.Session) -> Callable[..., User]:
    """Create (and commit) a person: ``make_user("a@x.org", roles={Role.TRAINER: "RS"})``."""
    counter = iter(range(1, 10_000))

    def factory(
        email: str | None = None,
        *,
        name: str | None = None,
        roles: dict[Role, str | None] | list[Role] | None = None,
        country: str = "RS",
        sex: Sex = Sex.FEMALE,
        category: Category | None = Category.MILITARY_STAFF,
        password: bool = True,
        alt_name: str | None = None,
    ) -> User:
        number = next(counter)
        person = people.create_person(
            session,
            people.PersonData(
                full_name=name or f"Test Person {number}",
                full_name_alt=alt_name,
                email=email or f"person{number}@example.org",
                country_id=country_id(session, country),
                sex=sex,
                category=category,
            ),
            actor=None,
        )
        if isinstance(roles, list):
            roles = dict.fromkeys(roles)
        wanted = {role: country_id(session, scope) if scope else None for role, scope in (roles or {}).items()}
        people.set_roles(session, person, wanted, actor=None)
        if password:
            person.password_hash = _test_password_hash()
        session.commit()
        return person

    return factory


def login(client: FlaskClient, email: str, password: str = TEST_PASSWORD) -> Any:
    """Log in through the form, as a person would."""
    return client.post("/auth/login", data={"email": email, "password": password})


def login_as(client: FlaskClient, user: User | int) -> None:
    """Start a session for ``user`` (or a user id) without the form and Argon2's cost."""
    user_id = user if isinstance(user, int) else user.id
    with client.application.app_context(), db.new_session() as session:
        nonce = session.get(User, user_id).session_nonce
    with client.session_transaction() as session:
        session["_user_id"] = f"{user_id}:{nonce}"
        session["_fresh"] = True
        now = db.utcnow().timestamp()
        session["login_at"] = now
        session["seen_at"] = now


def csrf_field(html: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    assert match, "no CSRF field in the page"
    return match.group(1)


@pytest.fixture
def audit_rows(app: Flask) -> Callable[..., list[Any]]:
    """The audit rows for an action (newest last)."""
    from lms.models import AuditEvent

    def rows(action: str | None = None) -> list[AuditEvent]:
        with app.app_context(), db.new_session() as session:
            query = sa.select(AuditEvent).order_by(AuditEvent.id)
            if action:
                query = query.where(AuditEvent.action == action)
            return list(session.scalars(query))

    return rows
