"""The staff-trained dashboard at scale: 20,000 people, 300,000 module completions, 10,000
enrolments and 6,000 certificates, on SQLite and on PostgreSQL.

The app's figure is the dashboard's response time through HTTP (gunicorn, as in
production), signed in as a regional coordinator. The floor, measured in the same run, is
the raw SQL of that very page: the statements the app sent while rendering it, captured
and replayed on a bare driver connection. Aim: the page under 4 times the floor.

    .venv/bin/python bench/report_dashboard.py [--people 20000] [--requests 25]
        [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/postgres | --no-postgres]

PostgreSQL runs in a database of its own, ``lms_bench``, created (and dropped) here.
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import BIN, ROOT, gunicorn
from module_page import log_in

sys.path.insert(0, str(ROOT))
PASSWORD = "bench-password-long-enough"  # noqa: S105 - a throwaway account in a throwaway database
FIRST = ["Ana", "Ljiljana", "Đorđe", "Marko", "Jelena", "Arbër", "Besa", "Нина", "Ђорђе", "Ѓорѓи", "Milica", "Tarik"]
LAST = ["Jovanović", "Đukanović", "Petrović", "Çela", "Hadžić", "Стојановска", "Николић", "Krasniqi", "Šarić", "Ćosić"]


def _env(url: str) -> dict[str, str]:
    return {**os.environ, "LMS_DATABASE_URL": url, "LMS_SECRET_KEY": "bench-secret-" + "x" * 40}


def generate(url: str, args: argparse.Namespace) -> None:
    """Schema and reference data through `lms init`, then the data with Core inserts."""
    subprocess.run([str(BIN / "flask"), "--app", "app", "lms", "init"], cwd=ROOT, env=_env(url), check=True,
                   capture_output=True)  # fmt: skip
    from lms import db
    from lms.auth.passwords import hash_password
    from lms.models import (
        Category,
        Certificate,
        CertificateRevision,
        Country,
        Course,
        Enrolment,
        Institution,
        Module,
        ModuleCompletion,
        ModuleRevision,
        QuizAttempt,
        RoleGrant,
        Sex,
        User,
    )  # fmt: skip
    from lms.models.people import derived_name_columns

    rng = random.Random(7)
    engine = db.create_engine(url)
    with engine.begin() as connection:
        countries = dict(connection.execute(sa.select(Country.code, Country.id)).all())
        institutions: dict[int, list[int]] = {}
        for institution_id, country_id in connection.execute(sa.select(Institution.id, Institution.country_id)):
            institutions.setdefault(country_id, []).append(institution_id)
        codes = ["BA", "ME", "MK", "RS"]
        users = []
        for n in range(args.people):
            name = f"{FIRST[n % len(FIRST)]} {LAST[(n // len(FIRST)) % len(LAST)]} {n}"
            email = f"person{n}@bench.example.org"
            country_id = countries[codes[n % 4]]
            users.append({
                "full_name": name, "email": email, "country_id": country_id,
                "sex": [Sex.FEMALE, Sex.MALE, Sex.MALE, Sex.FEMALE, Sex.NOT_RECORDED][n % 5],
                "category": [Category.CADET, Category.MILITARY_STAFF, Category.CIVILIAN_STAFF, Category.COMMANDER,
                             None][n % 5],
                "institution_id": rng.choice(institutions[country_id]) if n % 9 else None,
                **derived_name_columns(name, None, email),
            })  # fmt: skip
        users.append({
            "full_name": "Bench Coordinator", "email": "coordinator@bench.example.org", "country_id": countries["REG"],
            "sex": Sex.FEMALE, "category": None, "institution_id": None,
            **derived_name_columns("Bench Coordinator", None, "coordinator@bench.example.org"),
        })  # fmt: skip
        for start in range(0, len(users), 5000):
            connection.execute(sa.insert(User), users[start : start + 5000])
        connection.execute(
            sa.update(User)
            .where(User.email == "coordinator@bench.example.org")
            .values(password_hash=hash_password(PASSWORD))
        )
        coordinator = connection.scalar(sa.select(User.id).where(User.email == "coordinator@bench.example.org"))
        connection.execute(sa.insert(RoleGrant), [{"user_id": coordinator, "role": "coordinator", "country_id": None}])
        people = list(connection.scalars(sa.select(User.id).where(User.email.like("%@bench.example.org"))))[:-1]

        courses = []
        for n in range(args.enrolments // 25):
            begin = date(2024, 12, 2) + timedelta(days=(n * 700) // max(args.enrolments // 25, 1))
            courses.append({
                "title": f"Course {n}", "country_id": countries[codes[n % 4]], "mode": "in_person", "language": "en",
                "start_date": begin, "end_date": begin + timedelta(days=2), "capacity": 30,
                "enrolment_mode": "trainer_only", "status": "completed", "attendance_threshold": 80,
                "require_modules": False, "calendar_nonce": secrets.token_hex(8), "venue": "Academy",
            })  # fmt: skip
        connection.execute(sa.insert(Course), courses)
        course_rows = connection.execute(sa.select(Course.id, Course.country_id, Course.end_date)).all()
        by_country: dict[int, list[int]] = {}
        for index, country_id in enumerate(row["country_id"] for row in users[:-1]):
            by_country.setdefault(country_id, []).append(people[index])
        enrolments, completed = [], []
        for course_id, country_id, end in course_rows:
            for person in rng.sample(by_country[country_id], 25):
                done = rng.random() < 0.85
                at = datetime(end.year, end.month, end.day, 14, tzinfo=UTC) if done else None
                enrolments.append({"course_id": course_id, "user_id": person, "status": "enrolled", "completed_at": at})
                if done:
                    completed.append((course_id, person, country_id, end, at))
        for start in range(0, len(enrolments), 5000):
            connection.execute(sa.insert(Enrolment), enrolments[start : start + 5000])

        revisions = connection.execute(sa.select(ModuleRevision.id, ModuleRevision.module_id)).all()
        module_ids = list(connection.scalars(sa.select(Module.id)))
        revision_of = {module_id: revision_id for revision_id, module_id in revisions}
        pairs = set()
        while len(pairs) < args.completions:
            pairs.add((rng.choice(people), rng.choice(module_ids)))
        pairs_list = sorted(pairs)
        first_attempt = (connection.scalar(sa.select(sa.func.max(QuizAttempt.id))) or 0) + 1
        moment = datetime(2025, 6, 1, tzinfo=UTC)
        for start in range(0, len(pairs_list), 10_000):
            chunk = pairs_list[start : start + 10_000]
            connection.execute(sa.insert(QuizAttempt), [
                {"id": first_attempt + start + i, "user_id": u, "module_id": m, "revision_id": revision_of[m],
                 "language": "en", "nonce": f"bench{start + i}", "correct": 5, "total": 5, "score": 100,
                 "passed": True, "answers": "{}", "submitted_at": moment}
                for i, (u, m) in enumerate(chunk)
            ])  # fmt: skip
            connection.execute(sa.insert(ModuleCompletion), [
                {"user_id": u, "module_id": m, "revision_id": revision_of[m], "attempt_id": first_attempt + start + i,
                 "language": "en", "completed_at": moment}
                for i, (u, m) in enumerate(chunk)
            ])  # fmt: skip

        certificates = []
        for number, (course_id, person, country_id, end, at) in enumerate(completed[: args.certificates], start=1):
            certificates.append({
                "serial": f"RNGT-2026-{number:06d}", "year": 2026, "number": number, "holder_id": person,
                "kind": "course", "achievement_key": f"course:{course_id}", "course_id": course_id,
                "country_id": country_id, "title": "Course", "minutes": 1260, "start_date": end - timedelta(days=2),
                "end_date": end, "issuers": "[]", "signatories": "[]", "modules": "[]",
                "status": "revoked" if number % 20 == 0 else "valid", "issued_at": at + timedelta(days=5),
            })  # fmt: skip
        connection.execute(sa.insert(Certificate), certificates)
        ids = list(connection.scalars(sa.select(Certificate.id).order_by(Certificate.id)))
        connection.execute(sa.insert(CertificateRevision), [
            {"certificate_id": cid, "number": 1, "code": secrets.token_hex(8).upper(), "holder_name": "x",
             "created_at": datetime.now(UTC)}
            for cid in ids
        ])  # fmt: skip
        if engine.dialect.name == "postgresql":
            connection.exec_driver_sql("ANALYZE")
    engine.dispose()


def capture_statements(url: str) -> list[tuple[str, object]]:
    """The SQL the dashboard sends while rendering once (in-process, the same code)."""
    from lms import create_app

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench-secret-" + "x" * 40})
    client = app.test_client()
    statements: list[tuple[str, object]] = []
    page = client.get("/auth/login").get_data(as_text=True)
    import re

    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    client.post(
        "/auth/login", data={"csrf_token": token, "email": "coordinator@bench.example.org", "password": PASSWORD}
    )

    def capture(_conn, _cursor, statement, parameters, _context, _many):  # type: ignore[no-untyped-def]
        statements.append((statement, parameters))

    app_engine = app.extensions["lms.engine"]
    sa.event.listen(app_engine, "before_cursor_execute", capture)
    assert client.get("/reports/").status_code == 200
    sa.event.remove(app_engine, "before_cursor_execute", capture)
    app_engine.dispose()
    # The page's reads; (SQLite's BEGIN is the driver's business, and nothing is written.)
    return [(s, p) for s, p in statements if s.lstrip().upper().startswith(("SELECT", "WITH"))]


def floor(url: str, statements: list[tuple[str, object]], rounds: int) -> float:
    """Median seconds to run the page's statements on a bare driver connection."""
    from lms import db

    engine = db.create_engine(url)
    times = []
    with engine.connect() as connection:
        raw = connection.connection.driver_connection
        for _ in range(rounds + 3):
            started = time.perf_counter()
            cursor = raw.cursor()
            for statement, parameters in statements:
                cursor.execute(statement, parameters)
                if cursor.description:
                    cursor.fetchall()
            cursor.close()
            times.append(time.perf_counter() - started)
            raw.rollback()
    engine.dispose()
    return statistics.median(times[3:])


