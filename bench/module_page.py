"""Module pages per second through the app, against a bare Flask route serving the same HTML.

Both run under the same server (gunicorn, 2 sync workers, as in production) and the same
load (wrk), alternating, in one run, so the machine's noise affects both alike. The app's
side includes what a real page view costs: the session and login check, the database
lookups, the cached Markdown, the layout and the knowledge-check form.

    .venv/bin/python bench/module_page.py [--seconds 10] [--rounds 3] [--connections 8]
"""

from __future__ import annotations

import argparse
import http.cookiejar
import os
import re
import subprocess
import sys
import tempfile
import urllib.parse
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import BIN, ROOT, gunicorn, median_load, wrk

MODULE = "unscr-1325-and-the-wps-agenda"


def _browser() -> urllib.request.OpenerDirector:
    return urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))


def log_in(base: str, email: str, password: str) -> tuple[urllib.request.OpenerDirector, str]:
    browser = _browser()
    page = browser.open(f"{base}/auth/login").read().decode()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    data = urllib.parse.urlencode({"csrf_token": token, "email": email, "password": password}).encode()
    browser.open(f"{base}/auth/login", data=data)
    return browser, page


def cookie_header(browser: urllib.request.OpenerDirector) -> str:
    jar = next(h for h in browser.handlers if isinstance(h, urllib.request.HTTPCookieProcessor)).cookiejar
    return "; ".join(f"{cookie.name}={cookie.value}" for cookie in jar)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=8)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        env = {
            "LMS_DATABASE_URL": f"sqlite:///{scratch}/bench.sqlite3",
            "LMS_SECRET_KEY": "bench-secret-" + "x" * 40,
        }
        for command in (["lms", "init"], ["lms", "demo"]):
            subprocess.run(
                [str(BIN / "flask"), "--app", "app", *command],
                cwd=ROOT,
                env={**os.environ, **env},
                check=True,
                capture_output=True,
            )
        page_file = Path(scratch) / "page.html"
        with gunicorn("app:app", env) as base:
            browser, _ = log_in(base, "cadet@example.org", "demo-password")
            # Open the page once as a browser would, keeping the cookie it sets.
            html = browser.open(f"{base}/learn/modules/{MODULE}").read().decode()
            assert "Knowledge check" in html, "the module page did not render"
            page_file.write_text(html, encoding="utf-8")
            app_loads, bare_loads = [], []
            with gunicorn("bench.bare_app:app", {"BENCH_PAGE_FILE": str(page_file)}) as bare:
                for _ in range(args.rounds):
                    # wrk does not keep the cookies it is sent back, so let the browser open the
                    # page again first: the session is then as fresh as a real reader's.
                    browser.open(f"{base}/learn/modules/{MODULE}").read()
                    cookie = cookie_header(browser)
                    app_loads.append(
                        wrk(
                            f"{base}/learn/modules/{MODULE}",
                            seconds=args.seconds,
                            connections=args.connections,
                            headers={"Cookie": cookie},
                        )
                    )
                    bare_loads.append(wrk(f"{bare}/page", seconds=args.seconds, connections=args.connections))
            # Where the time goes: the same app answering its smallest route, signed in or not.
            health = f"{base}/healthz"
            signed_in = wrk(health, seconds=args.seconds, connections=args.connections, headers={"Cookie": cookie})
            anonymous = wrk(health, seconds=args.seconds, connections=args.connections)
    app_load, bare_load = median_load(app_loads), median_load(bare_loads)
    print(f"Module page ({len(html):,} bytes of HTML), gunicorn 2 sync workers, wrk {args.connections} connections,")
    print(f"{args.rounds} alternating rounds of {args.seconds} s (medians):")
    for label, load in [("through the app ", app_load), ("bare Flask route", bare_load)]:
        rate, p50, p99 = load.requests_per_second, load.p50_ms, load.p99_ms
        print(f"  {label}: {rate:8.1f} req/s   p50 {p50:6.2f} ms   p99 {p99:6.2f} ms")
    for label, load in [("app /healthz, signed in", signed_in), ("app /healthz, anonymous", anonymous)]:
        print(f"  for reference, {label}: {load.requests_per_second:8.1f} req/s")
    ratio = app_load.requests_per_second / bare_load.requests_per_second
    print(f"  ratio app / bare: {ratio:.2f}  (aim: at least 0.50)")


if __name__ == "__main__":
    main()
