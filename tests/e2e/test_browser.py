"""What a new user sees in a real browser: logins per role, accessibility, keyboard, phone."""

from __future__ import annotations

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from flask_babel import force_locale, gettext

from lms.demo import DEMO_PASSWORD
from lms.i18n import babel_locale
from tests.e2e.conftest import log_in

# The browser may abandon a request (the favicon, a page it navigates away from) while the
# test server streams a static file; Werkzeug's development server then leaves the file to
# the garbage collector. Only that warning is let through: every other one still fails.
pytestmark = pytest.mark.filterwarnings("ignore:unclosed file <_io.BufferedReader name='[^']*/static/:ResourceWarning")

WCAG_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}

DASHBOARD_HEADINGS = {
    "admin@example.org": "Recent activity",
    "coordinator@example.org": "People",
    "trainer@example.org": "Training",
    "coach@example.org": "Gender Coach Programme",
    "commander@example.org": "My learning",
    "cadet@example.org": "My learning",
}


@pytest.fixture
def demo(runner):  # type: ignore[no-untyped-def]
    result = runner.invoke(args=["lms", "demo"])
    assert result.exit_code == 0, result.output


def _violations(page) -> str:  # type: ignore[no-untyped-def]
    results = Axe().run(page, options=WCAG_AA)
    return results.generate_snapshot() if results.violations_count else ""


def _in_language(app, language: str, text: str) -> str:  # type: ignore[no-untyped-def]
    with app.test_request_context(), force_locale(babel_locale(language)):
        return gettext(text)


def test_every_demo_account_logs_in_and_sees_its_dashboard(app, demo, live_server, page) -> None:
    from lms.demo import ACCOUNTS

    languages = {account[0]: account[7] for account in ACCOUNTS}
    for email, heading in DASHBOARD_HEADINGS.items():
        log_in(page, live_server, email, DEMO_PASSWORD)
        assert page.url == f"{live_server}/", email
        # The dashboard speaks the person's own language.
        assert page.locator("html").get_attribute("lang") == languages[email]
        expected = _in_language(app, languages[email], heading)
        assert page.get_by_role("heading", name=expected).count() >= 1, (email, expected)
        page.locator(".user-menu button").click()
        page.wait_for_url(f"{live_server}/auth/login")
    assert page.csp_errors == []


def test_pages_meet_wcag_2_1_aa(demo, live_server, page) -> None:
    page.goto(f"{live_server}/auth/login")
    assert _violations(page) == "", "login page"
    page.get_by_role("button", name="Log in").click()  # empty form: errors shown
    assert _violations(page) == "", "login page with errors"
    log_in(page, live_server, "admin@example.org", DEMO_PASSWORD)
    for path in [
        "/",
        "/people/",
        "/people/?q=zzz",
        "/people/1",
        "/people/1/edit",
        "/people/new",
        "/audit/",
        "/account/",
        "/auth/password",
        "/nowhere",
    ]:
        page.goto(f"{live_server}{path}")
        assert _violations(page) == "", path
    page.goto(f"{live_server}/people/new")
    page.locator("main form button[type=submit]").click()
    assert page.locator(".error-summary").is_visible()
    assert _violations(page) == "", "form with errors"
    assert page.csp_errors == []


def test_keyboard_users_can_skip_to_the_content(demo, live_server, page) -> None:
    log_in(page, live_server, "cadet@example.org", DEMO_PASSWORD)
    page.keyboard.press("Tab")
    skip = page.locator("a.skip-link")
    assert skip.evaluate("element => element === document.activeElement")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


def test_pages_fit_a_phone_screen(demo, live_server, browser) -> None:
    context = browser.new_context(viewport={"width": 360, "height": 740}, device_scale_factor=2)
    phone = context.new_page()
    log_in(phone, live_server, "admin@example.org", DEMO_PASSWORD)
    for path in ["/", "/people/", "/people/1", "/account/"]:
        phone.goto(f"{live_server}{path}")
        overflow = phone.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{path} scrolls sideways by {overflow}px"
        # Wide tables scroll inside their own region, which keyboard users can reach.
        assert _violations(phone) == "", path
    context.close()


