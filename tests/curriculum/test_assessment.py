"""A track's pre-test and post-test, and the learning they measure by sex and country."""

import html
import re

import sqlalchemy as sa

from lms.models import Role, Sex, TrackAssessment
from tests.conftest import login_as
from tests.curriculum.helpers import RIGHT, WRONG, submit_check


def _take(client, phase: str, right: bool):
    page = client.get(f"/learn/tracks/basics/tests/{phase}").get_data(as_text=True)
    found = re.search(r'name="token" value="([^"]+)"', page)
    token = html.unescape(found.group(1)) if found else "no form was offered"
    answer = "a" if right else "b"
    data = {"token": token, "answer-first-module/q1": [answer], "answer-second-module/q1": [answer]}
    return client.post(f"/learn/tracks/basics/tests/{phase}", data=data)


def test_pre_test_before_starting_and_post_test_after_finishing(client, make_user, session) -> None:
    login_as(client, make_user(roles=[Role.TRAINEE]))
    track = client.get("/learn/tracks/basics").get_data(as_text=True)
    assert "/learn/tracks/basics/tests/pre" in track and "/learn/tracks/basics/tests/post" not in track
    assert _take(client, "post", True).status_code == 400  # not open yet
    assert _take(client, "pre", False).status_code == 302
    assert _take(client, "pre", True).status_code == 400  # once only
    submit_check(client, "first-module", RIGHT)
    submit_check(client, "second-module", RIGHT)
    assert "/learn/tracks/basics/tests/post" in client.get("/learn/tracks/basics").get_data(as_text=True)
    assert _take(client, "post", True).status_code == 302
    session.rollback()
    scores = dict(session.execute(sa.select(TrackAssessment.phase, TrackAssessment.score)).tuples().all())
    assert scores == {"pre": 0, "post": 100}


def test_the_pre_test_closes_once_a_module_is_complete(client, make_user) -> None:
    login_as(client, make_user(roles=[Role.TRAINEE]))
    submit_check(client, "first-module", RIGHT)
    assert "/learn/tracks/basics/tests/pre" not in client.get("/learn/tracks/basics").get_data(as_text=True)
    assert _take(client, "pre", True).status_code == 400


def test_results_by_sex_and_country_with_gain(app, make_user, client) -> None:
    def learner(sex: Sex, country: str, pre: bool, post: bool) -> None:
        browser = app.test_client()
        login_as(browser, make_user(roles=[Role.TRAINEE], sex=sex, country=country))
        _take(browser, "pre", pre)
        submit_check(browser, "first-module", RIGHT)
        submit_check(browser, "second-module", WRONG)
        submit_check(browser, "second-module", RIGHT)
        _take(browser, "post", post)

    learner(Sex.FEMALE, "RS", False, True)
    learner(Sex.MALE, "ME", False, False)
    learner(Sex.NOT_RECORDED, "ME", True, True)
    login_as(client, make_user("coordinator@example.org", roles={Role.COORDINATOR: None}, country="REG"))
    page = client.get("/learn/tracks/basics/results").get_data(as_text=True)
    rows = {
        html.unescape(label).strip(): [html.unescape(cell).strip() for cell in cells]
        for label, cells in (
            (match.group(1), re.findall(r'<td class="num">(.*?)</td>', match.group(2), re.S))
            for match in re.finditer(r'<th scope="row">(.*?)</th>(.*?)</tr>', page, re.S)
        )
    }
    assert rows["Everyone"] == ["3", "33%", "3", "67%", "3", "+33 points"]
    assert rows["Female"] == ["1", "0%", "1", "100%", "1", "+100 points"]
    assert rows["Male"] == ["1", "0%", "1", "0%", "1", "0 points"]
    assert rows["Not recorded"] == ["1", "100%", "1", "100%", "1", "0 points"]
    assert rows["Montenegro"][:2] == ["2", "50%"]


def test_a_country_coordinator_sees_only_their_countrys_results(app, make_user, client) -> None:
    browser = app.test_client()
    login_as(browser, make_user(roles=[Role.TRAINEE], country="RS"))
    _take(browser, "pre", True)
    login_as(client, make_user("k@example.org", roles={Role.COORDINATOR: "ME"}, country="ME"))
    page = client.get("/learn/tracks/basics/results").get_data(as_text=True)
    assert '<th scope="row">Serbia</th>' not in page
    assert '<th scope="row">Montenegro</th>' not in page  # nobody from Montenegro took it
