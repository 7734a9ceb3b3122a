"""Database plumbing: the declarative base, engines and one session per app context.

SQLite gets WAL, foreign keys, a busy timeout and ``BEGIN IMMEDIATE`` for write
transactions: with deferred transactions, 16 concurrent writers failed with
"database is locked" on most attempts, with ``BEGIN IMMEDIATE`` on none.

A database that is away, slow or locked must cost a request a few seconds and a clear
503, never a hang (see :class:`DatabaseSettings` and :func:`fault`), and the app must
come back by itself when the database does: PostgreSQL connections are pinged before use
and replaced when broken; SQLite connections opened while the file was read-only are
replaced once it is writable again (such a connection never writes, even after ``chmod``).
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import sqlite3
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app, g, has_request_context
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

#: A PostgreSQL server whose host stops acknowledging what we send is given up on after
#: this long, and an idle connection is probed by TCP keepalives: without them a vanished
#: host holds a request until gunicorn kills it (statement_timeout is the server's own).
TCP_USER_TIMEOUT_MS = 10_000
TCP_KEEPALIVES = {"keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 5, "keepalives_count": 3}


@dataclass(frozen=True)
class DatabaseSettings:
    """Bounds on waiting for the database; 0 means no limit. Defaults fit a web request
    under gunicorn's 30 s timeout; the settings are read from ``LMS_DB_*`` (lms.config)."""

    #: Seconds to establish a PostgreSQL connection.
    connect_timeout: int = 5
    #: In web requests: the longest a PostgreSQL statement runs, and waits for a lock.
    statement_timeout_ms: int = 20_000
    lock_timeout_ms: int = 5_000
    #: Outside requests (the print worker, the command line): statements may run longer.
    background_statement_timeout_ms: int = 0
    #: How long an SQLite writer waits for the one before it.
    sqlite_busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> DatabaseSettings:
        defaults = cls()
        return cls(
            connect_timeout=int(config.get("DB_CONNECT_TIMEOUT", defaults.connect_timeout)),
            statement_timeout_ms=int(config.get("DB_STATEMENT_TIMEOUT_MS", defaults.statement_timeout_ms)),
            lock_timeout_ms=int(config.get("DB_LOCK_TIMEOUT_MS", defaults.lock_timeout_ms)),
            background_statement_timeout_ms=int(
                config.get("DB_BACKGROUND_STATEMENT_TIMEOUT_MS", defaults.background_statement_timeout_ms)
            ),
            sqlite_busy_timeout_ms=int(config.get("SQLITE_BUSY_TIMEOUT_MS", defaults.sqlite_busy_timeout_ms)),
        )

    def limits(self) -> tuple[int, int]:
        """(statement timeout, lock timeout) in ms for the current context."""
        if has_request_context():
            return self.statement_timeout_ms, self.lock_timeout_ms
        return self.background_statement_timeout_ms, 0


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


# SQLite result codes (the primary code, the low byte of the extended one).
_SQLITE_BUSY, _SQLITE_LOCKED, _SQLITE_READONLY, _SQLITE_IOERR, _SQLITE_FULL, _SQLITE_CANTOPEN = 5, 6, 8, 10, 13, 14
_SQLITE_FAULTS = {
    _SQLITE_BUSY: "busy",
    _SQLITE_LOCKED: "busy",
    _SQLITE_READONLY: "read-only",
    _SQLITE_IOERR: "unavailable",
    _SQLITE_FULL: "full",
    _SQLITE_CANTOPEN: "unavailable",
}
# PostgreSQL SQLSTATEs, most specific first: classes 08 (connection), 53 (resources),
# 57 (cancelled by statement_timeout, server shutting down), 58 (system), 40 (serialization,
# deadlock: worth retrying); a lock not granted within lock_timeout; a read-only server.
_POSTGRESQL_FAULTS = {
    "57014": "timed out",
    "55P03": "busy",
    "25006": "read-only",
    "08": "unavailable",
    "53": "full",
    "57": "unavailable",
    "58": "unavailable",
    "40": "busy",
}


def fault(error: BaseException) -> str | None:
    """Why ``error`` means the database cannot serve now, or ``None`` if it is not such a
    fault (a bug, a refused value): "unavailable", "timed out", "busy", "read-only", "full".

    A request that meets one gets a 503 and may be retried; anything else is a 500.
    """
    if isinstance(error, sa.exc.TimeoutError):  # no pooled connection free in time
        return "busy"
    if not isinstance(error, sa.exc.DBAPIError):
        return None
    original = error.orig
    if isinstance(original, sqlite3.Error):
        reason = _SQLITE_FAULTS.get((original.sqlite_errorcode or 0) & 0xFF)
    elif (sqlstate := getattr(original, "sqlstate", None)) is not None:
        reason = _POSTGRESQL_FAULTS.get(sqlstate) or _POSTGRESQL_FAULTS.get(sqlstate[:2])
    else:
        # psycopg reports a refused, lost or timed-out connection without a SQLSTATE.
        reason = "unavailable" if isinstance(error, sa.exc.OperationalError) else None
    if reason is None and error.connection_invalidated:
        return "unavailable"
    return reason


