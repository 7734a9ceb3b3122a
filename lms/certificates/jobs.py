"""Print jobs: batches of certificates rendered by ``flask --app app lms worker``.

A web request only records the job (its certificates, in printing order); a worker
process claims it, renders it chunk by chunk (see :mod:`lms.certificates.batch`) and
records its progress, which the coordinator's page shows. A worker that dies leaves the
job "running" with a heartbeat that stops moving; another worker (or the same one,
restarted) claims it again and carries on from the last finished chunk.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import socket
import time
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa
from flask import Flask, current_app
from sqlalchemy.orm import Session

from lms import db
from lms.audit.service import record
from lms.certificates import batch
from lms.certificates.service import CertificateAction
from lms.models import PrintFormat, PrintJob, PrintJobStatus, User

log = logging.getLogger(__name__)

#: A running job whose worker has not reported for this long is taken over.
STALE_AFTER = timedelta(minutes=5)
#: Finished jobs' files are deleted after this long.
KEEP_FILES_FOR = timedelta(days=7)


def jobs_dir() -> Path:
    return Path(current_app.config["INSTANCE_DIR"]) / "print-jobs"


def job_dir(job: PrintJob) -> Path:
    return jobs_dir() / str(job.id)


def output_path(job: PrintJob) -> Path:
    return job_dir(job) / f"certificates.{job.format.value}"


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
    """Take the oldest waiting (or orphaned) job for worker ``name``; None when idle."""
    candidates = session.scalars(
        sa.select(PrintJob)
        .where(PrintJob.status.in_([PrintJobStatus.QUEUED, PrintJobStatus.RUNNING]))
        .order_by(PrintJob.id)
        .limit(20)
    ).all()
    for job in candidates:
        if job.status == PrintJobStatus.RUNNING and not _orphaned(job):
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
    with db.write_intent(True), db.new_session() as session:
        session.execute(
            sa.update(PrintJob).where(PrintJob.id == job_id).values(done=min(done, total), heartbeat_at=db.utcnow())
        )
        session.commit()


def run(app: Flask, job: PrintJob) -> None:
    """Render a claimed job and mark it done (or failed, with the reason)."""
    ids = json.loads(job.certificate_ids)
    try:
        # Reading only: a long read transaction must not hold SQLite's write lock.
        with db.write_intent(False), db.new_session() as session:
            batch.render_batch(
                session,
                ids,
                job_dir(job),
                output_path(job),
                fmt=job.format,
                title=job.title,
                chunk_size=app.config["PRINT_CHUNK_SIZE"],
                processes=app.config["PRINT_PROCESSES"],
                progress=lambda done, total: _report(app, job.id, done, total),
            )
    except Exception as error:
        log.exception("print job %s failed", job.id)
        _finish(job.id, PrintJobStatus.FAILED, error=f"{type(error).__name__}: {error}"[:500])
        return
    _finish(job.id, PrintJobStatus.DONE)
    for part in job_dir(job).glob("chunk-*"):
        part.unlink()


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
    removed = 0
    for job in session.scalars(
        sa.select(PrintJob).where(PrintJob.finished_at < cutoff, PrintJob.status != PrintJobStatus.RUNNING)
    ):
        if job_dir(job).exists():
            shutil.rmtree(job_dir(job), ignore_errors=True)
            removed += 1
    return removed


def work(app: Flask, *, once: bool = False, poll_seconds: float = 2.0) -> int:
    """The worker loop: run jobs as they come (``once``: until none is waiting)."""
    name = worker_name()
    ran = 0
    last_cleaning = 0.0
    while True:
        with db.write_intent(True), db.new_session() as session:
            job = claim_next(session, name)
            if time.monotonic() - last_cleaning > 3600:
                clean_old_files(session)
                last_cleaning = time.monotonic()
        if job is not None:
            log.info("printing job %s (%s certificates)", job.id, job.total)
            run(app, job)
            ran += 1
            continue
        if once:
            return ran
        time.sleep(poll_seconds)
