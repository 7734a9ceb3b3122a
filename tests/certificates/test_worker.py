"""The print worker stays up: it waits out a database that is away, its rendering
processes never outlive it (not even ``kill -9``), a job it was running when killed
completes after a restart, and what interrupted jobs left on disk is removed."""

from __future__ import annotations

import io
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pypdf
import pytest
import sqlalchemy as sa
from sqlalchemy import orm

from lms import db
from lms.certificates import jobs
from lms.config import ROOT, ConfigError
from lms.models import PrintJob, PrintJobStatus, Role
from tests.certificates.helpers import completed_course, trainees
from tests.conftest import SECRET, login_as

# --- Arranging -----------------------------------------------------------------------------------


def _issue(app, make_user, session, count: int) -> tuple[Any, int]:
    """A coordinator's client and a course with ``count`` issued certificates."""
    coordinator = make_user("coordinator@example.org", roles={Role.COORDINATOR: None}, country="REG")
    trainer = make_user("trainer@example.org", roles={Role.TRAINER: None})
    people = trainees(make_user, [f"Trainee {number:02d} Test" for number in range(count)])
    course = completed_course(session, trainer, people, capacity=count)
    client = app.test_client()
    login_as(client, coordinator)
    client.post(f"/certificates/courses/{course.id}/issue", data={"scope": "all", "language": ""})
    return client, course.id


def _queue(client, course_id: int, fmt: str = "pdf") -> int:
    location = client.post(f"/certificates/courses/{course_id}/print", data={"format": fmt}).headers["Location"]
    return int(location.rstrip("/").rsplit("/", 1)[-1])


def _job(session: orm.Session, job_id: int) -> PrintJob:
    session.rollback()  # a fresh look: the worker writes from elsewhere
    return session.get(PrintJob, job_id, populate_existing=True)


def _unavailable(message: str) -> sa.exc.OperationalError:
    return sa.exc.OperationalError("UPDATE print_jobs ...", {}, Exception(message))


# --- Waiting out the database ------------------------------------------------------------------------


@pytest.fixture
def delays(monkeypatch) -> list[float]:
    """The worker's waits, recorded instead of slept."""
    waited: list[float] = []
    monkeypatch.setattr(jobs, "_sleep", waited.append)
    return waited


def test_the_worker_waits_out_a_busy_database_and_then_prints(app, make_user, session, monkeypatch, delays) -> None:
    client, course_id = _issue(app, make_user, session, 3)
    job_id = _queue(client, course_id)
    original = jobs.claim_next
    failures = iter(["database is locked", "database is locked", "connection refused", "server closed the connection"])

    def flaky_claim(session_: orm.Session, name: str) -> PrintJob | None:
        message = next(failures, None)
        if message is not None:
            raise _unavailable(message)
        return original(session_, name)

    monkeypatch.setattr(jobs, "claim_next", flaky_claim)
    with app.app_context():
        assert jobs.work(app, once=True) == 1  # did not exit on the first four errors
    assert _job(session, job_id).status == PrintJobStatus.DONE
    # 1 s doubling (each between half and all of it, for jitter), then back to polling.
    assert len(delays) == 4
    for delay, ceiling in zip(delays, [1, 2, 4, 8], strict=True):
        assert ceiling / 2 <= delay <= ceiling


def test_the_worker_waits_out_an_unreachable_postgresql(app, make_user, session, monkeypatch, delays) -> None:
    """A real driver error: nothing listens on the port the first attempts go to."""
    client, course_id = _issue(app, make_user, session, 2)
    job_id = _queue(client, course_id)
    with socket.socket() as probe:  # a port that was free a moment ago: connections are refused
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    unreachable = db.create_engine(f"postgresql+psycopg://lms@127.0.0.1:{port}/lms?connect_timeout=2")
    real_new_session = db.new_session
    attempts = iter(range(3))

    def new_session() -> orm.Session:
        if next(attempts, None) is not None:
            return orm.Session(unreachable)
        return real_new_session()

    monkeypatch.setattr(db, "new_session", new_session)
    with app.app_context():
        assert jobs.work(app, once=True) == 1
    unreachable.dispose()
    assert len(delays) == 3
    assert _job(session, job_id).status == PrintJobStatus.DONE


