"""Public verification: valid, expired, superseded, revoked, unknown and mistyped codes;
nothing else about the person; a rate limit per address."""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa

from lms.certificates import codes
from lms.models import Certificate, Role, User
from tests.certificates.helpers import completed_course, trainees
from tests.conftest import login_as


def _certificate(app, make_user, session, name="Ljiljana Đukanović", **issue):
    coordinator = make_user("coordinator@example.org", roles={Role.COORDINATOR: None}, country="REG")
    trainer = make_user("trainer@example.org", roles={Role.TRAINER: None})
    (person,) = trainees(make_user, [name], country="ME")
    course = completed_course(session, trainer, [person], title="Preventing sexual harassment in units")
    client = app.test_client()
    login_as(client, coordinator)
    client.post(f"/certificates/courses/{course.id}/issue", data={"scope": "all", "language": "", **issue})
    session.rollback()
    session.expire_all()
    return client, session.scalar(sa.select(Certificate)), person


def test_a_valid_certificate_verifies_without_logging_in(app, make_user, session) -> None:
    _coordinator, certificate, person = _certificate(app, make_user, session)
    code = codes.display_code(certificate.current.code)
    page = app.test_client().get(f"/verify/{code}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Valid" in text
    for shown in ("Ljiljana Đukanović", "Preventing sexual harassment in units", certificate.serial):
        assert shown in text
    # Nothing else about the person: no email, sex, institution or rank.
    for hidden in (person.email, "female", "Female"):
        assert hidden not in text


def test_codes_are_read_the_way_people_type_them(app, make_user, session) -> None:
    _coordinator, certificate, _person = _certificate(app, make_user, session)
    code = certificate.current.code
    client = app.test_client()
    typed = [
        code.lower(),
        " ".join(code[i : i + 4] for i in range(0, 16, 4)),
        "–".join(code[i : i + 4] for i in range(0, 16, 4)),  # an en dash from a word processor
        code.replace("0", "O").replace("1", "I"),
    ]
    for variant in typed:
        response = client.get(f"/verify/{variant}")
        assert response.status_code == 200, variant
        assert certificate.serial in response.get_data(as_text=True)
    form = client.get("/verify/", query_string={"code": code.lower()})
    assert form.status_code == 302 and form.headers["Location"].endswith(codes.display_code(code))


def test_unknown_and_malformed_codes_are_a_plain_404(app, make_user, session) -> None:
    _coordinator, certificate, _person = _certificate(app, make_user, session)
    code = certificate.current.code
    client = app.test_client()
    wrong_letter = ("A" if code[0] != "A" else "B") + code[1:]
    for attempt in (wrong_letter, code[:-1], code + "7", "x" * 5000, "%00", "ЂЂЂЂ-ЂЂЂЂ-ЂЂЂЂ-ЂЂЂЂ", "../../etc/passwd"):
        response = client.get(f"/verify/{attempt}")
        assert response.status_code == 404, attempt
        assert certificate.serial not in response.get_data(as_text=True)
    response = client.get("/verify/", query_string={"code": "not a code"})
    assert response.status_code == 400
    assert "16 letters and digits" in response.get_data(as_text=True)


def test_revoked_superseded_and_expired_say_so_with_the_date(app, make_user, session) -> None:
    coordinator, certificate, person = _certificate(app, make_user, session, valid_months="6")
    first_code = certificate.current.code
    # Expired: the course ended in March 2026, six months' validity ran out in September.
    assert certificate.valid_until == certificate.end_date.replace(month=certificate.end_date.month + 6)
    page = app.test_client().get(f"/verify/{first_code}").get_data(as_text=True)
    assert "Expired on" in page

    session.get(User, person.id).full_name = "Ljiljana Đukanović-Petrović"
    session.commit()
    coordinator.post(
        f"/certificates/{certificate.id}/reissue",
        data={"reissue-reason": "Name changed", "reissue-csrf_token": coordinator.csrf_token()},
    )
    page = app.test_client().get(f"/verify/{first_code}").get_data(as_text=True)
    assert "Superseded on" in page
    session.rollback()
    session.expire_all()
    second_code = session.get(Certificate, certificate.id).current.code
    assert "Đukanović-Petrović" in app.test_client().get(f"/verify/{second_code}").get_data(as_text=True)

    coordinator.post(
        f"/certificates/{certificate.id}/revoke",
        data={"revoke-reason": "Issued in error", "revoke-csrf_token": coordinator.csrf_token()},
    )
    for code in (first_code, second_code):
        page = app.test_client().get(f"/verify/{code}").get_data(as_text=True)
        assert "Revoked on" in page
        assert "Issued in error" not in page  # the reason is internal


def test_a_certificate_with_validity_left_is_valid(app, make_user, session) -> None:
    _coordinator, certificate, _person = _certificate(app, make_user, session, valid_months="120")
    assert certificate.valid_until > date.today() + timedelta(days=365)
    assert ">Valid<" in app.test_client().get(f"/verify/{certificate.current.code}").get_data(as_text=True).replace(
        "\n", ""
    ).replace(" ", "")


def test_verification_is_rate_limited_per_address(app, make_user, session) -> None:
    app.config["VERIFY_RATE_LIMIT"] = 5
    _coordinator, certificate, _person = _certificate(app, make_user, session)
    client = app.test_client()
    statuses = [client.get(f"/verify/{certificate.current.code}").status_code for _ in range(7)]
    assert statuses == [200] * 5 + [429] * 2
    other = app.test_client().get(f"/verify/{certificate.current.code}", environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert other.status_code == 200
    # Guessing counts too: unknown codes use up the same allowance.
    guesses = [
        client.get(f"/verify/{'A' * 16}", environ_base={"REMOTE_ADDR": "10.0.0.10"}).status_code for _ in range(6)
    ]
    assert guesses == [404] * 5 + [429]
