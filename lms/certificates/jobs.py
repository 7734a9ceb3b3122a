"""Print jobs: batches of certificates rendered by ``flask --app app lms worker``.

A web request only records the job (its certificates, in printing order); a worker
process claims it, renders it chunk by chunk (see :mod:`lms.certificates.batch`) and
records its progress, which the coordinator's page shows. A worker that dies leaves the
job "running" with a heartbeat that stops moving; another worker (or the same one,
restarted) claims it again and carries on from the last finished chunk.

Where things live: the job's state in the database; its finished file in the print
storage (:mod:`lms.certificates.storage`, a directory by default, shared by the web
machines); the chunks on the way in ``instance/print-work/<job>/``, scratch on the
worker's own disk, removed when the job ends (done or failed) and, for jobs that have
ended, when a worker starts.

The worker stays up when the database does not answer (SQLite busy beyond its timeout,
PostgreSQL down or restarting): it logs, waits (1 s, doubling up to a minute, with
jitter) and tries again, then carries on with the job it had.
"""

from __future__ import annotations

import json
import logging
import os
import random
import shutil
import socket
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import TypeVar

import sqlalchemy as sa
from flask import Flask, current_app
from sqlalchemy.orm import Session

from lms import db
from lms.audit.service import record
from lms.certificates import batch, storage
from lms.certificates.service import CertificateAction
from lms.models import PrintFormat, PrintJob, PrintJobStatus, User

log = logging.getLogger(__name__)

T = TypeVar("T")

#: A running job whose worker has not reported for this long is taken over.
STALE_AFTER = timedelta(minutes=5)
#: Finished jobs' files are deleted after this long.
KEEP_FILES_FOR = timedelta(days=7)
#: Errors of a database that is away or busy, which the worker waits out.
DATABASE_UNAVAILABLE = (sa.exc.DBAPIError, sa.exc.TimeoutError)
#: Waiting for the database: the first delay, doubling up to the last.
FIRST_RETRY_SECONDS = 1.0
MAX_RETRY_SECONDS = 60.0

# The worker's clock, replaced in tests.
_sleep: Callable[[float], None] = time.sleep


def work_root() -> Path:
    """Scratch space of the print jobs running on this machine."""
    return Path(current_app.config["INSTANCE_DIR"]) / "print-work"


def work_dir(job: PrintJob) -> Path:
    return work_root() / str(job.id)


def output_key(job: PrintJob) -> str:
    """Where the job's finished file is kept in the print storage."""
    return f"{job.id}/certificates.{job.format.value}"


def output_storage() -> storage.Storage:
    return storage.from_config(current_app.config)


def read_output(job: PrintJob) -> bytes | None:
    """The finished file of ``job``; None when there is none (yet, or any more)."""
    try:
        with output_storage().open(output_key(job)) as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def queue(
    session: Session,
    *,
    title: str,
    certificate_ids: list[int],
    fmt: PrintFormat,
    actor: User,
    course_id: int | None = None,
) -> PrintJob:
    job = PrintJob(
        title=title[:300],
        format=fmt,
        course_id=course_id,
        certificate_ids=json.dumps(certificate_ids),
        total=len(certificate_ids),
        created_by_id=actor.id,
    )
    session.add(job)
    session.flush()
    record(
        session,
        CertificateAction.PRINTED,
        actor=actor,
        target=job,
        details={"title": title, "format": fmt.value, "count": len(certificate_ids)},
    )
    return job


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _orphaned(job: PrintJob) -> bool:
    """Whether a running job's worker is gone: a dead process on this machine, or silent."""
    if job.heartbeat_at is None or job.heartbeat_at < db.utcnow() - STALE_AFTER:
        return True
    host, _, pid = (job.worker or "").rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def claim_next(session: Session, name: str) -> PrintJob | None:
    """Take the oldest waiting (or orphaned) job for worker ``name``; None when idle.

    A job still marked as running by ``name`` itself is one it left when the database
    failed under it: it takes it again."""
    candidates = session.scalars(
        sa.select(PrintJob)
        .where(PrintJob.status.in_([PrintJobStatus.QUEUED, PrintJobStatus.RUNNING]))
        .order_by(PrintJob.id)
        .limit(20)
    ).all()
    for job in candidates:
        if job.status == PrintJobStatus.RUNNING and job.worker != name and not _orphaned(job):
            continue
        now = db.utcnow()
        # Compare-and-set: of two workers claiming one job, one changes the row.
        claimed = session.execute(
            sa.update(PrintJob)
            .where(
                PrintJob.id == job.id,
                PrintJob.status == job.status,
                PrintJob.worker.is_(None) if job.worker is None else PrintJob.worker == job.worker,
            )
            .values(status=PrintJobStatus.RUNNING, worker=name, heartbeat_at=now, started_at=job.started_at or now)
            .execution_options(synchronize_session=False)
        ).rowcount
        session.commit()
        if claimed == 1:
            session.refresh(job)
            return job
    return None


def _report(app: Flask, job_id: int, done: int, total: int) -> None:
    """Record the progress (and that the worker lives); skipped while the database is away."""
    try:
        with db.write_intent(True), db.new_session() as session:
            session.execute(
                sa.update(PrintJob).where(PrintJob.id == job_id).values(done=min(done, total), heartbeat_at=db.utcnow())
            )
            session.commit()
    except DATABASE_UNAVAILABLE as error:
        log.warning("print job %s: progress not recorded, the database is unavailable: %s", job_id, _brief(error))


