"""Batch printing: a job queued from the web, run by the worker, with its progress; one
PDF in roster order or a ZIP of one PDF per person; resuming an interrupted job; the
shell command; a joined PDF that is PDF/A-3b; the storage of finished files, shared by
several machines."""

from __future__ import annotations

import errno
import io
import os
import zipfile
from xml.etree import ElementTree

import pypdf
import pytest
import sqlalchemy as sa

from lms import db
from lms.certificates import batch, jobs, storage
from lms.certificates.names import latin_form
from lms.models import Certificate, PrintJob, PrintJobStatus, Role
from lms.text import sort_key
from tests.certificates.helpers import NAMES, completed_course, pdf_pages, trainees
from tests.conftest import login_as, make_test_app

# Deliberately out of alphabetical order: printing follows the roster (alphabetical).
PEOPLE = ["Zoran Zorić", "Ana Anić", "Ђорђе Јовановић", "Marija Marić", "Arbër Çela"]


@pytest.fixture
def issued(app, make_user, session):
    coordinator = make_user("coordinator@example.org", roles={Role.COORDINATOR: None}, country="REG")
    trainer = make_user("trainer@example.org", roles={Role.TRAINER: None})
    course = completed_course(session, trainer, trainees(make_user, PEOPLE))
    client = app.test_client()
    login_as(client, coordinator)
    client.post(f"/certificates/courses/{course.id}/issue", data={"scope": "all", "language": ""})
    return client, course


def _run_worker(app) -> int:
    with app.app_context():
        return jobs.work(app, once=True)


def test_print_a_course_in_one_pdf_through_the_worker(app, session, issued) -> None:
    client, course = issued
    response = client.post(f"/certificates/courses/{course.id}/print", data={"format": "pdf"})
    assert response.status_code == 302
    job_url = response.headers["Location"]
    page = client.get(job_url).get_data(as_text=True)
    assert "Waiting" in page and "0 of 5 certificates" in page
    assert client.get(f"{job_url}/download").status_code == 404  # not ready yet

    app.config["PRINT_CHUNK_SIZE"] = 2  # three chunks, joined at the end
    assert _run_worker(app) == 1
    status = client.get(f"{job_url}/status").get_json()
    assert status == {"status": "done", "done": 5, "total": 5, "percent": 100}
    assert "Download the PDF" in client.get(job_url).get_data(as_text=True)
    download = client.get(f"{job_url}/download")
    assert download.mimetype == "application/pdf"
    pages = pdf_pages(download.data)
    assert len(pages) == len(PEOPLE)
    # An English-only certificate prints the Cyrillic name in Latin letters.
    printed = [latin_form(name, None, "RS") for name in sorted(PEOPLE, key=sort_key)]
    # Latin names in the region's order (ç after c), then Cyrillic ones.
    assert printed == ["Ana Anić", "Arbër Çela", "Marija Marić", "Zoran Zorić", "Đorđe Jovanović"]
    assert all(name in page for name, page in zip(printed, pages, strict=True))


def test_a_zip_holds_one_pdf_per_person(app, session, issued) -> None:
    client, course = issued
    job_url = client.post(f"/certificates/courses/{course.id}/print", data={"format": "zip"}).headers["Location"]
    _run_worker(app)
    download = client.get(f"{job_url}/download")
    assert download.mimetype == "application/zip"
    with zipfile.ZipFile(io.BytesIO(download.data)) as archive:
        names = archive.namelist()
        assert len(names) == len(PEOPLE)
        assert all(name.startswith("RNGT-") and name.endswith(".pdf") for name in names)
        assert "RNGT-" in names[0] and "ana-anic" in names[0]
        assert all(len(pdf_pages(archive.read(name))) == 1 for name in names)


def test_revoked_certificates_are_not_printed(app, session, issued) -> None:
    client, course = issued
    certificate = session.scalar(sa.select(Certificate).where(Certificate.course_id == course.id))
    client.post(
        f"/certificates/{certificate.id}/revoke",
        data={"revoke-reason": "Duplicate person record", "revoke-csrf_token": client.csrf_token()},
    )
    job_url = client.post(f"/certificates/courses/{course.id}/print", data={"format": "pdf"}).headers["Location"]
    _run_worker(app)
    assert len(pdf_pages(client.get(f"{job_url}/download").data)) == len(PEOPLE) - 1


