"""Migrations take an empty database to head and back, and match the models (SECURITY.md, R1).

Runs on the engine under test: SQLite by default, PostgreSQL with LMS_TEST_DATABASE_URL.
"""

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from lms import db, migrate
from lms.db import Base
from tests.conftest import POSTGRES_URL


@pytest.fixture
def empty_engine(tmp_path: Path) -> Iterator[sa.Engine]:
    """An empty database of the engine under test."""
    if not POSTGRES_URL:
        engine = db.create_engine(f"sqlite:///{tmp_path / 'empty.sqlite3'}")
        yield engine
        engine.dispose()
        return
    url = sa.make_url(POSTGRES_URL)
    scratch = f"{url.database}_migrations"
    admin = db.create_engine(url.render_as_string(hide_password=False), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{scratch}"')
        connection.exec_driver_sql(f'CREATE DATABASE "{scratch}"')
    engine = db.create_engine(url.set(database=scratch).render_as_string(hide_password=False))
    yield engine
    engine.dispose()
    with admin.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{scratch}"')
    admin.dispose()


def _tables(engine: sa.Engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names()) - {"alembic_version"}


def test_upgrade_downgrade_upgrade(empty_engine: sa.Engine) -> None:
    expected = set(Base.metadata.tables)
    migrate.upgrade(empty_engine)
    assert _tables(empty_engine) == expected
    assert migrate.current_revision(empty_engine) == migrate.head_revision()
    migrate.downgrade(empty_engine, "base")
    assert _tables(empty_engine) == set()
    assert migrate.current_revision(empty_engine) is None
    migrate.upgrade(empty_engine)
    assert _tables(empty_engine) == expected


def test_migrations_match_the_models(empty_engine: sa.Engine) -> None:
    migrate.upgrade(empty_engine)
    with empty_engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == [], "models and migrations differ; write a migration"


def test_init_upgrades_and_loads_reference_data_idempotently(app, runner) -> None:
    from lms.models import Country, Institution

    for _ in range(2):
        result = runner.invoke(args=["lms", "init"])
        assert result.exit_code == 0, result.output
        assert "revision" in result.output
    with app.app_context(), db.new_session() as session:
        codes = session.scalars(sa.select(Country.code).order_by(Country.position)).all()
        assert codes == ["BA", "ME", "MK", "RS", "REG"]
        per_country = dict(
            session.execute(
                sa.select(Country.code, sa.func.count(Institution.id)).join(Institution).group_by(Country.code)
            )
            .tuples()
            .all()
        )
        assert per_country == {"BA": 3, "ME": 3, "MK": 3, "RS": 3, "REG": 1}