def test_the_database_failing_in_the_middle_of_a_job_does_not_fail_it(
    app, make_user, session, monkeypatch, delays
) -> None:
    client, course_id = _issue(app, make_user, session, 5)
    job_id = _queue(client, course_id)
    app.config.update(PRINT_CHUNK_SIZE=2, PRINT_PROCESSES=1)
    original_finish = jobs._finish
    finishes = iter([_unavailable("database is locked")])

    def flaky_finish(*args: Any, **kwargs: Any) -> None:
        error = next(finishes, None)
        if error is not None:
            raise error
        original_finish(*args, **kwargs)

    from lms.certificates import batch

    original_load = batch.load
    loaded: list[list[int]] = []

    def flaky_load(session_: orm.Session, ids: list[int]) -> list:
        loaded.append(list(ids))
        if len(loaded) == 2:  # PostgreSQL restarts while the first chunk renders
            raise _unavailable("server closed the connection unexpectedly")
        return original_load(session_, ids)

    monkeypatch.setattr(batch, "load", flaky_load)
    monkeypatch.setattr(jobs, "_finish", flaky_finish)
    with app.app_context():
        assert jobs.work(app, once=True) == 1
    job = _job(session, job_id)
    assert job.status == PrintJobStatus.DONE and job.done == 5 and job.error is None
    # Waited twice (the lost connection, then the failed "done"), taking the job up again.
    assert len(delays) == 2
    first, failed, *resumed = loaded
    assert resumed[0] == failed and first not in resumed  # the finished chunk was kept
    assert len(pypdf.PdfReader(io.BytesIO(client.get(f"/certificates/jobs/{job_id}/download").data)).pages) == 5


def test_what_the_worker_does_before_its_loop_waits_for_the_database_too(delays) -> None:
    answers = iter([_unavailable("connection refused"), _unavailable("connection refused"), "head"])

    def check_schema() -> str:
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert jobs.wait_for_database(check_schema, "checking the schema") == "head"
    assert len(delays) == 2

    def wrong_schema() -> None:
        raise ConfigError("The database schema is at 0005, this code needs 0006")

    with pytest.raises(ConfigError):  # not the database's absence: the worker must not start
        jobs.wait_for_database(wrong_schema, "checking the schema")


def test_a_production_worker_starting_while_the_database_is_away_waits_for_it(app, runner, monkeypatch, delays) -> None:
    from lms import migrate

    answers = iter([_unavailable("connection refused"), _unavailable("the database system is starting up")])

    def require_head(app_) -> None:
        error = next(answers, None)
        if error is not None:
            raise error

    monkeypatch.setattr(migrate, "require_head", require_head)
    app.config["LMS_ENV"] = "production"
    result = runner.invoke(args=["lms", "worker", "--once"])
    assert result.exit_code == 0, result.output
    assert "Ran 0 print job(s)." in result.output and len(delays) == 2


def test_a_production_worker_refuses_a_database_of_another_schema(app, runner, monkeypatch, delays) -> None:
    from lms import migrate

    monkeypatch.setattr(migrate, "head_revision", lambda: "9999_from_the_future")
    app.config["LMS_ENV"] = "production"
    result = runner.invoke(args=["lms", "worker", "--once"])
    assert isinstance(result.exception, ConfigError) and "lms init" in str(result.exception)
    assert delays == []


def test_a_database_error_that_is_no_outage_fails_the_job(app, make_user, session, monkeypatch, delays) -> None:
    client, course_id = _issue(app, make_user, session, 2)
    job_id = _queue(client, course_id)
    from lms.certificates import batch

    def broken(session_: orm.Session, ids: list[int]) -> list:
        raise sa.exc.ProgrammingError("SELECT ...", {}, Exception("no such column: certificates.kind"))

    monkeypatch.setattr(batch, "load", broken)
    with app.app_context():
        assert jobs.work(app, once=True) == 1
    job = _job(session, job_id)
    assert job.status == PrintJobStatus.FAILED and "no such column" in job.error
    assert delays == []  # not waited for: waiting would not mend it


def test_progress_not_recorded_while_the_database_is_locked_does_not_stop_printing(app, monkeypatch, caplog) -> None:
    def locked() -> orm.Session:
        raise _unavailable("database is locked")

    monkeypatch.setattr(db, "new_session", locked)
    with app.app_context():
        jobs._report(app, 1, 2, 5)  # returns: the chunks go on rendering
    assert "progress not recorded" in caplog.text and "database is locked" in caplog.text


# --- Leftovers of interrupted jobs ------------------------------------------------------------------