def test_an_interrupted_job_resumes_without_printing_anything_twice(app, session, issued, monkeypatch) -> None:
    client, course = issued
    job_url = client.post(f"/certificates/courses/{course.id}/print", data={"format": "pdf"}).headers["Location"]
    app.config.update(PRINT_CHUNK_SIZE=2, PRINT_PROCESSES=1)
    rendered: list[list[int]] = []
    original = batch._chunk_work

    def counting(session_, chunk, fmt, title):
        rendered.append(chunk.certificate_ids)
        if len(rendered) == 2:
            raise SystemExit("the machine restarts")  # not an Exception: nothing marks the job failed
        return original(session_, chunk, fmt, title)

    monkeypatch.setattr(batch, "_chunk_work", counting)
    with pytest.raises(SystemExit):
        _run_worker(app)
    session.rollback()
    job = session.scalar(sa.select(PrintJob))
    assert job.status == PrintJobStatus.RUNNING and job.done == 2
    # The worker process is gone; its heartbeat stops. A new worker takes the job over.
    job.heartbeat_at = job.heartbeat_at.replace(year=job.heartbeat_at.year - 1)
    session.commit()
    _run_worker(app)
    first, interrupted, *resumed = rendered
    assert resumed[0] == interrupted and len(resumed) == 2  # the second chunk again, then the third
    assert first not in resumed  # the finished chunk was not rendered again
    status = client.get(f"{job_url}/status").get_json()
    assert status["status"] == "done" and status["done"] == 5
    assert len(pdf_pages(client.get(f"{job_url}/download").data)) == len(PEOPLE)


def test_only_the_coordinator_who_printed_sees_the_job(app, make_user, session, issued) -> None:
    client, course = issued
    job_url = client.post(f"/certificates/courses/{course.id}/print", data={"format": "pdf"}).headers["Location"]
    other = app.test_client()
    login_as(other, make_user("coord.rs@example.org", roles={Role.COORDINATOR: "RS"}, country="RS"))
    assert other.get(job_url).status_code == 404
    assert other.get(f"{job_url}/status").status_code == 404


def test_the_shell_command_prints_a_course(app, session, issued, runner, tmp_path) -> None:
    _client, course = issued
    output = tmp_path / "course.pdf"
    result = runner.invoke(
        args=[
            "lms",
            "certificates",
            "print",
            "--course",
            str(course.id),
            "--output",
            str(output),
            "--chunk-size",
            "2",
            "--processes",
            "2",
        ]
    )
    assert result.exit_code == 0, result.output
    assert f"Wrote {len(PEOPLE)} certificates" in result.output
    assert len(pdf_pages(output.read_bytes())) == len(PEOPLE)
    assert not list(tmp_path.glob(".course.pdf.parts"))
    missing = runner.invoke(args=["lms", "certificates", "print", "--course", "99999", "--output", str(output)])
    assert missing.exit_code != 0 and "No course" in missing.output


def test_certificates_for_the_names_of_the_region_in_one_batch(app, make_user, session, runner, tmp_path) -> None:
    make_user("coordinator@example.org", roles={Role.COORDINATOR: None}, country="REG")
    trainer = make_user("trainer@example.org", roles={Role.TRAINER: None})
    course = completed_course(session, trainer, trainees(make_user, NAMES))
    with app.app_context():
        from lms.certificates import eligibility, service

        work = db.new_session()
        service.issue(
            work, eligibility.course_achievements(work, work.get(type(course), course.id)), actor=None, language="mk"
        )
        work.commit()
        work.close()
    output = tmp_path / "names.pdf"
    result = runner.invoke(args=["lms", "certificates", "print", "--course", str(course.id), "--output", str(output)])
    assert result.exit_code == 0, result.output
    text = "\n".join(pdf_pages(output.read_bytes()))
    # A Macedonian certificate: Macedonian transliteration (Đ -> Ѓ, ć -> ќ) of a Latin name.
    for name in ["Ђорђе Јовановић", "Љубица Стојановска", "Љиљана Ѓукановиќ", "Arbër Çela", "Ljiljana Đukanović"]:
        assert name in text


