"""Database plumbing: the declarative base, engines and one session per app context.

SQLite gets WAL, foreign keys, a busy timeout and ``BEGIN IMMEDIATE`` for write
transactions: with deferred transactions, 16 concurrent writers failed with
"database is locked" on most attempts, with ``BEGIN IMMEDIATE`` on none.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app, g
from sqlalchemy import event, orm
from sqlalchemy.engine import Engine

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SQLITE_BUSY_TIMEOUT_MS = 15_000

#: Whether transactions begun in this context will write. GET requests read only and
#: begin deferred transactions so readers never queue behind each other; everything
#: else (forms, CLI, services) begins ``IMMEDIATE``.
_write_intent: contextvars.ContextVar[bool] = contextvars.ContextVar("write_intent", default=True)


class Base(orm.DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """A timestamp stored as naive UTC and returned timezone-aware.

    SQLite has no time zones, so both engines store naive UTC and the app only ever
    sees aware datetimes; comparing them cannot silently mix local and UTC times.
    """

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where a UTC timestamp is required")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


def binary_sorted_string(length: int) -> sa.types.TypeEngine[str]:
    """A string column compared byte by byte on every engine (for precomputed sort keys)."""
    return sa.String(length).with_variant(sa.String(length, collation="C"), "postgresql")


def enum_column(enum_cls: type, name: str) -> sa.Enum:
    """An enum stored as its string values with a named CHECK constraint on every engine."""
    return sa.Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        validate_strings=True,
        values_callable=lambda members: [member.value for member in members],
    )


@contextlib.contextmanager
def write_intent(value: bool) -> Iterator[None]:
    """Within the block, new transactions begin as writers (``True``) or readers."""
    token = _write_intent.set(value)
    try:
        yield
    finally:
        _write_intent.reset(token)


def set_write_intent(value: bool) -> contextvars.Token[bool]:
    """Declare for the rest of this request whether it writes; reset with the token."""
    return _write_intent.set(value)


def reset_write_intent(token: contextvars.Token[bool]) -> None:
    _write_intent.reset(token)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event below issue BEGIN; pysqlite's own would be deferred.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: sa.Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE" if _write_intent.get() else "BEGIN")


def create_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine for ``url`` with the settings this app relies on."""
    if url.startswith("sqlite"):
        engine = sa.create_engine(
            url,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
            **kwargs,
        )
        _configure_sqlite(engine)
        return engine
    return sa.create_engine(url, pool_pre_ping=True, **kwargs)


def init_app(app: Flask) -> None:
    """Create the app's engine and session factory and close sessions at teardown."""
    engine = create_engine(app.config["DATABASE_URL"])
    app.extensions["lms.engine"] = engine
    app.extensions["lms.sessionmaker"] = orm.sessionmaker(engine, expire_on_commit=False)
    app.teardown_appcontext(_close_session)


def get_engine() -> Engine:
    """The current app's engine."""
    return current_app.extensions["lms.engine"]


def new_session() -> orm.Session:
    """A new session of the current app, owned (and closed) by the caller."""
    return current_app.extensions["lms.sessionmaker"]()


def get_session() -> orm.Session:
    """The session of the current app context, created on first use."""
    if "db_session" not in g:
        g.db_session = new_session()
    return g.db_session


def write_separately(work: Callable[[orm.Session], object]) -> None:
    """Run ``work`` in a short write transaction of its own, and commit it.

    For small writes that must not depend on the request's own transaction: a GET that
    records a visit, or an audit entry kept although the request is refused. Never call
    it while this request's own session holds a write transaction: on SQLite the two
    would wait for each other.
    """
    with write_intent(True), new_session() as session:
        work(session)
        session.commit()


def _close_session(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        # Closing rolls back whatever the request did not commit.
        session.close()
