"""Issuing certificates: who is eligible, serial numbers, idempotency (also under two
concurrent requests), scope, reissue and revoke, and the audit trail."""

from __future__ import annotations

import json
import re
import threading

import pytest
import sqlalchemy as sa

from lms.models import AuditEvent, Certificate, CertificateRevision, CertificateStatus, Role, Signatory, User
from tests.certificates.helpers import NAMES, completed_course, trainees
from tests.conftest import country_id, login_as


def _staff(make_user):
    return {
        "coordinator": make_user("coordinator@example.org", roles={Role.COORDINATOR: None}, country="REG"),
        "coordinator_mk": make_user("coord.mk@example.org", roles={Role.COORDINATOR: "MK"}, country="MK"),
        "trainer": make_user("trainer@example.org", roles={Role.TRAINER: "RS"}),
    }


def _change(client, certificate_id: int, what: str, reason: str):
    """Post the reissue or revoke form, whose fields carry the form's prefix."""
    data = {f"{what}-reason": reason, f"{what}-csrf_token": client.csrf_token()}
    return client.post(f"/certificates/{certificate_id}/{what}", data=data)


def _certificates(session, course_id=None) -> list[Certificate]:
    session.rollback()
    session.expire_all()  # what the app changed since, the helper session reads afresh
    query = sa.select(Certificate).order_by(Certificate.number)
    if course_id is not None:
        query = query.where(Certificate.course_id == course_id)
    return list(session.scalars(query))


def test_coordinator_sees_who_completed_and_issues_for_all(app, make_user, session) -> None:
    staff = _staff(make_user)
    people = trainees(make_user, NAMES)
    course = completed_course(session, staff["trainer"], people)
    client = app.test_client()
    login_as(client, staff["coordinator"])

    page = client.get(f"/certificates/courses/{course.id}").get_data(as_text=True)
    for name in NAMES:
        assert name in page
    response = client.post(f"/certificates/courses/{course.id}/issue", data={"scope": "all", "language": "sr-Cyrl"})
    assert response.status_code == 302

    certificates = _certificates(session, course.id)
    assert len(certificates) == len(NAMES)
    year = certificates[0].year
    assert [c.serial for c in certificates] == [f"RNGT-{year}-{n:06d}" for n in range(1, len(NAMES) + 1)]
    assert {c.current.holder_name for c in certificates} == set(NAMES)
    assert all(re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{16}", c.current.code) for c in certificates)
    assert len({c.current.code for c in certificates}) == len(NAMES)
    assert certificates[0].minutes == 3 * 180  # three sessions of three hours
    page = client.get(f"/certificates/courses/{course.id}").get_data(as_text=True)
    assert "Nobody is waiting for a certificate here." in page


def test_issuing_again_issues_nothing_twice(app, make_user, session) -> None:
    staff = _staff(make_user)
    people = trainees(make_user, ["Ana Anić", "Marko Marković"])
    course = completed_course(session, staff["trainer"], people)
    client = app.test_client()
    login_as(client, staff["coordinator"])
    client.post(f"/certificates/courses/{course.id}/issue", data={"holders": [people[0].id], "language": ""})
    assert len(_certificates(session, course.id)) == 1
    # A stale page posting the first person again, with the second: only the second is new.
    client.post(
        f"/certificates/courses/{course.id}/issue",
        data={"holders": [people[0].id, people[1].id], "language": ""},
    )
    assert (
        client.post(f"/certificates/courses/{course.id}/issue", data={"scope": "all", "language": ""}).status_code
        == 302
    )
    certificates = _certificates(session, course.id)
    assert [c.holder_id for c in certificates] == [people[0].id, people[1].id]
    assert [c.number for c in certificates] == [1, 2]
    # "English only" was chosen, although the course was taught in Serbian.
    assert course.language == "sr-Latn" and {c.language for c in certificates} == {None}


def test_two_concurrent_issue_requests_issue_each_certificate_once(app, make_user, session) -> None:
    staff = _staff(make_user)
    people = trainees(make_user, [f"Polaznik {n}" for n in range(12)])
    course = completed_course(session, staff["trainer"], people)
    coordinators = [staff["coordinator"].id, make_user("admin@example.org", roles=[Role.ADMIN]).id]
    session.rollback()
    start = threading.Barrier(2)
    statuses: list[int] = []
    errors: list[BaseException] = []

    def issue(user_id: int) -> None:
        client = app.test_client()
        login_as(client, user_id)
        start.wait()
        try:
            statuses.append(
                client.post(
                    f"/certificates/courses/{course.id}/issue", data={"scope": "all", "language": ""}
                ).status_code
            )
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=issue, args=(user_id,)) for user_id in coordinators]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert statuses == [302, 302]
    certificates = _certificates(session, course.id)
    assert sorted(c.holder_id for c in certificates) == sorted(p.id for p in people)
    # Serial numbers without gaps or repeats, whatever the interleaving was.
    assert sorted(c.number for c in certificates) == list(range(1, len(people) + 1))


