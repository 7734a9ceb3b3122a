"""The item analysis and the learning gain, as a trainer sees them in a real browser."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe

from lms.demo import DEMO_PASSWORD
from tests.e2e.conftest import log_in

pytestmark = pytest.mark.filterwarnings("ignore:unclosed file <_io.BufferedReader name='[^']*/static/:ResourceWarning")

WCAG_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
TRACK = "/learn/tracks/gender-equality-in-the-armed-forces"


@pytest.fixture
def demo_learning(app, real_content, runner):  # type: ignore[no-untyped-def]
    """The demo loaded with the shipped curriculum, so that its learning history is the real one."""
    from lms.config import ROOT

    app.config["CONTENT_DIR"] = ROOT / "content"
    result = runner.invoke(args=["lms", "demo"])
    assert result.exit_code == 0, result.output


def test_a_trainer_reads_the_item_analysis(demo_learning, live_server, page, browser) -> None:  # type: ignore[no-untyped-def]
    log_in(page, live_server, "trainer@example.org", DEMO_PASSWORD)
    page.goto(f"{live_server}{TRACK}")
    page.get_by_role("link", name="Item analysis of its knowledge checks").click()
    assert page.get_by_role("heading", level=1, name="Item analysis").is_visible()
    first = page.locator("table.analysis").first
    assert first.locator("caption").inner_text().startswith("Questions of")
    assert first.locator("tbody tr").count() >= 10
    assert page.get_by_role("table", name="Normalised learning gain of this track by sex").is_visible()
    results = Axe().run(page, options=WCAG_AA)
    assert not results.violations_count, results.generate_snapshot()

    page.get_by_role("link", name="Pre-test and post-test results by sex and country").click()
    assert page.get_by_role("table", name="Normalised learning gain by sex and country").is_visible()
    results = Axe().run(page, options=WCAG_AA)
    assert not results.violations_count, results.generate_snapshot()
    assert page.csp_errors == []

    # On a phone, the wide tables scroll inside their own regions, not the page.
    context = browser.new_context(viewport={"width": 360, "height": 740}, device_scale_factor=2)
    phone = context.new_page()
    log_in(phone, live_server, "trainer@example.org", DEMO_PASSWORD)
    phone.goto(f"{live_server}{TRACK}/analysis")
    overflow = phone.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px"
    context.close()
