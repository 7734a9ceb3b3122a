"""The item-analysis page at the programme's size: 20,000 people who all took the demo track
(one to three knowledge-check attempts per module, each with its drawn questions and
answers), plus attempts at every other module, and a pre-test and post-test each.

The figures are the page's response times through HTTP (gunicorn, as in production), signed
in as a regional coordinator (everyone in reach: the largest page): the first view, which
counts every first attempt of the track, and the views that follow, which reuse the
tallies while no attempt is added; and the number of SQL statements a view sends, which
must not grow with the number of people.

    .venv/bin/python bench/item_analysis.py [--people 20000] [--requests 10]
        [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/postgres | --no-postgres]

PostgreSQL runs in a database of its own, ``lms_bench_items``, created (and dropped) here.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import BIN, ROOT, gunicorn
from module_page import log_in
from report_dashboard import PASSWORD, _env

sys.path.insert(0, str(ROOT))
TRACK = "gender-equality-in-the-armed-forces"
PAGE = f"/learn/tracks/{TRACK}/analysis"


def generate(url: str, people: int) -> int:
    """Schema, reference data and curriculum through `lms init`, then the data with Core
    inserts; returns the number of knowledge-check attempts."""
    subprocess.run([str(BIN / "flask"), "--app", "app", "lms", "init"], cwd=ROOT, env=_env(url), check=True,
                   capture_output=True)  # fmt: skip
    from lms import db
    from lms.auth.passwords import hash_password
    from lms.curriculum.content import load_curriculum
    from lms.models import Country, Module, ModuleRevision, QuizAttempt, RoleGrant, Sex, Track, TrackAssessment, User
    from lms.models.people import derived_name_columns

    curriculum = load_curriculum(ROOT / "content")
    rng = random.Random(11)
    engine = db.create_engine(url)
    made = 0
    with engine.begin() as connection:
        countries = list(connection.scalars(sa.select(Country.id).where(Country.code.in_(["BA", "ME", "MK", "RS"]))))
        users = []
        for n in range(people):
            email = f"person{n}@bench.example.org"
            users.append({
                "full_name": f"Person {n}", "email": email, "country_id": countries[n % 4],
                "sex": [Sex.FEMALE, Sex.MALE, Sex.MALE, Sex.FEMALE, Sex.NOT_RECORDED][n % 5],
                **derived_name_columns(f"Person {n}", None, email),
            })  # fmt: skip
        coordinator = "coordinator@bench.example.org"
        region = connection.scalar(sa.select(Country.id).where(Country.code == "REG"))
        users.append({"full_name": "Bench Coordinator", "email": coordinator, "country_id": region,
                      "sex": Sex.FEMALE, **derived_name_columns("Bench Coordinator", None, coordinator)})  # fmt: skip
        for start in range(0, len(users), 5000):
            connection.execute(sa.insert(User), users[start : start + 5000])
        connection.execute(
            sa.update(User).where(User.email == coordinator).values(password_hash=hash_password(PASSWORD))
        )
        ids = list(connection.scalars(sa.select(User.id).where(User.email.like("%@bench.example.org"))))
        boss = connection.scalar(sa.select(User.id).where(User.email == coordinator))
        connection.execute(sa.insert(RoleGrant), [{"user_id": boss, "role": "coordinator", "country_id": None}])
        learners = [user_id for user_id in ids if user_id != boss]

        rows = dict(connection.execute(sa.select(Module.slug, Module.id)).tuples().all())
        revisions = dict(connection.execute(sa.select(ModuleRevision.module_id, ModuleRevision.id)).tuples().all())
        moment = datetime(2026, 1, 5, tzinfo=UTC)
        batch: list[dict[str, object]] = []

        def attempt(user_id: int, slug: str, number: int) -> None:
            module = curriculum.modules[slug]
            drawn = rng.sample(list(module.questions), module.draw)
            shown = [[q, rng.sample([o.id for o in module.questions[q].options], len(module.questions[q].options))]
                     for q in drawn]  # fmt: skip
            answers = {
                q: sorted(module.questions[q].correct_ids) if rng.random() < 0.7
                else [rng.choice([o.id for o in module.questions[q].options])]
                for q in drawn
            }  # fmt: skip
            batch.append({
                "user_id": user_id, "module_id": rows[slug], "revision_id": revisions[rows[slug]], "language": "en",
                "nonce": f"b{user_id}-{slug}-{number}", "correct": 4, "total": module.draw, "score": 66,
                "passed": number > 0, "answers": json.dumps(answers), "shown": json.dumps(shown),
                "submitted_at": moment + timedelta(days=number, seconds=user_id),
            })  # fmt: skip

        def flush() -> None:
            connection.execute(sa.insert(QuizAttempt), batch)
            batch.clear()

        track = curriculum.tracks[TRACK]
        others = [slug for slug in curriculum.modules if slug not in track.modules and slug in rows]
        for user_id in learners:
            for slug in track.modules:
                for number in range(rng.choice([1, 1, 2, 3])):
                    attempt(user_id, slug, number)
                    made += 1
            for slug in rng.sample(others, 3):  # some other modules, which the page must not read
                attempt(user_id, slug, 0)
                made += 1
            if len(batch) > 10_000:
                flush()
        flush()
        track_id = connection.scalar(sa.select(Track.id).where(Track.slug == TRACK))
        tests = []
        for user_id in learners:
            for phase, score in (("pre", rng.randint(20, 90)), ("post", rng.randint(50, 100))):
                if phase == "post" and rng.random() < 0.4:
                    continue
                tests.append({"user_id": user_id, "track_id": track_id, "phase": phase, "language": "en",
                              "correct": 0, "total": 10, "score": score, "answers": "{}", "skipped": False,
                              "taken_at": moment})  # fmt: skip
        for start in range(0, len(tests), 10_000):
            connection.execute(sa.insert(TrackAssessment), tests[start : start + 10_000])
        if engine.dialect.name == "postgresql":
            connection.exec_driver_sql("ANALYZE")
    engine.dispose()
    return made


def statements_of_the_page(url: str) -> tuple[int, int]:
    """How many SQL statements the page sends on its first view and on the next one
    (in-process, the same code)."""
    import re

    from lms import create_app

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench-secret-" + "x" * 40})
    client = app.test_client()
    page = client.get("/auth/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    client.post("/auth/login", data={"csrf_token": token, "email": "coordinator@bench.example.org",
                                     "password": PASSWORD})  # fmt: skip
    client.get("/learn/")  # the curriculum is loaded once per process: not part of a page view
    statements: list[str] = []

    def capture(_conn, _cursor, statement, *_args):  # type: ignore[no-untyped-def]
        statements.append(statement)

    engine = app.extensions["lms.engine"]
    counts = []
    for _ in range(2):
        statements.clear()
        sa.event.listen(engine, "before_cursor_execute", capture)
        assert client.get(PAGE).status_code == 200
        sa.event.remove(engine, "before_cursor_execute", capture)
        counts.append(len(statements))
    engine.dispose()
    return counts[0], counts[1]


def through_the_app(url: str, rounds: int) -> tuple[float, float]:
    """The first view (each worker counts the track's first attempts) and the median of
    the views that follow (each worker keeps its tallies while no attempt is added)."""
    with gunicorn("app:app", {k: v for k, v in _env(url).items() if k.startswith("LMS_")}, workers=1) as base:
        browser, _page = log_in(base, "coordinator@bench.example.org", PASSWORD)
        browser.open(f"{base}/learn/").read()  # the worker loads the curriculum once: not this page's cost
        times = []
        for _ in range(rounds + 1):
            started = time.perf_counter()
            response = browser.open(base + PAGE)
            body = response.read()
            times.append(time.perf_counter() - started)
            if response.status != 200 or b"Discrimination" not in body:
                raise SystemExit("the page did not answer as expected")
    return times[0], statistics.median(times[1:])


def run(label: str, url: str, args: argparse.Namespace) -> None:
    started = time.perf_counter()
    attempts = generate(url, args.people)
    print(f"{label}: data generated in {time.perf_counter() - started:.0f} s "
          f"({args.people:,} people, {attempts:,} knowledge-check attempts)")  # fmt: skip
    statements = statements_of_the_page(url)
    first, then = through_the_app(url, args.requests)
    print(f"  item-analysis page through gunicorn, first view (counts every first attempt): {1000 * first:8.1f} ms")
    print(f"  the views that follow (median of {args.requests}, tallies kept):              {1000 * then:8.1f} ms")
    print(f"  SQL statements: {statements[0]} on the first view, {statements[1]} on the next")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=20_000)
    parser.add_argument("--requests", type=int, default=10)
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        run("SQLite", f"sqlite:///{scratch}/bench.sqlite3", args)
    if args.no_postgres:
        return
    admin = sa.create_engine(args.postgres, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql("DROP DATABASE IF EXISTS lms_bench_items")
        connection.exec_driver_sql("CREATE DATABASE lms_bench_items")
    try:
        run("PostgreSQL", args.postgres.rsplit("/", 1)[0] + "/lms_bench_items", args)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql("DROP DATABASE IF EXISTS lms_bench_items WITH (FORCE)")
        admin.dispose()


if __name__ == "__main__":
    main()