def test_a_worker_starting_removes_what_ended_jobs_left(app, make_user, session, delays) -> None:
    client, course_id = _issue(app, make_user, session, 2)
    ended = {status: _queue(client, course_id) for status in (PrintJobStatus.DONE, PrintJobStatus.FAILED)}
    running_elsewhere = _queue(client, course_id)
    with app.app_context(), db.new_session() as work:
        for status, job_id in ended.items():
            work.get(PrintJob, job_id).status = status
        other = work.get(PrintJob, running_elsewhere)
        # Another worker on this machine, alive (this test's parent process) and reporting.
        other.status, other.worker, other.heartbeat_at = (
            PrintJobStatus.RUNNING,
            f"{socket.gethostname()}:{os.getppid()}",
            db.utcnow(),
        )
        work.commit()
        root = jobs.work_root()
    leftovers = {}
    for job_id in [*ended.values(), running_elsewhere, 9999]:
        directory = root / str(job_id)
        directory.mkdir(parents=True)
        (directory / "chunk-00001.pdf").write_bytes(b"%PDF-")
        (directory / ".chunk-00002.zip.4242.tmp").write_bytes(b"PK")
        leftovers[job_id] = directory
    with app.app_context():
        assert jobs.work(app, once=True) == 0  # nothing to print: the third job is someone else's
    assert not leftovers[ended[PrintJobStatus.DONE]].exists()
    assert not leftovers[ended[PrintJobStatus.FAILED]].exists()
    assert not leftovers[9999].exists()  # a job this database does not know
    assert sorted(path.name for path in leftovers[running_elsewhere].iterdir()) == [
        ".chunk-00002.zip.4242.tmp",
        "chunk-00001.pdf",
    ]


def test_a_resumed_zip_job_removes_its_temporary_files(app, make_user, session, monkeypatch, delays) -> None:
    client, course_id = _issue(app, make_user, session, 4)
    job_id = _queue(client, course_id, fmt="zip")
    app.config.update(PRINT_CHUNK_SIZE=2, PRINT_PROCESSES=1)
    with app.app_context(), db.new_session() as work:
        job = work.get(PrintJob, job_id)
        # Killed while writing its second chunk, after the first: what it left behind.
        job.status, job.worker, job.heartbeat_at = PrintJobStatus.RUNNING, "elsewhere:1", db.utcnow().replace(year=2000)
        work.commit()
        directory = jobs.work_dir(job)
    directory.mkdir(parents=True)
    (directory / ".chunk-00002.zip.31337.tmp").write_bytes(b"PK\x03\x04 half a zip")
    (directory / ".certificates.zip.joining").write_bytes(b"PK")
    seen: list[list[str]] = []
    from lms.certificates import batch

    original = batch._chunk_work

    def watching(session_, chunk, fmt, title):
        seen.append(sorted(path.name for path in directory.iterdir()))
        return original(session_, chunk, fmt, title)

    monkeypatch.setattr(batch, "_chunk_work", watching)
    with app.app_context():
        assert jobs.work(app, once=True) == 1
    assert seen[0] == []  # the temporary files were gone before the first chunk rendered
    assert _job(session, job_id).status == PrintJobStatus.DONE
    assert not directory.exists()  # and the scratch directory once the job was done


def test_a_failed_job_leaves_no_files(app, make_user, session, monkeypatch, delays) -> None:
    client, course_id = _issue(app, make_user, session, 4)
    job_id = _queue(client, course_id, fmt="zip")
    app.config.update(PRINT_CHUNK_SIZE=2, PRINT_PROCESSES=1)
    from lms.certificates import document

    original = document.html_to_pdf
    rendered = iter(range(3))

    def failing(html: str, **kwargs: Any) -> bytes:
        if next(rendered, None) is None:
            raise RuntimeError("out of memory")
        return original(html, **kwargs)

    monkeypatch.setattr(document, "html_to_pdf", failing)  # fails inside the second chunk's ZIP
    with app.app_context():
        assert jobs.work(app, once=True) == 1
        directory = jobs.work_dir(session.get(PrintJob, job_id))
    job = _job(session, job_id)
    assert job.status == PrintJobStatus.FAILED and "out of memory" in job.error
    assert not directory.exists()
    assert client.get(f"/certificates/jobs/{job_id}/download").status_code == 404


# --- The real worker process: kill -9, SIGTERM, restart ---------------------------------------------


def _process_table() -> dict[int, tuple[int, str]]:
    """Every process: pid -> (parent pid, state), from /proc."""
    table = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # ended while we looked
        state, parent = stat.rsplit(")", 1)[1].split()[:2]
        table[int(entry.name)] = (int(parent), state)
    return table


def _descendants(pid: int) -> set[int]:
    table = _process_table()
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, (parent, _state) in table.items() if parent in frontier} - found
        found |= frontier
    return found


def _running(pids: set[int]) -> set[int]:
    """Those of ``pids`` that still run (a zombie, dead and waiting to be reaped, does not)."""
    table = _process_table()
    return {pid for pid in pids if pid in table and table[pid][1] != "Z"}


