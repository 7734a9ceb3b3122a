"""``flask --app app lms certificates print ...`` and ``flask --app app lms worker``."""

from __future__ import annotations

import shutil
import signal
import sys
import time
from pathlib import Path

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from lms import db, migrate
from lms.certificates import batch, document, jobs
from lms.models import Certificate, CertificateStatus, Course, PrintFormat, User

certificates_cli = AppGroup("certificates", help="Certificates: batch printing.")


class _ShellProgress:
    """A progress line on standard error, redrawn in place on a terminal."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.tty = sys.stderr.isatty()

    def __call__(self, done: int, total: int) -> None:
        elapsed = time.monotonic() - self.started
        percent = 100 * done // total if total else 100
        rate = done / elapsed if elapsed > 0 and done else 0
        left = f", about {(total - done) / rate:.0f} s left" if rate and done < total else ""
        line = f"Printed {done}/{total} certificates ({percent}%) in {elapsed:.1f} s{left}"
        click.echo(("\r" + line + "   ") if self.tty else line, err=True, nl=not self.tty)


def course_certificate_ids(session: sa.orm.Session, course: Course) -> list[int]:
    """A course's valid certificates in roster (alphabetical) order."""
    return list(
        session.scalars(
            sa.select(Certificate.id)
            .join(User, User.id == Certificate.holder_id)
            .where(Certificate.course_id == course.id, Certificate.status == CertificateStatus.VALID)
            .order_by(User.sort_name, User.id)
        )
    )


def year_certificate_ids(session: sa.orm.Session, year: int) -> list[int]:
    return list(
        session.scalars(
            sa.select(Certificate.id)
            .join(User, User.id == Certificate.holder_id)
            .where(Certificate.year == year, Certificate.status == CertificateStatus.VALID)
            .order_by(Certificate.country_id, Certificate.course_id, User.sort_name, User.id)
        )
    )


@certificates_cli.command("print")
@click.option("--course", "course_id", type=int, help="Print the certificates of this course (its id).")
@click.option("--year", type=int, help="Print every valid certificate issued in this year.")
@click.option("--output", required=True, type=click.Path(dir_okay=False, writable=True, path_type=Path))
@click.option("--format", "fmt", type=click.Choice([f.value for f in PrintFormat]), default="pdf", show_default=True)
@click.option("--processes", type=int, help="Parallel rendering processes (default: LMS_PRINT_PROCESSES).")
@click.option("--chunk-size", type=click.IntRange(1, 500), help="Certificates per chunk (default 100).")
def print_command(
    course_id: int | None, year: int | None, output: Path, fmt: str, processes: int | None, chunk_size: int | None
) -> None:
    """Print valid certificates into one PDF (in roster order) or a ZIP of one PDF each."""
    if (course_id is None) == (year is None):
        raise click.UsageError("Give either --course ID or --year YYYY.")
    with db.write_intent(False), db.new_session() as session:
        if course_id is not None:
            course = session.get(Course, course_id)
            if course is None:
                raise click.ClickException(f"No course has the id {course_id}.")
            ids, title = course_certificate_ids(session, course), course.title
        else:
            ids, title = year_certificate_ids(session, year), f"Certificates {year}"  # type: ignore[arg-type]
        if not ids:
            raise click.ClickException("There are no valid certificates to print (issue them first).")
        work_dir = output.parent / f".{output.name}.parts"
        started = time.monotonic()
        batch.render_batch(
            session,
            ids,
            work_dir,
            output,
            fmt=PrintFormat(fmt),
            title=title,
            chunk_size=chunk_size or current_app.config["PRINT_CHUNK_SIZE"],
            processes=processes or current_app.config["PRINT_PROCESSES"],
            progress=_ShellProgress(),
        )
    shutil.rmtree(work_dir)
    click.echo(err=True)
    click.echo(f"Wrote {len(ids)} certificates to {output} in {time.monotonic() - started:.1f} s.")


def _stop_on_sigterm(_signum: int, _frame: object) -> None:
    # Stop as on Ctrl-C: the rendering processes are terminated, the job resumes later.
    raise KeyboardInterrupt


def worker_command_factory() -> click.Command:
    @click.command("worker")
    @with_appcontext
    @click.option("--once", is_flag=True, help="Run the waiting jobs, then stop.")
    def worker_command(once: bool) -> None:
        """Run print jobs queued from the web (keep it running beside the web server).

        It waits out a database that is away, and its rendering processes end with it,
        even when it is killed (``kill -9``)."""
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        signal.signal(signal.SIGTERM, _stop_on_sigterm)
        try:
            if app.config["LMS_ENV"] == "production":
                # As the web server does: never work on another schema; wait for a database that is away.
                jobs.wait_for_database(lambda: migrate.require_head(app), "checking the schema")
            document.preload()
            click.echo(f"Print worker {jobs.worker_name()} ready.", err=True)
            ran = jobs.work(app, once=once)
        except KeyboardInterrupt:
            click.echo("Print worker stopped.", err=True)
            return
        if once:
            click.echo(f"Ran {ran} print job(s).", err=True)

    return worker_command
