"""Browser tests: Debian's Chromium driven by Playwright against the app on a local port."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, sync_playwright
from werkzeug.serving import make_server

CHROMIUM = "/usr/bin/chromium"
# Chromium's own background traffic is refused by this machine's closed network.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"{CHROMIUM} is missing: run `make test` (it installs Debian's chromium) or apt-get install chromium"
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    """The app served on a free local port, for the length of one test."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    app.config["PUBLIC_URL"] = f"http://127.0.0.1:{server.server_port}"  # where links point
    yield app.config["PUBLIC_URL"]
    server.shutdown()
    thread.join()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    # axe-core is injected by script evaluation, which our Content-Security-Policy allows
    # (it is not a page script); nothing else here relaxes the policy.
    context = browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.csp_errors: list[str] = []  # type: ignore[attr-defined]
    page.on(
        "console",
        lambda message: "Content Security Policy" in message.text and page.csp_errors.append(message.text),  # type: ignore[attr-defined]
    )
    yield page
    context.close()


@pytest.fixture
def real_content(app: Flask) -> None:
    """Serve the shipped curriculum (not the small test one), registered in the database."""
    from lms import db
    from lms.config import ROOT
    from lms.curriculum.content import load_curriculum
    from lms.curriculum.store import ContentStore
    from lms.curriculum.sync import sync_curriculum

    root = ROOT / "content"
    app.extensions["lms.content"] = ContentStore(root)
    with app.app_context(), db.new_session() as session:
        sync_curriculum(session, load_curriculum(root), root)
        session.commit()


def log_in(page: Page, base: str, email: str, password: str) -> Any:
    page.goto(f"{base}/auth/login")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()
