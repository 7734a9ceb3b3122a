"""A 10,000-row roster through the app: upload and check (preview), then confirm (import).

Measured through the real HTTP endpoints of the app (gunicorn, as in production), on a
fresh database, against a floor measured in the same run: reading the same CSV with the
standard library and inserting the same number of people and enrolments with bare
SQLAlchemy Core statements, without any checking.

    .venv/bin/python bench/roster_import.py [--rows 10000] [--database-url URL]
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import BIN, ROOT, gunicorn
from module_page import log_in

FIRST = ["Ana", "Ljiljana", "Đorđe", "Marko", "Jelena", "Arbër", "Besa", "Нина", "Ђорђе", "Ѓорѓи", "Milica", "Tarik"]
LAST = ["Jovanović", "Đukanović", "Petrović", "Çela", "Hadžić", "Стојановска", "Николић", "Krasniqi", "Šarić", "Ćosić"]


def make_roster(rows: int) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["full_name", "email", "sex", "country", "institution", "category", "rank"])
    for n in range(rows):
        writer.writerow(
            [
                f"{FIRST[n % len(FIRST)]} {LAST[n // len(FIRST) % len(LAST)]}",
                f"person{n}@roster.example.org",
                ["female", "male", ""][n % 3],
                ["BA", "ME", "MK", "RS"][n % 4],
                "",
                ["cadet", "military staff", "civilian staff", "commander"][n % 4],
                "kapetan",
            ]
        )
    return buffer.getvalue().encode("utf-8")


def multipart(fields: dict[str, str], filename: str, data: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="roster"; filename="{filename}"\r\n'
        "Content-Type: text/csv\r\n\r\n".encode()
        + data
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def floor(url: str, data: bytes) -> float:
    """Bare reading and inserting, no checks: the least the work can cost."""
    engine = sa.create_engine(url)
    metadata = sa.MetaData()
    people = sa.Table(
        "floor_people",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String),
        sa.Column("email", sa.String, unique=True),
    )
    enrolments = sa.Table(
        "floor_enrolments", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("person_id", sa.Integer)
    )
    metadata.drop_all(engine)
    metadata.create_all(engine)
    started = time.perf_counter()
    rows = list(csv.reader(io.StringIO(data.decode("utf-8"))))[1:]
    with engine.begin() as connection:
        connection.execute(people.insert(), [{"name": row[0], "email": row[1]} for row in rows])
        ids = connection.execute(sa.select(people.c.id)).scalars().all()
        connection.execute(enrolments.insert(), [{"person_id": person_id} for person_id in ids])
    elapsed = time.perf_counter() - started
    metadata.drop_all(engine)
    engine.dispose()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    args = parser.parse_args()
    roster = make_roster(args.rows)
    with tempfile.TemporaryDirectory() as scratch:
        url = args.database_url or f"sqlite:///{scratch}/bench.sqlite3"
        env = {"LMS_DATABASE_URL": url, "LMS_SECRET_KEY": "bench-secret-" + "x" * 40}
        for command in (["lms", "init"], ["lms", "demo"]):
            subprocess.run(
                [str(BIN / "flask"), "--app", "app", *command],
                cwd=ROOT,
                env={**os.environ, **env},
                check=True,
                capture_output=True,
            )
        with gunicorn("app:app", env) as base:
            browser, _ = log_in(base, "trainer@example.org", "demo-password")
            page = browser.open(f"{base}/courses/").read().decode()
            course_id = re.search(r'href="/courses/(\d+)"', page).group(1)  # type: ignore[union-attr]
            upload_page = browser.open(f"{base}/courses/{course_id}/import").read().decode()
            token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', upload_page).group(1)  # type: ignore[union-attr]
            body, content_type = multipart({"csrf_token": token}, "roster.csv", roster)
            request = urllib.request.Request(  # noqa: S310 - our own local server
                f"{base}/courses/{course_id}/import", data=body, headers={"Content-Type": content_type}
            )
            started = time.perf_counter()
            preview = browser.open(request).read().decode()
            preview_seconds = time.perf_counter() - started
            assert f"All {args.rows:,} rows are in order".replace(",", ",") in preview or "are in order" in preview, (
                "the preview found problems"
            )
            import_id = re.search(r'name="import_id" type="hidden" value="(\d+)"', preview).group(1)  # type: ignore[union-attr]
            confirm = urllib.parse.urlencode({"csrf_token": token, "import_id": import_id}).encode()
            started = time.perf_counter()
            browser.open(f"{base}/courses/{course_id}/import/confirm", data=confirm).read()
            import_seconds = time.perf_counter() - started
        engine = sa.create_engine(url)
        with engine.connect() as connection:
            enrolled = connection.execute(
                sa.text("SELECT count(*) FROM enrolments WHERE course_id = :c"), {"c": int(course_id)}
            ).scalar()
        engine.dispose()
        bare = floor(url, roster)
    total = preview_seconds + import_seconds
    engine_name = url.split(":")[0]
    print(
        f"Roster of {args.rows:,} rows ({len(roster) / 1e6:.1f} MB CSV) on {engine_name}, through the app (gunicorn):"
    )
    print(f"  upload and check (preview): {preview_seconds:6.2f} s")
    print(f"  confirm (import, one transaction): {import_seconds:6.2f} s   ({enrolled:,} enrolments on the course)")
    print(f"  total: {total:6.2f} s")
    print(f"  floor (csv module + bare Core inserts, no checks): {bare:6.2f} s")
    print(f"  ratio app / floor: {total / bare:.1f}")


if __name__ == "__main__":
    main()