def test_language_switch_in_the_browser(demo, live_server, page) -> None:
    page.goto(f"{live_server}/auth/login")
    page.get_by_label("Language").select_option("sr-Cyrl")
    page.get_by_role("button", name="Change language").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "sr-Cyrl"


def _answer_all(page, pick) -> None:  # type: ignore[no-untyped-def]
    """Tick one option per question: ``pick(question_fieldset)`` returns the input to tick."""
    for fieldset in page.locator("fieldset.question").all():
        pick(fieldset).check()


def _shown_questions(page) -> list[str]:  # type: ignore[no-untyped-def]
    """The ids of the questions the page's knowledge check asks (fieldset ids are answer-<id>)."""
    ids = page.locator("#knowledge-check fieldset.question").evaluate_all("nodes => nodes.map(n => n.id)")
    return [value.removeprefix("answer-") for value in ids]


def _answer_rightly(page, module) -> None:  # type: ignore[no-untyped-def]
    for question_id in _shown_questions(page):
        for option_id in module.questions[question_id].correct_ids:
            page.locator(f"#answer-{question_id}-{option_id}").check()


def _as_if_the_wait_were_over(app, email: str) -> None:  # type: ignore[no-untyped-def]
    """Move the person's attempts back in time, as if the wait between attempts had passed."""
    from datetime import timedelta

    import sqlalchemy as sa

    from lms import db
    from lms.models import QuizAttempt, User

    with app.app_context(), db.new_session() as session:
        user_id = session.scalar(sa.select(User.id).where(User.email == email))
        for attempt in session.scalars(sa.select(QuizAttempt).where(QuizAttempt.user_id == user_id)):
            attempt.submitted_at -= timedelta(hours=1)
        session.commit()


def test_a_cadet_learns_a_track_from_pre_test_to_post_test(app, demo, real_content, live_server, page) -> None:
    """The learner's path of issue 12: the pre-test offered where the cadet starts, a failed
    check that shows which questions were wrong but not the answers, a retry with other
    questions, a pass, and the post-test once the track is done."""
    from lms.config import ROOT
    from lms.curriculum.content import load_curriculum

    curriculum = load_curriculum(ROOT / "content")
    track = curriculum.tracks["gender-equality-in-the-armed-forces"]
    first = curriculum.modules[track.modules[0]]
    log_in(page, live_server, "cadet@example.org", DEMO_PASSWORD)
    assert page.locator("#dashboard-overall").get_attribute("value") == "0"
    page.locator("nav.main-nav a[href='/learn/']").click()
    page.get_by_role("link", name=first.original.title).first.click()
    assert page.locator("nav.toc li").count() >= 4
    # The pre-test is offered on the module page, and the module stays readable.
    offer = page.get_by_role("region", name="Before you start: a short pre-test")
    assert offer.is_visible() and page.locator(".prose").is_visible()
    assert _violations(page) == "", "module page with the pre-test offer"
    offer.get_by_role("link", name="Take the pre-test").click()
    _answer_all(page, lambda fieldset: fieldset.locator("input").first)
    assert _violations(page) == "", "pre-test"
    page.get_by_role("button", name="Submit my answers").click()
    assert f"/learn/modules/{first.slug}" in page.url  # back to the module the cadet was reading
    assert page.locator("text=Test recorded").is_visible()
    assert page.get_by_role("region", name="Before you start: a short pre-test").count() == 0

    # A first attempt that cannot pass: the last option everywhere.
    asked_first = _shown_questions(page)
    assert len(asked_first) == first.draw
    _answer_all(page, lambda fieldset: fieldset.locator("input").last)
    page.locator("#knowledge-check button[type=submit]").click()
    assert page.locator(".result--failed").is_visible()
    assert page.locator(".answer--wrong").count() >= 1
    assert page.locator(".tag--correct").count() == 0 and page.locator(".answer__explanation").count() == 0
    assert _violations(page) == "", "attempt page"
    # The wait between attempts, then a retry that asks the questions not seen yet.
    page.goto(f"{live_server}/learn/modules/{first.slug}")
    assert page.locator("text=You can try again from").is_visible()
    _as_if_the_wait_were_over(app, "cadet@example.org")
    page.reload()
    asked_again = _shown_questions(page)
    assert set(asked_again).isdisjoint(asked_first)
    _answer_rightly(page, first)
    page.locator("#knowledge-check button[type=submit]").click()
    assert page.locator(".result--passed").is_visible()
    assert page.locator(".tag--correct").count() >= first.draw  # the answers, now that it is passed

    # The rest of the track, then the post-test is offered.
    for slug in track.modules[1:]:
        page.goto(f"{live_server}/learn/modules/{slug}")
        _answer_rightly(page, curriculum.modules[slug])
        page.locator("#knowledge-check button[type=submit]").click()
        assert page.locator(".result--passed").is_visible(), slug
    page.goto(f"{live_server}/learn/modules/{track.modules[-1]}")
    page.get_by_role("region", name="You have completed this track").get_by_role(
        "link", name="Take the post-test"
    ).click()
    for question_id, _module_slug in [(f"{m}/{q}", m) for m, q in track.assessment]:
        module_slug, plain_id = question_id.split("/")
        for option_id in curriculum.modules[module_slug].questions[plain_id].correct_ids:
            page.locator(f"[id='answer-{question_id}-{option_id}']").check()
    page.get_by_role("button", name="Submit my answers").click()
    assert "/learn/tracks/gender-equality-in-the-armed-forces" in page.url
    facts = page.locator("dl.facts").inner_text()
    assert "Pre-test" in facts and "Post-test" in facts and "100% correct" in facts
    page.goto(f"{live_server}/")
    assert page.locator("#dashboard-overall").get_attribute("value") == str(len(track.modules))
    assert page.csp_errors == []


