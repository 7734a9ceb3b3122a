"""Alembic, driven from the app: the schema only ever changes through migrations."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from sqlalchemy.engine import Engine

from lms.config import ROOT, ConfigError

MIGRATIONS_DIR = ROOT / "migrations"


def alembic_config(engine: Engine) -> Config:
    """An Alembic configuration that runs on ``engine``'s connections."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def head_revision() -> str | None:
    return ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    command.upgrade(alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str = "base") -> None:
    command.downgrade(alembic_config(engine), revision)


def require_head(app: Flask) -> None:
    """Refuse to serve a database whose schema is not the one this code expects (R1)."""
    engine = app.extensions["lms.engine"]
    current, head = current_revision(engine), head_revision()
    # Leave no pooled connection behind: gunicorn --preload forks workers after this,
    # and a connection shared between processes corrupts both.
    engine.dispose()
    if current != head:
        raise ConfigError(
            f"The database schema is at {current or 'nothing'}, this code needs {head}: "
            "run `flask --app app lms init` (it upgrades the schema) before serving."
        )