# --- PDF/A-3b ------------------------------------------------------------------------------------

XMP_NAMESPACES = {
    "dc": "http://purl.org/dc/elements/1.1/",
    "pdf": "http://ns.adobe.com/pdf/1.3/",
    "pdfaid": "http://www.aiim.org/pdfa/ns/id/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "xmp": "http://ns.adobe.com/xap/1.0/",
}
#: Document information entries and the XMP properties that must say the same (ISO 19005-3, 6.6.2.3.1).
INFO_IN_XMP = {
    "/Title": "dc:title",
    "/Author": "dc:creator",
    "/Subject": "dc:description",
    "/Keywords": "pdf:Keywords",
    "/Creator": "xmp:CreatorTool",
    "/Producer": "pdf:Producer",
    "/CreationDate": "xmp:CreateDate",
    "/ModDate": "xmp:ModifyDate",
}


def xmp_property(xmp: ElementTree.Element, name: str) -> str | None:
    """A property of the XMP packet, written as an attribute or as an element (first value)."""
    prefix, local = name.split(":")
    qualified = f"{{{XMP_NAMESPACES[prefix]}}}{local}"
    for description in xmp.iter(f"{{{XMP_NAMESPACES['rdf']}}}Description"):
        if qualified in description.attrib:
            return description.attrib[qualified]
        element = description.find(qualified)
        if element is not None:
            values = [item.text or "" for item in element.iter(f"{{{XMP_NAMESPACES['rdf']}}}li")]
            return values[0] if values else (element.text or "")
    return None


def assert_pdf_a_3b(data: bytes, *, title: str) -> pypdf.PdfReader:
    """What makes a file PDF/A-3b, read from its structure."""
    header, binary_comment = data.split(b"\n", 2)[:2]
    assert header == b"%PDF-1.7"
    assert binary_comment.startswith(b"%") and all(byte >= 128 for byte in binary_comment[1:5])
    reader = pypdf.PdfReader(io.BytesIO(data))
    identifier = reader.trailer["/ID"]
    first, second = (part.get_object().original_bytes for part in identifier)
    assert len(identifier) == 2 and len(first) >= 16 and first == second  # two equal strings
    catalogue = reader.root_object
    intent = catalogue["/OutputIntents"][0].get_object()
    assert intent["/S"] == "/GTS_PDFA1" and "/DestOutputProfile" in intent
    assert catalogue["/Lang"]
    xmp = ElementTree.fromstring(catalogue["/Metadata"].get_object().get_data())  # noqa: S314 (our own file)
    assert xmp_property(xmp, "pdfaid:part") == "3" and xmp_property(xmp, "pdfaid:conformance") == "B"
    info = reader.metadata
    assert info is not None and set(info) <= set(INFO_IN_XMP)
    for key, value in info.items():
        assert xmp_property(xmp, INFO_IN_XMP[key]) == value, key
    # One producer: the renderer's, in both places; not the library that joined the chunks.
    assert info["/Producer"].startswith("WeasyPrint ")
    assert info["/Title"] == title
    assert b"pypdf" not in catalogue["/Metadata"].get_object().get_data()
    return reader


def test_a_batch_joined_from_chunks_is_still_pdf_a(app, session, issued) -> None:
    client, course = issued
    job_url = client.post(f"/certificates/courses/{course.id}/print", data={"format": "pdf"}).headers["Location"]
    app.config.update(PRINT_CHUNK_SIZE=2, PRINT_PROCESSES=2)  # three chunks, two of them at once
    _run_worker(app)
    reader = assert_pdf_a_3b(client.get(f"{job_url}/download").data, title=course.title)
    assert len(reader.pages) == len(PEOPLE)


