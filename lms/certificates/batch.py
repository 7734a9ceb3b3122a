"""Printing many certificates: in chunks, in parallel processes, resumable.

A batch is cut into chunks of at most ``PRINT_CHUNK_SIZE`` certificates (WeasyPrint's
memory grows with the pages of one document, ~0.43 MiB a page). The app builds each
chunk's HTML; worker processes turn it into PDF and write it to the batch's directory
atomically (temporary file, fsync, rename). A chunk file that exists is finished, so a
batch interrupted by a restart starts again after the last finished chunk and prints
nothing twice. At the end the chunks are joined into one PDF (for the printer) or one
ZIP of a PDF per person.

Worker processes come from a "forkserver" that has imported WeasyPrint once: they start
fast and share nothing with the app's database connections or font caches. They never
outlive the app process that started them, even after ``kill -9``: each watches it (a
``pidfd``) and kills itself when it is gone. Their parent is the forkserver, which would
otherwise wait for them forever (they keep it open), so they also ask the kernel to kill
them when it dies (``PR_SET_PDEATHSIG``). An interrupted batch (an error, Ctrl-C, SIGTERM)
terminates them rather than waiting for the chunks in progress.

Temporary files (names beginning with a dot) are what an interrupted write leaves behind:
a batch that starts or resumes removes those of its directory first.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import multiprocessing
import os
import re
import select
import shutil
import signal
import sys
import threading
import time
import zipfile
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from lms.certificates import document
from lms.models import Certificate, PrintFormat
from lms.text import fold_for_search

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]

#: ``prctl`` option: the signal the kernel sends a process when its parent dies (linux/prctl.h).
PR_SET_PDEATHSIG = 1


@dataclass(frozen=True)
class Chunk:
    index: int
    certificate_ids: list[int]

    @property
    def name(self) -> str:
        return f"chunk-{self.index:05d}"


def chunks(certificate_ids: Sequence[int], size: int) -> list[Chunk]:
    return [
        Chunk(index, list(certificate_ids[start : start + size]))
        for index, start in enumerate(range(0, len(certificate_ids), size), start=1)
    ]


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` so that ``path`` is either absent or complete, even after a crash."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        temporary.write_bytes(data)
        move_into_place(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def move_into_place(temporary: Path, path: Path) -> None:
    """Flush ``temporary`` to disk and rename it to ``path`` (atomic on POSIX)."""
    with open(temporary, "rb+") as handle:
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def remove_temporary_files(directory: Path) -> None:
    """Remove what interrupted writes left in ``directory``: every name beginning with a dot."""
    if not directory.is_dir():
        return
    for entry in directory.iterdir():
        if not entry.name.startswith("."):
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)


def pdf_filename(certificate: Certificate) -> str:
    """A file name safe everywhere: the serial and the holder's name in plain letters."""
    name = re.sub(r"[^a-z0-9]+", "-", fold_for_search(certificate.current.holder_name)).strip("-")[:60]
    return f"{certificate.serial}-{name or 'certificate'}.pdf"


def load(session: Session, certificate_ids: Sequence[int]) -> list[Certificate]:
    """The certificates, in the order of ``certificate_ids``."""
    rows = session.scalars(
        sa.select(Certificate).where(Certificate.id.in_(certificate_ids)).options(selectinload(Certificate.revisions))
    ).all()
    by_id = {row.id: row for row in rows}
    return [by_id[certificate_id] for certificate_id in certificate_ids if certificate_id in by_id]


# --- In the worker processes -------------------------------------------------------------------


def _render_pdf_chunk(html: str, target: str) -> None:
    write_atomically(Path(target), document.html_to_pdf(html))


def _render_zip_chunk(files: list[tuple[str, str]], target: str) -> None:
    # PDFs are compressed already: stored as they are.
    temporary = Path(target).with_name(f".{Path(target).name}.{os.getpid()}.tmp")
    try:
        with zipfile.ZipFile(temporary, "w", compression=zipfile.ZIP_STORED) as archive:
            for filename, html in files:
                archive.writestr(filename, document.html_to_pdf(html))
        move_into_place(temporary, Path(target))
    finally:
        temporary.unlink(missing_ok=True)


def _end_with_app(app_pid: int) -> None:
    """Initializer of each rendering process: never outlive the app process ``app_pid``."""
    # Ctrl-C in a terminal reaches the whole process group: the app stops the renderers.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        # Killed when the forkserver, the parent, dies.
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
            log.warning("prctl(PR_SET_PDEATHSIG) failed: %s", os.strerror(ctypes.get_errno()))
    # Killed with the app process, which is not the parent: watched from a thread.
    try:
        watched: int | None = os.pidfd_open(app_pid)  # readable once the process has ended
    except ProcessLookupError:
        os._exit(1)  # ended already
    except (AttributeError, OSError):
        watched = None  # before Linux 5.3, or not Linux: look once a second
    threading.Thread(target=_exit_with, args=(app_pid, watched), name="exit-with-app", daemon=True).start()


def _exit_with(app_pid: int, watched: int | None) -> None:
    if watched is not None:
        select.select([watched], [], [])
    else:
        while _alive(app_pid):
            time.sleep(1)
    os.kill(os.getpid(), signal.SIGKILL)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextlib.contextmanager