def test_learning_pages_meet_wcag_2_1_aa(demo, real_content, live_server, page) -> None:
    log_in(page, live_server, "trainer@example.org", DEMO_PASSWORD)
    for path in [
        "/learn/",
        "/learn/?q=zzzz",
        "/learn/tracks/international-framework",
        "/learn/tracks/international-framework/tests/pre",
        "/learn/modules/unscr-1325-and-the-wps-agenda?lang=bs",
        "/learn/modules/bystander-intervention?lang=sr-Cyrl",
        "/learn/progress",
        "/learn/tracks/international-framework/results",
    ]:
        page.goto(f"{live_server}{path}")
        assert _violations(page) == "", path


def test_a_trainer_runs_a_course_from_plan_to_results(app, demo, real_content, live_server, page) -> None:
    """The course workflow of issue 4, clicked through as trainer@example.org."""
    from datetime import timedelta

    from icalendar import Calendar

    from lms import db

    today = db.utcnow().date()
    log_in(page, live_server, "trainer@example.org", DEMO_PASSWORD)
    page.goto(f"{live_server}/courses/new")
    page.fill("#title", "Gender perspective for staff officers")
    page.select_option("#track_id", label="The international framework for gender equality and security")
    page.select_option("#country_id", label="Serbia")
    page.fill("#venue", "Military Academy, Belgrade")
    page.fill("#start_date", (today - timedelta(days=2)).isoformat())
    page.fill("#end_date", (today + timedelta(days=1)).isoformat())
    page.uncheck("#require_modules")
    page.locator("main form button[type=submit]").first.click()
    assert "/courses/" in page.url and page.locator("h1").inner_text().startswith(
        "Gender perspective for staff officers"
    )
    course_url = page.url
    for offset, topic in [(-2, "CEDAW"), (-1, "Resolution 1325"), (1, "National action plans")]:
        page.goto(f"{course_url}/sessions/new")
        page.fill("#date", (today + timedelta(days=offset)).isoformat())
        page.fill("#start_time", "09:00")
        page.fill("#end_time", "12:00")
        page.fill("#topic", topic)
        page.locator("main form button[type=submit]").first.click()
        if page.locator("#confirm").count():  # the demo trainer is busy elsewhere that day: confirm
            page.check("#confirm")
            page.locator("main form button[type=submit]").first.click()
    assert page.locator("#sessions tbody tr").count() == 3
    page.select_option("#status", "published")
    page.locator("form[action$='/status'] button").click()

    header = "full_name,email,sex,country,institution,category,rank\n"
    good = (
        "Ljiljana Đukanović,cadet@example.org,female,ME,,cadet,kadet\n"
        "Ђорђе Јовановић,djordje.new@example.org,male,RS,,military staff,капетан\n"
    )
    page.goto(f"{course_url}/import")
    page.set_input_files(
        "#roster",
        files=[
            {
                "name": "roster.csv",
                "mimeType": "text/csv",
                "buffer": (header + good + "Bad Row,not-an-email,female,RS,,,\n").encode(),
            }
        ],
    )
    page.locator("main form button[type=submit]").click()
    assert "Nothing has been saved" in page.content() and "not a valid email address" in page.content()
    page.set_input_files(
        "#roster", files=[{"name": "roster.csv", "mimeType": "text/csv", "buffer": (header + good).encode()}]
    )
    page.locator("main form button[type=submit]").click()
    page.get_by_role("button", name="Import and enrol everyone").click()
    assert page.locator("#roster-caption").inner_text().startswith("2 people")

    for row in range(2):  # the two sessions already held
        page.goto(course_url)
        page.locator("#sessions tbody tr").nth(row).get_by_role("link", name="Attendance").click()
        page.get_by_role("button", name="Save attendance").click()
    # Present at both sessions held, but the last session is tomorrow: nobody has completed yet.
    assert page.locator(".status--done").count() == 0
    assert page.get_by_text("Attendance on track so far").count() == 2
    page.goto(course_url)
    assert page.locator("#sessions tbody tr").nth(2).get_by_role("link", name="Attendance").count() == 0

    page.goto(course_url)
    feed = page.locator("#course-feed").input_value()
    body = page.request.get(feed.replace("http://localhost", live_server)).body()
    assert len(list(Calendar.from_ical(body).walk("VEVENT"))) == 3

    page.locator(".user-menu button").click()
    log_in(page, live_server, "cadet@example.org", DEMO_PASSWORD)
    assert page.get_by_role("link", name="Gender perspective for staff officers").count() == 1
    assert "National action plans" in page.locator("#courses-heading + ul").inner_text()
    assert _violations(page) == "", "dashboard with courses"