def _sqlite_path(engine: Engine) -> str | None:
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return database


def _configure_sqlite(engine: Engine, settings: DatabaseSettings) -> None:
    path = _sqlite_path(engine)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, record: Any) -> None:
        # Let SQLAlchemy's "begin" event below issue BEGIN; pysqlite's own would be deferred.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(settings.sqlite_busy_timeout_ms)}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
        # SQLite opens a file it may not write read-only, silently, and the connection
        # stays so for good: note it, to replace the connection once the file is writable.
        if path is not None and os.path.exists(path) and not os.access(path, os.W_OK):
            record.info["lms.opened_read_only"] = True

    @event.listens_for(engine, "checkout")
    def _on_checkout(_dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        if record.info.get("lms.opened_read_only") and path is not None and os.access(path, os.W_OK):
            raise sa.exc.DisconnectionError("the database file is writable again")

    @event.listens_for(engine, "handle_error")
    def _on_error(context: sa.engine.ExceptionContext) -> None:
        # A read-only, vanished or failing file: replace every pooled connection, so the
        # app recovers without a restart once the file is back.
        code = getattr(context.original_exception, "sqlite_errorcode", None)
        if code is not None and code & 0xFF in {_SQLITE_READONLY, _SQLITE_IOERR, _SQLITE_CANTOPEN}:
            context.is_disconnect = True

    @event.listens_for(engine, "begin")
    def _on_begin(connection: sa.Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE" if _write_intent.get() else "BEGIN")


def _configure_postgresql(engine: Engine, settings: DatabaseSettings) -> None:
    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        # Web requests and background work share the pool's code but not its limits; a
        # process is one or the other, so a connection is set again only when that changes.
        limits = settings.limits()
        if record.info.get("lms.limits") == limits:
            return
        with dbapi_connection.cursor() as cursor:
            cursor.execute(
                "SELECT set_config('statement_timeout', %s, false), set_config('lock_timeout', %s, false)",
                (str(limits[0]), str(limits[1])),
            )
        dbapi_connection.commit()
        record.info["lms.limits"] = limits


def create_engine(url: str, *, settings: DatabaseSettings | None = None, **kwargs: Any) -> Engine:
    """Create an engine for ``url`` with the settings this app relies on."""
    settings = settings or DatabaseSettings()
    if url.startswith("sqlite"):
        engine = sa.create_engine(
            url,
            connect_args={"timeout": settings.sqlite_busy_timeout_ms / 1000, "check_same_thread": False},
            **kwargs,
        )
        _configure_sqlite(engine, settings)
        return engine
    connect_args = {
        "connect_timeout": settings.connect_timeout,
        "tcp_user_timeout": TCP_USER_TIMEOUT_MS,
        **TCP_KEEPALIVES,
        **kwargs.pop("connect_args", {}),
    }
    # Pre-ping: a connection broken while the database was away is replaced, not used.
    engine = sa.create_engine(url, pool_pre_ping=True, connect_args=connect_args, **kwargs)
    _configure_postgresql(engine, settings)
    return engine


def health(engine: Engine) -> str:
    """ "ok", or why the database cannot serve: "unavailable", "read-only", "timed out"...

    Writes are checked too: a database that answers reads but refuses every write is
    not healthy. On SQLite a new connection (as the next worker would open) starts a write
    transaction and rolls it back, waiting for no one: busy with another writer is fine.
    """
    try:
        with engine.connect() as connection:
            if engine.dialect.name == "postgresql":
                read_only = connection.scalar(sa.text("SELECT current_setting('transaction_read_only')")) == "on"
                return "read-only" if read_only else "ok"
            connection.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError as error:
        return fault(error) or "unavailable"
    path = _sqlite_path(engine)
    return "ok" if path is None else _sqlite_write_check(path)


def _sqlite_write_check(path: str) -> str:
    try:
        probe = sqlite3.connect(path, timeout=0, isolation_level=None)
    except sqlite3.Error:
        return "unavailable"
    try:
        probe.execute("BEGIN IMMEDIATE")
        # BEGIN IMMEDIATE alone succeeds on a read-only file in WAL mode; a write does not.
        version = int(probe.execute("PRAGMA user_version").fetchone()[0])
        probe.execute(f"PRAGMA user_version={version}")
    except sqlite3.Error as error:
        code = (error.sqlite_errorcode or 0) & 0xFF
        return "ok" if code in {_SQLITE_BUSY, _SQLITE_LOCKED} else _SQLITE_FAULTS.get(code, "unavailable")
    finally:
        if probe.in_transaction:
            probe.execute("ROLLBACK")
        probe.close()
    return "ok"


def init_app(app: Flask) -> None:
    """Create the app's engine and session factory and close sessions at teardown."""
    engine = create_engine(app.config["DATABASE_URL"], settings=DatabaseSettings.from_config(app.config))
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
