"""Printing many certificates: in chunks, in parallel processes, resumable.

A batch is cut into chunks of at most ``PRINT_CHUNK_SIZE`` certificates (WeasyPrint's
memory grows with the pages of one document, ~0.43 MiB a page). The app builds each
chunk's HTML; worker processes turn it into PDF and write it to the batch's directory
atomically (temporary file, fsync, rename). A chunk file that exists is finished, so a
batch interrupted by a restart starts again after the last finished chunk and prints
nothing twice. At the end the chunks are joined into one PDF (for the printer) or one
ZIP of a PDF per person.

Worker processes come from a "forkserver" that has imported WeasyPrint once: they start
fast and share nothing with the app's database connections or font caches.
"""

from __future__ import annotations

import multiprocessing
import os
import re
import shutil
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

Progress = Callable[[int, int], None]


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
    temporary.write_bytes(data)
    move_into_place(temporary, path)


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
    with zipfile.ZipFile(temporary, "w", compression=zipfile.ZIP_STORED) as archive:
        for filename, html in files:
            archive.writestr(filename, document.html_to_pdf(html))
    move_into_place(temporary, Path(target))


def _pool(processes: int) -> ProcessPoolExecutor:
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["lms.certificates.document", "weasyprint"])
    return ProcessPoolExecutor(max_workers=processes, mp_context=context)


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
    if fmt == PrintFormat.PDF:
        if len(parts) == 1:
            shutil.copyfile(parts[0], temporary)
        else:
            from pypdf import PdfReader, PdfWriter
            from pypdf.generic import NameObject

            writer = PdfWriter()
            for part in parts:
                writer.append(str(part))
            # The joined document stays PDF/A: it takes the first part's XMP metadata (which
            # declares the conformance), colour profile and language, which append() drops.
            first = PdfReader(str(parts[0])).root_object
            for key in ("/Metadata", "/OutputIntents", "/Lang"):
                if key in first:
                    writer.root_object[NameObject(key)] = first.raw_get(key).clone(writer)
            with open(temporary, "wb") as handle:
                writer.write(handle)
    else:
        with zipfile.ZipFile(temporary, "w", compression=zipfile.ZIP_STORED) as archive:
            for part in parts:
                with zipfile.ZipFile(part) as chunk_archive:
                    for info in chunk_archive.infolist():
                        archive.writestr(info, chunk_archive.read(info))
    move_into_place(temporary, output)
