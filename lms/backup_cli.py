"""``flask --app app lms backup --output FILE`` and ``flask --app app lms restore FILE``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.orm import Session

from lms import backup, db

_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


@click.command("backup")
@click.option(
    "--output",
    "-o",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The backup file to write (replaced if it exists, only once the new backup is complete).",
)
@with_appcontext
def backup_command(output: Path) -> None:
    """Write a consistent backup of the database to a file, while the app keeps running.

    SQLite: a copy of the database file made with SQLite's backup API. PostgreSQL:
    `pg_dump -Fc` (the PostgreSQL client must be installed). Restore it with `lms restore`.
    """
    try:
        result = backup.backup(current_app.config["DATABASE_URL"], output)
    except backup.BackupError as error:
        raise click.ClickException(error.message) from error
    click.echo(
        f"Backed up the {_NAMES[result.engine]} database (schema version {result.revision}, "
        f"{_size(result.size)}) to {result.path}."
    )
    click.echo(f"SHA-256: {result.sha256}")
    _audit(lambda session: backup.record_backup(session, result))
    click.echo("Not in this file, keep these too:")
    for thing in backup.other_things_to_keep(current_app.config):
        click.echo(f"  - {thing}")


@click.command("restore")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace the data the database already holds.")
@with_appcontext
def restore_command(file: Path, force: bool) -> None:
    """Replace the database with FILE, a backup made by `lms backup`.

    Stop the app and the print worker first. Refused when the database already holds data
    (unless --force) and when the backup comes from a newer version of the LMS; a backup of
    an older version is migrated to this version's schema after it is restored.
    """
    engine = db.get_engine()
    # None of this process's pooled connections may hold on to the old database.
    engine.dispose()
    try:
        result = backup.restore(current_app.config["DATABASE_URL"], file, force=force)
    except backup.BackupError as error:
        raise click.ClickException(error.message) from error
    finally:
        engine.dispose()
    counts = backup.row_counts(engine)
    counts.pop(backup.VERSION_TABLE, None)
    click.echo(
        f"Restored {result.source} (schema version {result.revision}): the database now holds "
        f"{sum(counts.values())} rows in {len(counts)} tables"
        + (f", replacing {result.replaced_rows} rows." if result.replaced_rows else ".")
    )
    if result.upgraded_to:
        click.echo(
            f"The backup came from an older version; its schema was migrated to {result.upgraded_to}. "
            "Run `flask --app app lms init` to add this version's reference data and curriculum."
        )
    _audit(lambda session: backup.record_restore(session, result, forced=force))
    click.echo("Restore the print job files and the secret key of the same time if they were lost too.")


def _audit(work: Callable[[Session], None]) -> None:
    """Record in the audit log; a database that cannot be written is reported, not fatal."""
    try:
        with db.new_session() as session:
            work(session)
            session.commit()
    except sa.exc.SQLAlchemyError as error:
        click.echo(f"Warning: the audit log could not record this: {error}", err=True)


def _size(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    value = size / 1024
    for unit in ("KB", "MB"):
        if value < 1024:
            return f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"
