"""Time to refuse each upload bomb of issue 11, and a sign-in while the bombs arrive.

Through the real HTTP endpoints (gunicorn, as in production) on a fresh SQLite database
with the demo data: the trainer uploads each bomb (the ones built by
tests/courses/test_upload_limits.py) several times; the floor is a normal 3-row roster
uploaded the same way in the same run. Then another person signs in again and again
while the bombs keep arriving; their sign-in time is compared with the same sign-in
while nothing else runs.

    .venv/bin/python bench/upload_limits.py [--rounds 5] [--database-url URL]
"""

from __future__ import annotations

import argparse
import html
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from common import BIN, ROOT, gunicorn
from module_page import log_in
from roster_import import multipart

from tests.courses import test_upload_limits as bombs

NORMAL = "\n".join(",".join(row) for row in [bombs.HEADER, *bombs.GOOD]).encode()
CASES = [
    ("normal 3-row roster (floor)", "roster.csv", NORMAL),
    ("XLSX unpacking to 1 GiB", "bomb.xlsx", bombs.ZIP_BOMB),
    ("XLSX with one 20 MB shared string", "bomb.xlsx", bombs.SHARED_STRING_BOMB),
    ("XLSX of 100,000 rows", "bomb.xlsx", bombs.ROWS_BOMB),
    ("XLSX row of 10,000 columns", "bomb.xlsx", bombs.COLUMNS_BOMB),
    ("XLSX cell of 1 MB", "bomb.xlsx", bombs.CELL_BOMB),
]


def upload(browser: urllib.request.OpenerDirector, base: str, course_id: str, token: str, name: str, data: bytes):
    body, content_type = multipart({"csrf_token": token}, name, data)
    request = urllib.request.Request(  # noqa: S310 - our own local server
        f"{base}/courses/{course_id}/import", data=body, headers={"Content-Type": content_type}
    )
    started = time.perf_counter()
    try:
        response = browser.open(request)
        status, page = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, page = error.code, error.read()
    return time.perf_counter() - started, status, page.decode()


def sign_in_seconds(base: str) -> float:
    started = time.perf_counter()
    _browser, _page = log_in(base, "commander@example.org", "demo-password")
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    args = parser.parse_args()
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
        with gunicorn("app:app", env, workers=2) as base:
            browser, _ = log_in(base, "trainer@example.org", "demo-password")
            page = browser.open(f"{base}/courses/").read().decode()
            course_id = re.search(r'href="/courses/(\d+)"', page).group(1)  # type: ignore[union-attr]
            form = browser.open(f"{base}/courses/{course_id}/import").read().decode()
            token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form).group(1)  # type: ignore[union-attr]

            results = []
            for label, name, data in CASES:
                times = []
                for _ in range(args.rounds):
                    seconds, status, answer = upload(browser, base, course_id, token, name, data)
                    times.append(seconds)
                message = re.search(r'class="field__error"[^>]*>\s*<span>(.*?)</span>', answer, re.S)
                said = html.unescape(message.group(1)) if message else ("preview" if status == 200 else str(status))
                results.append((label, len(data), status, statistics.median(times), max(times), said))

            # Another person signs in, first alone, then while the bombs keep arriving.
            alone = [sign_in_seconds(base) for _ in range(args.rounds)]
            uploading = threading.Event()
            done = threading.Event()

            def keep_uploading() -> None:
                while not done.is_set():
                    for _label, name, data in CASES[1:]:
                        upload(browser, base, course_id, token, name, data)
                        uploading.set()

            uploader = threading.Thread(target=keep_uploading)
            uploader.start()
            uploading.wait()
            try:
                during = [sign_in_seconds(base) for _ in range(args.rounds * 2)]
            finally:
                done.set()
                uploader.join()
    floor = results[0][3]
    print(f"Upload limits on {url.split(':')[0]}, through gunicorn (2 workers); median and worst of {args.rounds}:")
    for label, size, status, median, worst, said in results:
        print(
            f"  {label:36} {size / 1e6:6.2f} MB  {status}  {median:6.3f} s (worst {worst:6.3f} s)  "
            f"{median / floor:5.1f} x floor"
        )
        print(f"      {said[:110]}")
    print(
        f"  another person's sign-in alone: median {statistics.median(alone):.3f} s; while the bombs keep "
        f"arriving: median {statistics.median(during):.3f} s, worst {max(during):.3f} s ({len(during)} sign-ins)"
    )


if __name__ == "__main__":
    main()