def test_course_pages_meet_wcag_2_1_aa(demo, live_server, page) -> None:
    log_in(page, live_server, "trainer@example.org", DEMO_PASSWORD)
    page.goto(f"{live_server}/courses/?status=in_progress")  # a course under way has attendance to take
    first = page.locator("main table tbody a").first.get_attribute("href")
    course = f"{live_server}{first}"
    page.goto(course)
    session_link = page.locator("#sessions a", has_text="Attendance").first.get_attribute("href")
    for url in [
        f"{live_server}/courses/",
        f"{live_server}/courses/new",
        course,
        f"{course}/people?q=a",
        f"{course}/import",
        f"{course}/results",
        f"{live_server}{session_link}",
        f"{course}/sessions/new",
        f"{live_server}/calendar/",
        f"{live_server}/calendar/?view=week",
        f"{live_server}/network/",
        f"{live_server}/network/profile",
        f"{live_server}/",
    ]:
        page.goto(url)
        assert _violations(page) == "", url
    assert page.csp_errors == []


def test_coaching_stays_between_coach_and_commander(app, demo, live_server, page) -> None:
    """The coaching story of issue 5, clicked through, with accessibility checks."""
    from datetime import timedelta

    from lms import db

    today = db.utcnow().date()
    note = "Private: he doubts the complaint procedure works."
    log_in(page, live_server, "coordinator@example.org", DEMO_PASSWORD)
    page.goto(f"{live_server}/coaching/pairings/new")
    page.select_option("#coach_id", label="Arbër Çela")
    page.locator("#commander_id option", has_text="Mirsad Begović").first.wait_for(state="attached")
    page.select_option("#commander_id", label="Mirsad Begović (pukovnik)")
    page.fill("#start_date", (today - timedelta(days=40)).isoformat())
    page.fill("#end_date", (today + timedelta(days=160)).isoformat())
    assert _violations(page) == "", "new pairing form"
    page.locator("main form button[type=submit]").click()
    page.wait_for_url("**/coaching/programme")
    assert _violations(page) == "", "programme page"
    page.locator(".user-menu button").click()

    log_in(page, live_server, "coach@example.org", DEMO_PASSWORD)
    page.goto(f"{live_server}/coaching/")
    page.get_by_role("link", name="Mirsad Begović").click()
    page.wait_for_url(re.compile(r".*/coaching/pairings/\d+$"))
    pairing_url = page.url
    page.get_by_role("link", name="Add a session").click()
    page.fill("#date", (today - timedelta(days=2)).isoformat())
    page.select_option("#status", "held")
    page.select_option("#topics", ["stereotypes", "own_area"])
    page.fill("#summary", "Agreed to review the unit's training plan for gender objectives.")
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/coaching/sessions/\d+$"))
    session_url = page.url
    page.fill("#text", note)
    page.get_by_role("button", name="Save my note").click()
    page.wait_for_load_state()
    for description in ("Ask the S3 for the training plan", "Meet the unit's gender focal point"):
        page.locator("details", has_text="Add an action item").locator("summary").click()
        page.fill("#description", description)
        page.fill("#due_date", (today + timedelta(days=14)).isoformat())
        page.get_by_role("button", name="Add", exact=True).click()
        page.get_by_text(description).first.wait_for()
    assert note in page.content()
    assert _violations(page) == "", "coach's session page"
    page.locator(".user-menu button").click()

    log_in(page, live_server, "commander@example.org", DEMO_PASSWORD)
    page.goto(session_url)
    content = page.content()
    assert (
        "training plan for gender objectives" in content and "Ask the S3" in content and "gender focal point" in content
    )
    assert note not in content
    page.goto(f"{live_server}/coaching/")
    assert _violations(page) == "", "commander's coaching page"
    page.locator(".user-menu button").click()

    log_in(page, live_server, "coordinator@example.org", DEMO_PASSWORD)
    page.goto(f"{live_server}/coaching/programme")
    assert "Mirsad Begović" in page.content() and "training plan for gender objectives" not in page.content()
    assert page.goto(session_url).status == 404
    assert page.goto(pairing_url).status == 404