def _describe(pids: set[int]) -> str:
    table, lines = _process_table(), []
    for pid in sorted(pids):
        try:
            command = (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode()[:200]
        except OSError:
            command = "?"
        lines.append(f"{pid} (parent {table.get(pid, ('?',))[0]}, state {table.get(pid, ('', '?'))[1]}): {command}")
    return "\n".join(lines)


def _wait_for(condition: Callable[[], Any], seconds: float, what: str, log: Path) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}; the worker said:\n{log.read_text()}")


def _wait_until_gone(pids: set[int], log: Path) -> None:
    try:
        _wait_for(lambda: not _running(pids), 10, "the worker's processes to end", log)
    except AssertionError as error:
        raise AssertionError(f"{error}\nStill running:\n{_describe(_running(pids))}") from None


class Worker:
    """``flask lms worker`` in a process of its own, on the test's database and directories."""

    def __init__(self, app, tmp_path: Path) -> None:
        config = {
            "DATABASE_URL": app.config["DATABASE_URL"],
            "SECRET_KEY": SECRET,
            "INSTANCE_DIR": str(app.config["INSTANCE_DIR"]),
            "CONTENT_DIR": str(app.config["CONTENT_DIR"]),
            "PRINT_STORAGE_DIR": str(app.config["PRINT_STORAGE_DIR"]),
            "PRINT_CHUNK_SIZE": 10,
            "PRINT_PROCESSES": 2,
        }
        self.factory = f"lms:create_app({config!r})"
        self.env = {name: value for name, value in os.environ.items() if not name.startswith("LMS_")}
        self.tmp_path = tmp_path
        self.runs = 0

    def start(self, *options: str) -> tuple[subprocess.Popen[bytes], Path]:
        self.runs += 1
        log = self.tmp_path / f"worker-{self.runs}.log"
        with open(log, "wb") as output:
            process = subprocess.Popen(
                [sys.executable, "-m", "flask", "--app", self.factory, "lms", "worker", *options],
                cwd=ROOT,
                env=self.env,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        return process, log


def _rendering(session: orm.Session, job_id: int, process: subprocess.Popen[bytes]) -> set[int] | None:
    """The worker's processes once it renders ``job_id`` in parallel (two renderers at work)."""
    if process.poll() is not None:
        raise AssertionError(f"the worker exited with {process.returncode}")
    children = _descendants(process.pid)
    table = _process_table()
    renderers = {pid for pid in children if table.get(pid, (0, ""))[0] in children}  # the forkserver's children
    if len(renderers) < 2:
        return None
    job = _job(session, job_id)
    if job.status != PrintJobStatus.RUNNING or job.done >= job.total:
        return None
    return _descendants(process.pid)


def test_kill_9_leaves_no_process_and_the_job_completes_after_a_restart(app, make_user, session, tmp_path) -> None:
    client, course_id = _issue(app, make_user, session, 30)
    job_id = _queue(client, course_id)
    worker = Worker(app, tmp_path)

    process, log = worker.start()
    try:
        children = _wait_for(lambda: _rendering(session, job_id, process), 60, "the worker to render", log)
    finally:
        process.kill()  # SIGKILL: no handler runs, nothing is cleaned up by the worker itself
        process.wait()
    # The forkserver sees the worker gone and stops; the kernel kills the renderers with it.
    _wait_until_gone(children, log)
    job = _job(session, job_id)
    assert job.status == PrintJobStatus.RUNNING and job.done < 30, "killed before it finished"

    restarted, log = worker.start("--once")
    assert restarted.wait(timeout=120) == 0, log.read_text()
    assert "Ran 1 print job(s)." in log.read_text()
    job = _job(session, job_id)
    assert job.status == PrintJobStatus.DONE and job.done == 30
    download = client.get(f"/certificates/jobs/{job_id}/download")
    assert len(pypdf.PdfReader(io.BytesIO(download.data)).pages) == 30
    assert not (Path(app.config["INSTANCE_DIR"]) / "print-work" / str(job_id)).exists()
    assert not _descendants(restarted.pid)


def test_sigterm_stops_the_worker_and_its_renderers_at_once(app, make_user, session, tmp_path) -> None:
    client, course_id = _issue(app, make_user, session, 30)
    job_id = _queue(client, course_id)
    process, log = Worker(app, tmp_path).start()
    try:
        children = _wait_for(lambda: _rendering(session, job_id, process), 60, "the worker to render", log)
        process.send_signal(signal.SIGTERM)
        # Not after the chunks in progress: those are abandoned (the job resumes later).
        assert process.wait(timeout=20) == 0, log.read_text()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert "Print worker stopped." in log.read_text()
    _wait_until_gone(children, log)
    assert _job(session, job_id).status == PrintJobStatus.RUNNING  # to be resumed by the next worker