def run(app: Flask, job: PrintJob) -> None:
    """Render a claimed job and mark it done (or failed, with the reason).

    A database that is away, busy or timed out (:func:`lms.db.fault`) is not the job's
    fault: the error goes to the worker loop, which waits and takes the job again (its
    finished chunks are kept). Any other error fails the job."""
    ids = json.loads(job.certificate_ids)
    scratch = work_dir(job)
    output = scratch / f"certificates.{job.format.value}"
    try:
        # Reading only: a long read transaction must not hold SQLite's write lock.
        with db.write_intent(False), db.new_session() as session:
            batch.render_batch(
                session,
                ids,
                scratch,
                output,
                fmt=job.format,
                title=job.title,
                chunk_size=app.config["PRINT_CHUNK_SIZE"],
                processes=app.config["PRINT_PROCESSES"],
                progress=lambda done, total: _report(app, job.id, done, total),
            )
        output_storage().save(output_key(job), output)
    except Exception as error:
        if db.fault(error) is not None:
            raise  # the database's, not the job's
        log.exception("print job %s failed", job.id)
        _finish(job.id, PrintJobStatus.FAILED, error=f"{type(error).__name__}: {error}"[:500])
        shutil.rmtree(scratch, ignore_errors=True)
        return
    _finish(job.id, PrintJobStatus.DONE)
    shutil.rmtree(scratch, ignore_errors=True)


def _finish(job_id: int, status: PrintJobStatus, error: str | None = None) -> None:
    with db.write_intent(True), db.new_session() as session:
        session.execute(
            sa.update(PrintJob)
            .where(PrintJob.id == job_id)
            .values(status=status, error=error, finished_at=db.utcnow(), heartbeat_at=db.utcnow())
        )
        session.commit()


def clean_old_files(session: Session) -> int:
    """Delete the files of jobs finished long ago; the job rows stay for the record."""
    cutoff = db.utcnow() - KEEP_FILES_FOR
    store = output_storage()
    removed = 0
    for job in session.scalars(
        sa.select(PrintJob).where(PrintJob.finished_at < cutoff, PrintJob.status != PrintJobStatus.RUNNING)
    ):
        if store.exists(output_key(job)):
            store.delete(output_key(job))
            removed += 1
        shutil.rmtree(work_dir(job), ignore_errors=True)
    return removed


def clean_scratch(session: Session) -> int:
    """Remove the scratch directories of jobs that have ended (done or failed) or are
    unknown; those of jobs still to run are cleaned when they resume."""
    root = work_root()
    if not root.is_dir():
        return 0
    removed = 0
    for directory in root.iterdir():
        if directory.is_dir() and directory.name.isdigit():
            job = session.get(PrintJob, int(directory.name))
            if job is not None and job.status in (PrintJobStatus.QUEUED, PrintJobStatus.RUNNING):
                continue
        if directory.is_dir():
            shutil.rmtree(directory, ignore_errors=True)
        else:
            directory.unlink(missing_ok=True)
        removed += 1
    return removed


class Backoff:
    """Delays between attempts: ``first`` seconds doubling up to ``limit``, each drawn
    between half and all of that (jitter: workers that failed together retry apart)."""

    def __init__(self, first: float = FIRST_RETRY_SECONDS, limit: float = MAX_RETRY_SECONDS) -> None:
        self.first, self.limit, self.failures = first, limit, 0

    def next_delay(self) -> float:
        ceiling = min(self.limit, self.first * 2**self.failures)
        self.failures += 1
        return ceiling / 2 + random.uniform(0, ceiling / 2)  # noqa: S311 (not for security)

    def reset(self) -> None:
        self.failures = 0


def _wait(backoff: Backoff, error: BaseException, what: str) -> None:
    delay = backoff.next_delay()
    log.warning("print worker, %s: the database is unavailable (%s); retrying in %.1f s", what, _brief(error), delay)
    _sleep(delay)


def _brief(error: BaseException) -> str:
    """The first line of a database error, without the SQL SQLAlchemy appends."""
    cause = getattr(error, "orig", None) or error
    return (str(cause).strip().splitlines() or [type(cause).__name__])[0][:300]


def wait_for_database(action: Callable[[], T], what: str) -> T:
    """``action()``, tried again (waiting as the worker loop does) until the database
    answers; for what the worker does before its loop, such as checking the schema."""
    backoff = Backoff()
    while True:
        try:
            return action()
        except DATABASE_UNAVAILABLE as error:
            _wait(backoff, error, what)


def _housekeeping() -> None:
    with db.write_intent(False), db.new_session() as session:
        try:
            clean_old_files(session)
            clean_scratch(session)
        except OSError:
            log.exception("print worker: cleaning old files failed")


def work(app: Flask, *, once: bool = False, poll_seconds: float = 2.0) -> int:
    """The worker loop: run jobs as they come (``once``: until none is waiting).

    It never stops on database errors: it waits and tries again (see :class:`Backoff`)."""
    name = worker_name()
    ran = 0
    last_cleaning: float | None = None
    backoff = Backoff()
    while True:
        try:
            if last_cleaning is None or time.monotonic() - last_cleaning > 3600:
                _housekeeping()
                last_cleaning = time.monotonic()
            with db.write_intent(True), db.new_session() as session:
                job = claim_next(session, name)
            if job is not None:
                log.info("printing job %s (%s certificates)", job.id, job.total)
                run(app, job)
                ran += 1
        except DATABASE_UNAVAILABLE as error:
            _wait(backoff, error, "printing")
            continue
        backoff.reset()
        if job is not None:
            continue
        if once:
            return ran
        _sleep(poll_seconds)