def test_a_coordinator_issues_prints_verifies_and_revokes(app, demo, live_server, page) -> None:
    """The certificates story of issue 6, clicked through, with accessibility checks."""
    import io

    import pypdf

    from lms.certificates import jobs
    from lms.demo_certificates import LEFT_FOR_THE_COORDINATOR

    log_in(page, live_server, "coordinator@example.org", DEMO_PASSWORD)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Certificates", exact=True).click()
    assert _violations(page) == "", "certificates overview"
    page.get_by_role("link", name=LEFT_FOR_THE_COORDINATOR).click()
    page.wait_for_url(re.compile(r".*/certificates/courses/\d+$"))
    course_url = page.url
    eligible = page.locator("main table tbody tr").count()
    assert eligible >= 5
    assert _violations(page) == "", "course certificates"
    page.get_by_role("button", name=f"Issue for all {eligible}").click()
    assert page.get_by_text(f"{eligible} certificates issued.").is_visible()
    assert _violations(page) == "", "course certificates, issued"

    # Print: the job page shows progress; the worker renders; the page offers the PDF.
    page.get_by_role("button", name="Print all in one PDF").click()
    assert page.get_by_role("heading", name=f"Printing: {LEFT_FOR_THE_COORDINATOR}").is_visible()
    assert _violations(page) == "", "print job"
    with app.app_context():
        assert jobs.work(app, once=True) == 1  # what `flask lms worker` does beside the server
    download_link = page.get_by_role("link", name="Download the PDF")
    download_link.wait_for(timeout=15_000)  # the page reloads itself when the job is done
    with page.expect_download() as download:
        download_link.click()
    reader = pypdf.PdfReader(io.BytesIO(download.value.path().read_bytes()))
    assert len(reader.pages) == eligible

    # One certificate: scan its QR code (here: open the printed address) and see "Valid".
    page.goto(course_url)
    page.locator("main table").last.locator("tbody a").first.click()
    assert _violations(page) == "", "certificate"
    verify_href = page.locator("dd a", has_text="-").first.get_attribute("href")
    visitor = page.context.browser.new_context(locale="en-GB").new_page()
    visitor.goto(f"{live_server}{verify_href}")
    assert visitor.locator(".result__score").inner_text().strip() == "Valid"
    assert _violations(visitor) == "", "verification page"

    page.get_by_label("Reason").last.fill("Issued in error: the person was on leave.")
    page.get_by_role("button", name="Revoke").click()
    assert page.get_by_text("The certificate is revoked").is_visible()
    visitor.reload()
    assert visitor.locator(".result__score").inner_text().strip().startswith("Revoked on")
    visitor.goto(f"{live_server}/verify/")
    assert _violations(visitor) == "", "verification form"
    visitor.get_by_label("Verification code").fill("0000 0000 0000 0000")
    visitor.get_by_role("button", name="Verify").click()
    assert visitor.get_by_role("heading", name="Page not found").is_visible()

    page.goto(f"{live_server}/certificates/signatories")
    assert _violations(page) == "", "signatories"
    page.locator(".user-menu button").click()
    page.wait_for_url(f"{live_server}/auth/login")
    log_in(page, live_server, "cadet@example.org", DEMO_PASSWORD)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My certificates").click()
    assert _violations(page) == "", "my certificates"
    with page.expect_download() as mine:
        page.get_by_role("link", name="Download the PDF").first.click()
    assert mine.value.suggested_filename.startswith("RNGT-")
    assert page.csp_errors == []


