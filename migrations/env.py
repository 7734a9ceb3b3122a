"""Alembic environment: runs on the engine given by ``lms.migrate`` (or LMS_DATABASE_URL)."""

from __future__ import annotations

from alembic import context

from lms import db, models  # noqa: F401  (registers every table)
from lms.config import build_config
from lms.db import Base

config = context.config
target_metadata = Base.metadata


def _engine():  # type: ignore[no-untyped-def]
    engine = config.attributes.get("engine")
    if engine is None:
        # Plain `alembic` command line: use the app's configured database.
        engine = db.create_engine(build_config()["DATABASE_URL"])
    return engine


def _set_sqlite_foreign_keys(connection, on: bool) -> None:  # type: ignore[no-untyped-def]
    # Batch mode rebuilds a table by copying it and dropping the old one; with foreign
    # keys on, that DROP would cascade-delete the rows that refer to it. The pragma only
    # works outside a transaction, so it goes straight to the driver connection.
    if connection.dialect.name == "sqlite":
        connection.connection.driver_connection.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")


def run_migrations_online() -> None:
    engine = _engine()
    with engine.connect() as connection:
        _set_sqlite_foreign_keys(connection, False)
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            # SQLite can barely ALTER: Alembic's batch mode copies and moves tables instead.
            render_as_batch=True,
            compare_type=True,
        )
        try:
            with context.begin_transaction():
                context.run_migrations()
                if connection.dialect.name == "sqlite":
                    problems = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if problems:
                        raise RuntimeError(f"migration left broken foreign keys: {problems[:5]}")
            connection.commit()
        finally:
            _set_sqlite_foreign_keys(connection, True)


if context.is_offline_mode():
    raise SystemExit("Offline (SQL script) migrations are not supported; run against a database.")
run_migrations_online()