def test_one_certificate_per_person_and_achievement_is_a_database_rule(app, make_user, session) -> None:
    staff = _staff(make_user)
    people = trainees(make_user, ["Ana Anić"])
    course = completed_course(session, staff["trainer"], people)
    client = app.test_client()
    login_as(client, staff["coordinator"])
    client.post(f"/certificates/courses/{course.id}/issue", data={"scope": "all", "language": ""})
    (first,) = _certificates(session, course.id)
    duplicate = Certificate(
        serial="RNGT-1999-000001", year=1999, number=1, holder_id=first.holder_id, kind=first.kind,
        achievement_key=first.achievement_key, country_id=first.country_id, title="x", start_date=first.start_date,
        end_date=first.end_date, issuers="[]", signatories="[]", modules="[]",
    )  # fmt: skip
    session.add(duplicate)
    with pytest.raises(sa.exc.IntegrityError):
        session.commit()
    session.rollback()


def test_coordinators_work_within_their_country(app, make_user, session) -> None:
    staff = _staff(make_user)
    people = trainees(make_user, ["Ana Anić"])
    course = completed_course(session, staff["trainer"], people, country="RS")
    client = app.test_client()
    login_as(client, staff["coordinator_mk"])
    assert client.get(f"/certificates/courses/{course.id}").status_code == 404
    assert client.post(f"/certificates/courses/{course.id}/issue", data={"scope": "all"}).status_code == 404
    assert course.title not in client.get("/certificates/").get_data(as_text=True)

    login_as(client, staff["coordinator"])
    client.post(f"/certificates/courses/{course.id}/issue", data={"scope": "all", "language": ""})
    (certificate,) = _certificates(session, course.id)
    login_as(client, staff["coordinator_mk"])
    for url in (f"/certificates/{certificate.id}", f"/certificates/{certificate.id}/pdf"):
        assert client.get(url).status_code == 404
    assert _change(client, certificate.id, "revoke", "x").status_code == 404
    login_as(client, staff["trainer"])
    assert client.get(f"/certificates/courses/{course.id}").status_code == 403


def test_choosing_someone_not_eligible_is_refused(app, make_user, session) -> None:
    staff = _staff(make_user)
    people = trainees(make_user, ["Ana Anić"])
    outsider = make_user(name="Not On The Course", roles=[Role.TRAINEE])
    course = completed_course(session, staff["trainer"], people)
    client = app.test_client()
    login_as(client, staff["coordinator"])
    response = client.post(f"/certificates/courses/{course.id}/issue", data={"holders": [outsider.id], "language": ""})
    assert response.status_code == 400
    assert "Choose among the people listed" in response.get_data(as_text=True)
    response = client.post(f"/certificates/courses/{course.id}/issue", data={"holders": ["1x"], "language": ""})
    assert response.status_code == 400
    response = client.post(
        f"/certificates/courses/{course.id}/issue", data={"scope": "all", "language": "", "valid_months": "9999"}
    )
    assert response.status_code == 400
    assert "from 1 to 120" in response.get_data(as_text=True)
    assert _certificates(session, course.id) == []