def test_a_coordinator_reads_the_staff_trained_figures(app, demo, real_content, live_server, page) -> None:
    """The reports story of issue 7: headline, filters, the people behind a number, exports."""
    import csv
    import io

    import openpyxl
    import pypdf

    log_in(page, live_server, "coordinator@example.org", DEMO_PASSWORD)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Staff trained").click()
    assert "staff trained of the target of 4,700" in page.locator(".headline").inner_text()
    assert page.get_by_text("Sex not recorded:").is_visible()
    assert _violations(page) == "", "staff trained"

    page.get_by_label("Country", exact=True).select_option(label="Montenegro")
    page.get_by_label("From", exact=True).fill("2025-01-01")
    page.get_by_label("To", exact=True).fill("2025-12-31")
    page.get_by_role("button", name="Show").click()
    assert _violations(page) == "", "staff trained, filtered"
    row = page.locator("table", has=page.locator("caption", has_text="By country")).locator("tbody tr").first
    assert row.locator("th").inner_text() == "Montenegro"
    cells = [cell.inner_text() for cell in row.locator("td").all()]
    women, men, unrecorded, total = (int(cell.replace(",", "")) for cell in cells[:4])
    assert total == women + men + unrecorded > 0
    headline = page.locator(".headline").inner_text()
    assert headline.startswith(f"{total} staff trained")

    row.locator("td").nth(0).get_by_role("link").click()  # the women of Montenegro trained in 2025
    assert page.get_by_role("heading", level=1).inner_text().endswith(f"({women})")
    assert page.locator("main table tbody tr").count() == min(women, 50)
    assert _violations(page) == "", "people behind a number"
    page.go_back()

    exports = {}
    for name in ("CSV", "XLSX", "PDF summary"):
        with page.expect_download() as download:
            page.get_by_role("link", name=name, exact=True).click()
        exports[name] = download.value.path().read_bytes()
    rows = list(csv.reader(io.StringIO(exports["CSV"].decode("utf-8-sig"))))
    montenegro = next(r for r in rows if r[0] == "By country" and r[1] == "Montenegro")
    assert [int(v) for v in montenegro[2:6]] == [women, men, unrecorded, total]
    sheet = openpyxl.load_workbook(io.BytesIO(exports["XLSX"]))["By country"]
    assert next(r for r in sheet.iter_rows(values_only=True) if r[0] == "Montenegro")[1:5] == (
        women,
        men,
        unrecorded,
        total,
    )
    text = "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(exports["PDF summary"])).pages)
    assert f"{total} staff trained of the target of 4,700" in text
    assert f"Montenegro {women} {men} {unrecorded} {total}" in text

    page.get_by_role("link", name="Human resources report").click()
    assert page.get_by_role("heading", name="Human resources report").is_visible()
    assert _violations(page) == "", "human resources report"
    assert page.csp_errors == []


