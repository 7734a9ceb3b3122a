"""Certificates: time per certificate, a batch of 500 as one PDF, and a year of 4,700.

Every figure of the app is set against a floor measured in the same run: bare WeasyPrint
rendering the very same HTML (what the app's templates produce), with nothing of the app
around it (no database, no Jinja, no QR code, no static-files-only fetcher, no files).
Each measurement runs in a fresh process so that its peak memory (RSS) is its own; the
year's print is the real shell command, whose peak is summed over its worker processes.

    .venv/bin/python bench/certificates.py [--batch 500] [--large 2000] [--year 4700] [--processes 2]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import BIN, ROOT

FIRST = ["Ana", "Ljiljana", "Đorđe", "Marko", "Jelena", "Arbër", "Besa", "Нина", "Ђорђе", "Ѓорѓи", "Milica", "Tarik"]
LAST = ["Jovanović", "Đukanović", "Petrović", "Çela", "Hadžić", "Стојановска", "Николић", "Krasniqi", "Šarić", "Ćosić"]
SINGLE_RUNS = 15


# --- Set-up: a database with one course and N certificates -------------------------------------


def _app(database: str, instance: str):  # type: ignore[no-untyped-def]
    sys.path.insert(0, str(ROOT))
    from lms import create_app

    return create_app(
        {"DATABASE_URL": database, "INSTANCE_DIR": Path(instance), "PUBLIC_URL": "https://lms.example.org"}
    )


def prepare(database: str, instance: str, count: int) -> None:
    """People of the region, one completed course each batch of 500 (as a year would have),
    certificates issued through the app's own service, with signatories."""
    from datetime import date, timedelta

    import sqlalchemy as sa

    app = _app(database, instance)
    from lms import db, migrate
    from lms.certificates import eligibility, service
    from lms.models import Country, Course, CourseMode, CourseStatus, EnrolmentMode, Signatory, User
    from lms.models.people import derived_name_columns
    from lms.reference import load_reference_data

    with app.app_context():
        migrate.upgrade(db.get_engine())
        with db.new_session() as session:
            load_reference_data(session)
            countries = {c.code: c.id for c in session.scalars(sa.select(Country))}
            session.add(Signatory(name="Ivana Marković", function="Coordinator, Regional Network of Gender Trainers"))
            rows = []
            for n in range(count):
                name = f"{FIRST[n % len(FIRST)]} {LAST[n // len(FIRST) % len(LAST)]}"
                email = f"person{n}@bench.example.org"
                rows.append(
                    {"full_name": name, "email": email, "country_id": countries[["BA", "ME", "MK", "RS"][n % 4]],
                     "sex": ["female", "male"][n % 2], **derived_name_columns(name, None, email)}
                )  # fmt: skip
            session.execute(sa.insert(User), rows)
            people = list(session.scalars(sa.select(User).order_by(User.id)))
            for start in range(0, count, 500):
                course = Course(
                    title=f"Gender equality in the armed forces: basic course {start // 500 + 1}",
                    country_id=countries["RS"], mode=CourseMode.IN_PERSON, language="sr-Latn",
                    start_date=date(2026, 3, 2), end_date=date(2026, 3, 4), capacity=500,
                    enrolment_mode=EnrolmentMode.TRAINER_ONLY, status=CourseStatus.COMPLETED,
                )  # fmt: skip
                session.add(course)
                session.flush()
                achievements = [
                    eligibility.Achievement(
                        kind=eligibility.AchievementKind.COURSE,
                        key=eligibility.course_key(course.id),
                        holder=person,
                        title=course.title,
                        minutes=21 * 60,
                        start_date=course.start_date,
                        end_date=course.start_date + timedelta(days=2),
                        country_id=course.country_id,
                        issuers=[eligibility.NETWORK, "Military Academy, University of Defence"],
                        modules=[{"title": f"Module {m}", "version": 2} for m in range(1, 6)],
                        course_id=course.id,
                    )
                    for person in people[start : start + 500]
                ]
                service.issue(
                    session, achievements, actor=None, language=["sr-Cyrl", "mk", "sq", None][start // 500 % 4]
                )
            session.commit()


# --- Measurements, each in its own process --------------------------------------------------------


def _ids(count: int) -> list[int]:
    import sqlalchemy as sa

    from lms import db
    from lms.models import Certificate

    with db.new_session() as session:
        return list(session.scalars(sa.select(Certificate.id).order_by(Certificate.id).limit(count)))


def _html(ids: list[int]) -> str:
    from lms import db
    from lms.certificates import batch, document

    with db.new_session() as session:
        return document.certificates_html([document.printed(c) for c in batch.load(session, ids)], title="Bench")


def measure(database: str, instance: str, what: str, count: int) -> dict[str, float]:
    app = _app(database, instance)
    import weasyprint

    from lms.certificates import batch, document, files

    with app.app_context():
        ids = _ids(count)
        document.preload()
        if what == "single-bare":
            html = _html(ids[:1])
            times = []
            for _ in range(SINGLE_RUNS):
                started = time.perf_counter()
                weasyprint.HTML(string=html, base_url=document.STATIC_BASE_URL).write_pdf(pdf_variant="pdf/a-3b")
                times.append(time.perf_counter() - started)
            return {"median": statistics.median(times)}
        if what == "single-app":
            # The download path, without its on-disk cache: database, Jinja, QR, fetcher, PDF.
            from lms import db

            times = []
            with db.new_session() as session:
                certificates = batch.load(session, ids[:SINGLE_RUNS])
                for certificate in certificates:
                    started = time.perf_counter()
                    document.render_certificates([(certificate, None)], title=certificate.serial)
                    times.append(time.perf_counter() - started)
                files.certificate_pdf(certificates[0])  # cache the first, then serve it
                started = time.perf_counter()
                files.certificate_pdf(certificates[0])
                cached = time.perf_counter() - started
            return {"median": statistics.median(times), "cached": cached}
        if what == "batch-bare":
            html = _html(ids)
            started = time.perf_counter()
            weasyprint.HTML(string=html, base_url=document.STATIC_BASE_URL).write_pdf(pdf_variant="pdf/a-3b")
            return {"seconds": time.perf_counter() - started}
        if what == "batch-app":
            from lms import db
            from lms.models import PrintFormat

            work = Path(tempfile.mkdtemp(prefix="bench-batch-"))
            started = time.perf_counter()
            with db.new_session() as session:
                batch.render_batch(
                    session, ids, work, work / "out.pdf", fmt=PrintFormat.PDF, title="Bench",
                    chunk_size=max(count, 1) if count <= 500 else 100, processes=1,
                )  # fmt: skip
            return {"seconds": time.perf_counter() - started, "bytes": (work / "out.pdf").stat().st_size}
    raise ValueError(what)


def _run_child(database: str, instance: str, what: str, count: int) -> dict[str, float]:
    process = subprocess.Popen(
        [
            sys.executable,
            __file__,
            "--child",
            what,
            "--count",
            str(count),
            "--database",
            database,
            "--instance",
            instance,
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
    )
    _pid, status, usage = os.wait4(process.pid, 0)
    output = process.stdout.read()  # type: ignore[union-attr]
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        raise SystemExit(f"{what} failed")
    result = json.loads(output.decode().strip().splitlines()[-1])
    result["peak_mib"] = usage.ru_maxrss / 1024
    return result


def _tree_memory_mib(root: int) -> tuple[float, float]:
    """The memory of ``root`` and all its descendants, from /proc: the sum of their PSS
    (proportional set size: pages shared by forked processes counted once, which is what
    the machine has to have) and the plain sum of their RSS (shared pages counted again in
    every process, an overestimate)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                ppid = int(handle.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    pss = rss = 0
    stack = [root]
    while stack:
        pid = stack.pop()
        stack.extend(children.get(pid, []))
        try:
            with open(f"/proc/{pid}/smaps_rollup") as handle:
                for line in handle:
                    if line.startswith("Pss:"):
                        pss += int(line.split()[1])
                    elif line.startswith("Rss:"):
                        rss += int(line.split()[1])
        except OSError:
            continue
    return pss / 1024, rss / 1024


def year_print(database: str, instance: str, processes: int) -> dict[str, float]:
    """``flask lms certificates print --year`` as an administrator would run it."""
    output = Path(tempfile.mkdtemp(prefix="bench-year-")) / "year.pdf"
    env = {**os.environ, "LMS_DATABASE_URL": database, "LMS_PUBLIC_URL": "https://lms.example.org"}
    year = time.gmtime().tm_year
    command = [str(BIN / "flask"), "--app", "app", "lms", "certificates", "print", "--year", str(year),
               "--output", str(output), "--processes", str(processes)]  # fmt: skip
    peak = peak_rss = 0.0
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, env=env, stderr=subprocess.PIPE)
    done = threading.Event()

    def sample() -> None:
        nonlocal peak, peak_rss
        while not done.is_set():
            pss, rss = _tree_memory_mib(process.pid)
            peak, peak_rss = max(peak, pss), max(peak_rss, rss)
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _out, errors = process.communicate()
    done.set()
    sampler.join()
    if process.returncode:
        raise SystemExit(errors.decode()[-2000:])
    import pypdf

    pages = len(pypdf.PdfReader(output).pages)
    return {
        "seconds": time.perf_counter() - started,
        "peak_mib": peak,
        "peak_rss_mib": peak_rss,
        "pages": pages,
        "bytes": output.stat().st_size,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--large", type=int, default=2000)
    parser.add_argument("--year", type=int, default=4700)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--child")
    parser.add_argument("--count", type=int, default=1)
    parser.add_argument("--database")
    parser.add_argument("--instance")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.database, args.instance, args.child, args.count)))
        return

    workdir = Path(tempfile.mkdtemp(prefix="bench-certificates-"))
    database = f"sqlite:///{workdir / 'bench.sqlite3'}"
    instance = str(workdir / "instance")
    total = max(args.batch, args.large, args.year)
    started = time.perf_counter()
    prepare(database, instance, total)
    print(f"Set-up: {total} certificates issued in {time.perf_counter() - started:.1f} s (not part of the figures)")

    single_bare = _run_child(database, instance, "single-bare", 1)
    single_app = _run_child(database, instance, "single-app", SINGLE_RUNS)
    batch_bare = _run_child(database, instance, "batch-bare", args.batch)
    batch_app = _run_child(database, instance, "batch-app", args.batch)
    large_app = _run_child(database, instance, "batch-app", args.large)
    year = year_print(database, instance, args.processes)

    def ratio(app: float, bare: float) -> str:
        return f"{app / bare:.2f}x the floor ({100 * (app / bare - 1):+.0f}%)"

    def per_page(seconds: float, pages: int) -> str:
        return f"{seconds:7.1f} s ({1000 * seconds / pages:.0f} ms/page)"

    bare_one, app_one = single_bare["median"], single_app["median"]
    lines = [
        "",
        f"One certificate (median of {SINGLE_RUNS}, warm):",
        f"  bare WeasyPrint, same HTML        {1000 * bare_one:7.1f} ms",
        f"  app (DB, Jinja, QR, fetcher)      {1000 * app_one:7.1f} ms   {ratio(app_one, bare_one)}",
        f"  app, second download (cached PDF) {1000 * single_app['cached']:7.1f} ms",
        f"Batch of {args.batch} as one PDF:",
        f"  bare WeasyPrint, same HTML   {per_page(batch_bare['seconds'], args.batch)}, "
        f"peak {batch_bare['peak_mib']:.0f} MiB",
        f"  app (render_batch)           {per_page(batch_app['seconds'], args.batch)}, "
        f"peak {batch_app['peak_mib']:.0f} MiB   {ratio(batch_app['seconds'], batch_bare['seconds'])}",
        f"Batch of {args.large} (chunks of 100, one process): {per_page(large_app['seconds'], args.large)}, "
        f"peak {large_app['peak_mib']:.0f} MiB",
        f"A year: {year['pages']} certificates by `flask lms certificates print --year`, {args.processes} processes:",
        f"  {year['seconds']:.1f} s ({year['seconds'] / 60:.1f} min), {year['bytes'] / 2**20:.1f} MiB PDF; peak memory "
        f"of all its processes {year['peak_mib']:.0f} MiB PSS ({year['peak_rss_mib']:.0f} MiB summing their RSS, "
        "which counts shared pages twice)",
        f"  aim: under 180 s and 600 MiB on 2 cores; this machine has {os.cpu_count()} CPUs",
    ]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