def _pool(processes: int) -> Iterator[ProcessPoolExecutor]:
    """A pool of rendering processes, terminated (not awaited) when the block fails."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["lms.certificates.document", "weasyprint"])
    pool = ProcessPoolExecutor(
        max_workers=processes, mp_context=context, initializer=_end_with_app, initargs=(os.getpid(),)
    )
    try:
        yield pool
    except BaseException:
        _terminate(pool)
        raise
    pool.shutdown(wait=True)


def _terminate(pool: ProcessPoolExecutor) -> None:
    """Stop the pool now, killing the chunks in progress (Python 3.14's terminate_workers())."""
    # No public way to reach the processes before Python 3.14.
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        with contextlib.suppress(ProcessLookupError, ValueError):
            process.terminate()
    for process in processes:
        with contextlib.suppress(ValueError):
            process.join(timeout=5)
            if process.is_alive():
                process.kill()
                process.join(timeout=5)


# --- In the app --------------------------------------------------------------------------------


def _chunk_work(session: Session, chunk: Chunk, fmt: PrintFormat, title: str) -> tuple[Callable[..., None], object]:
    certificates = load(session, chunk.certificate_ids)
    if fmt == PrintFormat.PDF:
        printed = [document.printed(certificate) for certificate in certificates]
        return _render_pdf_chunk, document.certificates_html(printed, title=title)
    files = [
        (
            pdf_filename(certificate),
            document.certificates_html([document.printed(certificate)], title=certificate.serial),
        )
        for certificate in certificates
    ]
    return _render_zip_chunk, files


def render_batch(
    session: Session,
    certificate_ids: Sequence[int],
    work_dir: Path,
    output: Path,
    *,
    fmt: PrintFormat = PrintFormat.PDF,
    title: str,
    chunk_size: int,
    processes: int,
    progress: Progress | None = None,
) -> None:
    """Render ``certificate_ids`` into ``output``, keeping finished chunks in ``work_dir``."""
    work_dir.mkdir(parents=True, exist_ok=True)
    # A batch interrupted while writing leaves temporary files; finished chunks are kept.
    remove_temporary_files(work_dir)
    plan = chunks(certificate_ids, chunk_size)
    suffix = ".pdf" if fmt == PrintFormat.PDF else ".zip"
    paths = {chunk.index: work_dir / f"{chunk.name}{suffix}" for chunk in plan}
    done = sum(len(chunk.certificate_ids) for chunk in plan if paths[chunk.index].exists())
    total = len(certificate_ids)
    if progress:
        progress(done, total)
    todo = [chunk for chunk in plan if not paths[chunk.index].exists()]

    if processes <= 1 or len(todo) <= 1:
        for chunk in todo:
            render, work = _chunk_work(session, chunk, fmt, title)
            render(work, str(paths[chunk.index]))
            done += len(chunk.certificate_ids)
            if progress:
                progress(done, total)
    else:
        with _pool(processes) as pool:
            pending: dict[Future[None], Chunk] = {}
            queue: Iterator[Chunk] = iter(todo)
            # At most one chunk waiting per process: the HTML of the others is not built yet.
            for chunk in queue:
                render, work = _chunk_work(session, chunk, fmt, title)
                pending[pool.submit(render, work, str(paths[chunk.index]))] = chunk
                if len(pending) >= 2 * processes:
                    break
            while pending:
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    chunk = pending.pop(future)
                    future.result()
                    done += len(chunk.certificate_ids)
                    if progress:
                        progress(done, total)
                    following = next(queue, None)
                    if following is not None:
                        render, work = _chunk_work(session, following, fmt, title)
                        pending[pool.submit(render, work, str(paths[following.index]))] = following
    _join([paths[chunk.index] for chunk in plan], output, fmt)


def _join(parts: list[Path], output: Path, fmt: PrintFormat) -> None:
    temporary = output.with_name(f".{output.name}.joining")
    try:
        if fmt == PrintFormat.PDF:
            if len(parts) == 1:
                shutil.copyfile(parts[0], temporary)
            else:
                join_pdf_a(parts, temporary)
        else:
            with zipfile.ZipFile(temporary, "w", compression=zipfile.ZIP_STORED) as archive:
                for part in parts:
                    with zipfile.ZipFile(part) as chunk_archive:
                        for info in chunk_archive.infolist():
                            archive.writestr(info, chunk_archive.read(info))
        move_into_place(temporary, output)
    finally:
        temporary.unlink(missing_ok=True)


def join_pdf_a(parts: list[Path], output: Path) -> None:
    """Join PDF/A-3b files made by WeasyPrint into one that is PDF/A-3b as well.

    ``PdfWriter.append()`` keeps the pages only: the catalogue's XMP metadata (which
    declares the conformance), colour profile (output intent) and language come from the
    first part, and so does the document information, so that it says what the XMP says
    (one producer, one title). PDF/A also needs the trailer's ``/ID``, which pypdf writes
    only when asked.
    """
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import NameObject

    writer = PdfWriter()
    for part in parts:
        writer.append(str(part))
    first = PdfReader(str(parts[0]))
    catalogue = first.root_object
    for key in ("/Metadata", "/OutputIntents", "/Lang", "/MarkInfo", "/ViewerPreferences"):
        if key in catalogue:
            writer.root_object[NameObject(key)] = catalogue.raw_get(key).clone(writer)
    writer.metadata = first.metadata or {}
    writer.pdf_header = first.pdf_header
    # Two equal random 16-byte strings: a new file's identifier (ISO 32000-1, 14.4).
    writer.generate_file_identifiers()
    with open(output, "wb") as handle:
        writer.write(handle)