def through_the_app(url: str, rounds: int) -> float:
    with gunicorn("app:app", {k: v for k, v in _env(url).items() if k.startswith("LMS_")}, workers=2) as base:
        browser, _page = log_in(base, "coordinator@bench.example.org", PASSWORD)
        times = []
        for _ in range(rounds + 3):
            started = time.perf_counter()
            response = browser.open(f"{base}/reports/")
            body = response.read()
            times.append(time.perf_counter() - started)
            if response.status != 200 or b"staff trained of the target" not in body:
                raise SystemExit("the dashboard did not answer as expected")
    return statistics.median(times[3:])


def run(label: str, url: str, args: argparse.Namespace) -> None:
    started = time.perf_counter()
    generate(url, args)
    print(f"{label}: data generated in {time.perf_counter() - started:.0f} s "
          f"({args.people:,} people, {args.completions:,} module completions, {args.enrolments:,} enrolments, "
          f"{args.certificates:,} certificates)")  # fmt: skip
    statements = capture_statements(url)
    bare = floor(url, statements, args.requests)
    app = through_the_app(url, args.requests)
    print(f"  raw SQL of the page ({len(statements)} statements, bare driver): {1000 * bare:8.1f} ms")
    print(f"  dashboard through gunicorn (median of {args.requests}):          {1000 * app:8.1f} ms")
    print(f"  ratio: {app / bare:.2f}x the floor (aim: under 4x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=20_000)
    parser.add_argument("--completions", type=int, default=300_000)
    parser.add_argument("--enrolments", type=int, default=10_000)
    parser.add_argument("--certificates", type=int, default=6_000)
    parser.add_argument("--requests", type=int, default=25)
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        run("SQLite", f"sqlite:///{scratch}/bench.sqlite3", args)
    if args.no_postgres:
        return
    admin = sa.create_engine(args.postgres, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql("DROP DATABASE IF EXISTS lms_bench")
        connection.exec_driver_sql("CREATE DATABASE lms_bench")
    try:
        run("PostgreSQL", args.postgres.rsplit("/", 1)[0] + "/lms_bench", args)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql("DROP DATABASE IF EXISTS lms_bench WITH (FORCE)")
        admin.dispose()


if __name__ == "__main__":
    main()