def test_signatories_are_printed_as_they_were_when_issued(app, make_user, session) -> None:
    staff = _staff(make_user)
    people = trainees(make_user, ["Ana Anić"])
    course = completed_course(session, staff["trainer"], people, country="RS")
    client = app.test_client()
    login_as(client, staff["coordinator"])
    rs = country_id(session, "RS")
    client.post(
        "/certificates/signatories",
        data={"name": "Regional Head", "function": "Network chair", "country_id": "0", "position": "2"},
    )
    client.post(
        "/certificates/signatories",
        data={
            "name": "Јелена Петровић",
            "function": "Head of the Gender Office, MoD Serbia",
            "country_id": str(rs),
            "position": "1",
        },
    )
    client.post(f"/certificates/courses/{course.id}/issue", data={"scope": "all", "language": ""})
    (certificate,) = _certificates(session, course.id)
    names = [signer["name"] for signer in json.loads(certificate.signatories)]
    assert names == ["Јелена Петровић", "Regional Head"]
    # A country coordinator may not set regional signatories.
    login_as(client, staff["coordinator_mk"])
    response = client.post("/certificates/signatories", data={"name": "X", "function": "Y", "country_id": "0"})
    assert response.status_code == 400
    regional = session.scalar(sa.select(Signatory).where(Signatory.name == "Regional Head"))
    assert client.post(f"/certificates/signatories/{regional.id}/remove").status_code == 404


def test_reissue_after_a_name_correction_keeps_the_serial(app, make_user, session) -> None:
    staff = _staff(make_user)
    people = trainees(make_user, ["Ljiljana Đukanovic"])  # misspelt: ć recorded as c
    course = completed_course(session, staff["trainer"], people)
    client = app.test_client()
    login_as(client, staff["coordinator"])
    client.post(f"/certificates/courses/{course.id}/issue", data={"scope": "all", "language": ""})
    (certificate,) = _certificates(session, course.id)
    old_code = certificate.current.code

    person = session.get(User, people[0].id)
    person.full_name = "Ljiljana Đukanović"
    session.commit()
    page = client.get(f"/certificates/{certificate.id}").get_data(as_text=True)
    assert "reissue the certificate to print it" in page
    response = _change(client, certificate.id, "reissue", "Name corrected")
    assert response.status_code == 302

    (certificate,) = _certificates(session, course.id)
    assert certificate.serial.endswith("000001")
    assert [r.number for r in certificate.revisions] == [1, 2]
    assert certificate.current.holder_name == "Ljiljana Đukanović"
    assert certificate.current.code != old_code
    old = session.scalar(sa.select(CertificateRevision).where(CertificateRevision.code == old_code))
    assert old.superseded_at is not None
    events = session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "certificate.reissued")).all()
    assert len(events) == 1 and "Name corrected" in events[0].details


def test_revoke_needs_a_reason_and_is_recorded(app, make_user, session) -> None:
    staff = _staff(make_user)
    people = trainees(make_user, ["Ana Anić"])
    course = completed_course(session, staff["trainer"], people)
    client = app.test_client()
    login_as(client, staff["coordinator"])
    client.post(f"/certificates/courses/{course.id}/issue", data={"scope": "all", "language": ""})
    (certificate,) = _certificates(session, course.id)
    _change(client, certificate.id, "revoke", "")
    assert _certificates(session, course.id)[0].status == CertificateStatus.VALID
    _change(client, certificate.id, "revoke", "Issued by mistake")
    (certificate,) = _certificates(session, course.id)
    assert certificate.status == CertificateStatus.REVOKED
    assert certificate.revoked_reason == "Issued by mistake"
    actions = set(session.scalars(sa.select(AuditEvent.action).where(AuditEvent.action.like("certificate.%"))))
    assert {"certificate.issued", "certificate.revoked"} <= actions
    # A revoked certificate is not reissued, and its serial is never given again.
    _change(client, certificate.id, "reissue", "try")
    assert len(_certificates(session, course.id)[0].revisions) == 1
    more = trainees(make_user, ["Marko Marković"])
    second = completed_course(session, staff["trainer"], more, title="Second course")
    client.post(f"/certificates/courses/{second.id}/issue", data={"scope": "all", "language": ""})
    assert _certificates(session, second.id)[0].number == 2