def test_trust_who_may_act_on_whom_and_the_second_factor(app, demo, live_server, page, tmp_path) -> None:
    """The trust story of issue 10, clicked through, with accessibility checks."""
    import pyotp
    import sqlalchemy as sa

    from lms import db
    from lms.models import Country, Course, CourseStatus, User

    with app.app_context(), db.new_session() as session:
        admin_id = session.scalar(sa.select(User.id).where(User.email == "admin@example.org"))
        serbian = session.scalar(
            sa.select(User.email).join(Country, Country.id == User.country_id).where(Country.code == "RS").limit(1)
        )
        course_mk = session.scalar(
            sa.select(Course.id)
            .join(Country, Country.id == Course.country_id)
            .where(Country.code == "MK", Course.status.not_in([CourseStatus.COMPLETED, CourseStatus.CANCELLED]))
            .limit(1)
        )

    # The regional coordinator sees the administrator listed, but cannot open the record.
    log_in(page, live_server, "coordinator@example.org", DEMO_PASSWORD)
    page.goto(f"{live_server}/people/?q=admin")
    assert "Managed by an administrator" in page.content()
    assert page.locator(f'a[href="/people/{admin_id}"]').count() == 0
    assert page.goto(f"{live_server}/people/{admin_id}").status == 404
    page.goto(f"{live_server}/")
    page.locator(".user-menu button").click()

    # The Macedonian coordinator's roster preview says the same for a registered and an
    # unregistered person of Serbia, and nothing is imported.
    log_in(page, live_server, "coordinator.mk@example.org", DEMO_PASSWORD)
    roster = tmp_path / "roster.csv"
    header = "full_name,email,sex,country,institution,category,rank\n"
    messages = []
    for email in (serbian, "nobody.in.serbia@example.org"):
        roster.write_text(header + f"Jovan Jovanović,{email},male,RS,,,\n", encoding="utf-8")
        page.goto(f"{live_server}/courses/{course_mk}/import")
        page.set_input_files("input[type=file]", str(roster))
        page.locator("main form button[type=submit]").click()
        page.wait_for_load_state()
        messages.append(page.locator("ul.problems").inner_text())
    assert messages[0] == messages[1] and messages[0]
    assert _violations(page) == "", "roster preview"
    page.locator(".user-menu button").click()

    # The administrator sets up a second factor and is then asked for it at every login.
    log_in(page, live_server, "admin@example.org", DEMO_PASSWORD)
    page.goto(f"{live_server}/account/mfa/setup")
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(f"{live_server}/account/mfa/setup")
    assert page.locator(".qr-code svg").count() == 1
    assert _violations(page) == "", "set-up page"
    secret = page.locator("main code").first.inner_text().replace(" ", "")
    totp = pyotp.TOTP(secret)
    page.get_by_label("Code from the app").fill(totp.now())
    page.get_by_label("Your password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Turn on").click()
    page.wait_for_load_state()
    codes = page.locator("main li code").all_inner_texts()
    assert len(codes) == 10
    assert _violations(page) == "", "recovery codes page"
    page.locator(".user-menu button").click()
    page.wait_for_url(f"{live_server}/auth/login")

    log_in(page, live_server, "admin@example.org", DEMO_PASSWORD)
    assert page.url == f"{live_server}/auth/mfa"
    assert _violations(page) == "", "second step of logging in"
    page.get_by_label("Code").fill(codes[0])  # the recovery code works once...
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server}/")
    page.locator(".user-menu button").click()
    page.wait_for_url(f"{live_server}/auth/login")
    log_in(page, live_server, "admin@example.org", DEMO_PASSWORD)
    page.get_by_label("Code").fill(codes[0])  # ...and only once
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()
    assert page.url == f"{live_server}/auth/mfa"
    assert page.locator("#code-error").count() == 1
    assert page.csp_errors == []
