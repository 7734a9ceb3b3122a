"""What is refused is audited: certificates, print jobs and signatories looked up outside
the actor's reach (404, one audit row naming the actor and the reason), a holder probing
other people's certificates, and forms refused for a missing or wrong CSRF token."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from lms import errors, ratelimit
from lms.audit.service import Action
from lms.certificates import codes
from lms.models import Certificate, CertificateStatus, Role, Signatory
from tests.certificates.helpers import completed_course, trainees
from tests.conftest import login_as


@pytest.fixture
def issued(app, make_user, session):
    """Two holders with a certificate each (Serbia), issued by a regional coordinator."""
    coordinator = make_user("coordinator@example.org", roles={Role.COORDINATOR: None}, country="REG")
    trainer = make_user("trainer@example.org", roles={Role.TRAINER: "RS"})
    ana, marko = trainees(make_user, ["Ana Anić", "Marko Marković"])
    course = completed_course(session, trainer, [ana, marko])
    client = app.test_client()
    login_as(client, coordinator)
    client.post(f"/certificates/courses/{course.id}/issue", data={"scope": "all", "language": ""})
    session.rollback()
    certificates = {c.holder_id: c for c in session.scalars(sa.select(Certificate))}
    return {
        "coordinator": client,
        "course": course,
        "ana": ana,
        "marko": marko,
        "ana_certificate": certificates[ana.id],
        "marko_certificate": certificates[marko.id],
    }


def _refused_once(audit_rows, before: int, *, actor: str, reason: str, path: str):
    """The one audit row the refusal wrote (``before``: the number of rows until then)."""
    new = audit_rows(Action.ACCESS_DENIED)[before:]
    assert len(new) == 1, [(e.path, e.details) for e in new]
    [event] = new
    assert event.actor_email == actor
    assert json.loads(event.details) == {"reason": reason, "status": 404}
    assert event.path == path
    return event


def _as(app, make_user, email: str, **options):
    client = app.test_client()
    login_as(client, make_user(email, **options))
    return client


# --- Holders -------------------------------------------------------------------------------


def test_a_holder_downloads_their_own_certificate_and_nothing_is_refused(app, issued, audit_rows) -> None:
    client = app.test_client()
    login_as(client, issued["ana"])
    response = client.get(f"/certificates/mine/{issued['ana_certificate'].id}/pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert audit_rows(Action.ACCESS_DENIED) == []


def test_a_holder_probing_another_persons_certificate_is_404_and_audited(app, issued, audit_rows) -> None:
    client = app.test_client()
    login_as(client, issued["ana"])
    other = issued["marko_certificate"]
    path = f"/certificates/mine/{other.id}/pdf"
    assert client.get(path).status_code == 404
    event = _refused_once(audit_rows, 0, actor=issued["ana"].email, reason="certificate of another person", path=path)
    assert (event.actor_id, event.target_type, event.target_id) == (issued["ana"].id, "certificate", str(other.id))
    # An id that does not exist is refused the same way, and audited too.
    missing = f"/certificates/mine/{other.id + 1000}/pdf"
    assert client.get(missing).status_code == 404
    _refused_once(audit_rows, 1, actor=issued["ana"].email, reason="no such certificate", path=missing)


def test_a_holders_revoked_certificate_is_refused_and_audited(app, issued, audit_rows) -> None:
    certificate = issued["ana_certificate"]
    revoke = {"revoke-reason": "Issued in error", "revoke-csrf_token": issued["coordinator"].csrf_token()}
    assert issued["coordinator"].post(f"/certificates/{certificate.id}/revoke", data=revoke).status_code == 302
    client = app.test_client()
    login_as(client, issued["ana"])
    path = f"/certificates/mine/{certificate.id}/pdf"
    assert client.get(path).status_code == 404
    _refused_once(audit_rows, 0, actor=issued["ana"].email, reason="revoked certificate", path=path)


# --- Coordinators --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "suffix"),
    [("get", ""), ("get", "/pdf"), ("post", "/reissue"), ("post", "/revoke")],
)
def test_a_certificate_outside_the_coordinators_country_is_404_and_audited(
    app, make_user, issued, session, audit_rows, method, suffix
) -> None:
    client = _as(app, make_user, "coord.mk@example.org", roles={Role.COORDINATOR: "MK"}, country="MK")
    certificate = issued["ana_certificate"]
    path = f"/certificates/{certificate.id}{suffix}"
    assert getattr(client, method)(path).status_code == 404
    event = _refused_once(
        audit_rows, 0, actor="coord.mk@example.org", reason="certificate outside the actor's country", path=path
    )
    assert event.target_id == str(certificate.id)
    # The refused request changed nothing.
    session.rollback()
    session.expire_all()
    unchanged = session.get(Certificate, certificate.id)
    assert unchanged.status == CertificateStatus.VALID and len(unchanged.revisions) == 1


def test_an_unknown_certificate_id_is_audited_for_a_coordinator(app, issued, audit_rows) -> None:
    path = "/certificates/999999"
    assert issued["coordinator"].get(path).status_code == 404
    _refused_once(audit_rows, 0, actor="coordinator@example.org", reason="no such certificate", path=path)


def test_a_course_outside_the_coordinators_country_is_404_and_audited(app, make_user, issued, audit_rows) -> None:
    client = _as(app, make_user, "coord.mk@example.org", roles={Role.COORDINATOR: "MK"}, country="MK")
    path = f"/certificates/courses/{issued['course'].id}"
    assert client.get(path).status_code == 404
    _refused_once(audit_rows, 0, actor="coord.mk@example.org", reason="course outside the actor's country", path=path)


def test_another_coordinators_print_job_is_404_and_audited(app, make_user, issued, audit_rows) -> None:
    course = issued["course"]
    job_url = issued["coordinator"].post(f"/certificates/courses/{course.id}/print", data={"format": "pdf"})
    job_path = job_url.headers["Location"]
    client = _as(app, make_user, "coord.rs@example.org", roles={Role.COORDINATOR: "RS"}, country="RS")
    for number, path in enumerate([job_path, f"{job_path}/status", f"{job_path}/download"]):
        assert client.get(path).status_code == 404
        event = _refused_once(
            audit_rows, number, actor="coord.rs@example.org", reason="print job of another person", path=path
        )
        assert event.target_type == "printjob"
    missing = "/certificates/jobs/999999"
    assert client.get(missing).status_code == 404
    _refused_once(audit_rows, 3, actor="coord.rs@example.org", reason="no such print job", path=missing)
    # The coordinator who printed it still sees it, and an admin may too.
    assert issued["coordinator"].get(job_path).status_code == 200
    admin = _as(app, make_user, "admin@example.org", roles=[Role.ADMIN])
    assert admin.get(f"{job_path}/status").status_code == 200
    assert len(audit_rows(Action.ACCESS_DENIED)) == 4


def test_a_signatory_outside_the_coordinators_country_is_404_and_audited(
    app, make_user, issued, session, audit_rows
) -> None:
    issued["coordinator"].post(
        "/certificates/signatories",
        data={"name": "Mira Marić", "function": "Head of Office", "country_id": "0", "position": "0"},
    )
    session.rollback()
    regional = session.scalar(sa.select(Signatory))
    client = _as(app, make_user, "coord.mk@example.org", roles={Role.COORDINATOR: "MK"}, country="MK")
    path = f"/certificates/signatories/{regional.id}/remove"
    assert client.post(path).status_code == 404
    _refused_once(
        audit_rows, 0, actor="coord.mk@example.org", reason="signatory outside the actor's country", path=path
    )
    session.rollback()
    assert session.get(Signatory, regional.id).active


# --- Public verification -------------------------------------------------------------------


def test_public_verification_is_not_an_authorization_and_is_not_audited(app, issued, audit_rows) -> None:
    client = app.test_client()
    code = codes.display_code(issued["ana_certificate"].current.code)
    assert client.get(f"/verify/{code}").status_code == 200
    assert client.get("/verify/7K3M-Q9XD-2HFA-PV4N").status_code == 404
    assert audit_rows(Action.ACCESS_DENIED) == []


# --- CSRF ----------------------------------------------------------------------------------


def test_a_form_without_its_csrf_token_is_refused_and_audited(app, make_user, issued, audit_rows) -> None:
    client = app.test_client()
    login_as(client, issued["ana"])
    response = client.post("/account/language", data={"language": "sr-Latn"}, csrf=False)
    assert response.status_code == 400
    [event] = audit_rows(Action.CSRF_REFUSED)
    assert (event.actor_id, event.actor_email) == (issued["ana"].id, issued["ana"].email)
    assert (event.method, event.path) == ("POST", "/account/language")
    assert json.loads(event.details) == {"reason": "The CSRF token is missing.", "status": 400}


def test_a_wrong_csrf_token_is_audited_without_the_token(app, audit_rows) -> None:
    client = app.test_client()
    forged = "forged-token-value-1234567890"
    response = client.post("/auth/login", data={"email": "a@example.org", "password": "x", "csrf_token": forged})
    assert response.status_code == 400
    [event] = audit_rows(Action.CSRF_REFUSED)
    assert event.actor_id is None and event.actor_email is None
    assert json.loads(event.details)["reason"] == "The CSRF token is invalid."
    stored = " ".join(str(value) for value in vars(event).values())
    assert forged not in stored
    assert "a@example.org" not in stored  # nor anything else the form carried


@pytest.fixture
def one_minute(monkeypatch):
    """Every request of the test falls in one rate-limit window."""
    monkeypatch.setattr(ratelimit, "time", SimpleNamespace(time=lambda: 1_800_000_000.0))


def _refused_post(client, address: str) -> int:
    return client.post(
        "/auth/login", data={"email": "a@example.org"}, csrf=False, environ_base={"REMOTE_ADDR": address}
    ).status_code


def test_a_flood_from_one_address_is_audited_only_up_to_its_limit(app, audit_rows, monkeypatch, one_minute) -> None:
    monkeypatch.setattr(errors, "CSRF_AUDITS_PER_ADDRESS", 3)
    client = app.test_client()
    assert [_refused_post(client, "192.0.2.1") for _ in range(6)] == [400] * 6
    assert len(audit_rows(Action.CSRF_REFUSED)) == 3
    # Another address is still heard.
    assert _refused_post(client, "192.0.2.2") == 400
    assert [e.ip for e in audit_rows(Action.CSRF_REFUSED)] == ["192.0.2.1"] * 3 + ["192.0.2.2"]


def test_a_flood_from_many_addresses_is_audited_only_up_to_the_overall_limit(
    app, audit_rows, monkeypatch, one_minute
) -> None:
    monkeypatch.setattr(errors, "CSRF_AUDITS_PER_MINUTE", 4)
    client = app.test_client()
    assert [_refused_post(client, f"192.0.2.{n}") for n in range(1, 11)] == [400] * 10
    assert len(audit_rows(Action.CSRF_REFUSED)) == 4