def test_the_shell_command_joins_a_pdf_a_as_well(app, session, issued, runner, tmp_path) -> None:
    _client, course = issued
    output = tmp_path / "joined.pdf"
    args = ["lms", "certificates", "print", "--course", str(course.id), "--output", str(output), "--chunk-size", "2"]
    assert runner.invoke(args=[*args, "--processes", "1"]).exit_code == 0
    assert len(assert_pdf_a_3b(output.read_bytes(), title=course.title).pages) == len(PEOPLE)


def test_one_chunk_is_the_renderer_s_own_pdf_a(app, session, issued, runner, tmp_path) -> None:
    _client, course = issued
    output = tmp_path / "one.pdf"
    assert runner.invoke(args=["lms", "certificates", "print", "--course", str(course.id), "--output", str(output)])
    assert len(assert_pdf_a_3b(output.read_bytes(), title=course.title).pages) == len(PEOPLE)


# --- Storage of finished files ----------------------------------------------------------------------


def test_a_worker_on_another_machine_prints_what_the_web_machine_hands_out(
    app, session, issued, database_url, content_dir, tmp_path
) -> None:
    """Two machines share the database and the print storage (a mount), not instance/."""
    client, course = issued
    shared = tmp_path / "shared-mount"
    app.config["PRINT_STORAGE_DIR"] = shared
    job_url = client.post(f"/certificates/courses/{course.id}/print", data={"format": "zip"}).headers["Location"]
    other_machine = make_test_app(database_url, tmp_path / "worker-machine", CONTENT_DIR=content_dir)
    other_machine.config.update(PRINT_STORAGE_DIR=shared, PRINT_CHUNK_SIZE=2, PRINT_PROCESSES=1)
    try:
        assert _run_worker(other_machine) == 1
    finally:
        other_machine.extensions["lms.engine"].dispose()
    download = client.get(f"{job_url}/download")
    assert download.status_code == 200 and download.mimetype == "application/zip"
    with zipfile.ZipFile(io.BytesIO(download.data)) as archive:
        assert len(archive.namelist()) == len(PEOPLE)
    job_id = job_url.rstrip("/").rsplit("/", 1)[-1]
    assert sorted(path.name for path in (shared / job_id).iterdir()) == ["certificates.zip"]
    # The worker's scratch (its chunks) stayed on its own disk, and is gone.
    assert list((tmp_path / "worker-machine" / "instance" / "print-work").iterdir()) == []
    assert not (tmp_path / "instance" / "print-work").exists()


def test_local_storage_keeps_a_file_under_a_key(tmp_path, monkeypatch) -> None:
    store = storage.LocalStorage(tmp_path / "store")
    source = tmp_path / "made.pdf"
    source.write_bytes(b"%PDF- one")
    assert not store.exists("7/certificates.pdf")
    store.save("7/certificates.pdf", source)
    with store.open("7/certificates.pdf") as handle:
        assert handle.read() == b"%PDF- one"
    # Another file system (a mount): copied beside the target, then renamed into place,
    # after removing what an earlier, interrupted save of the key left.
    (tmp_path / "store" / "7" / ".certificates.pdf.999.tmp").write_bytes(b"half")
    source.write_bytes(b"%PDF- two")
    real_replace = os.replace

    def across_devices(src, dst):
        if str(src) == str(source):
            raise OSError(errno.EXDEV, "Invalid cross-device link")
        return real_replace(src, dst)

    monkeypatch.setattr(storage.os, "replace", across_devices)
    store.save("7/certificates.pdf", source)
    assert sorted(path.name for path in (tmp_path / "store" / "7").iterdir()) == ["certificates.pdf"]
    with store.open("7/certificates.pdf") as handle:
        assert handle.read() == b"%PDF- two"
    assert not source.exists()
    store.delete("7/certificates.pdf")
    store.delete("7/certificates.pdf")  # nothing there: nothing happens
    assert not store.exists("7/certificates.pdf") and not (tmp_path / "store" / "7").exists()
    with pytest.raises(FileNotFoundError):
        store.open("7/certificates.pdf")
    for key in ("../outside.pdf", "/etc/passwd", ".hidden", "7/../../x", "7//x", ""):
        with pytest.raises(ValueError):
            store.path(key)
