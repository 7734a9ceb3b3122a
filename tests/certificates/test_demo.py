"""The demo data shows certificates at once: every country has a completed course with
its certificates (one revoked), and one completed course waits for the coordinator; the
course under way shows nobody completed and offers no certificate."""

import sqlalchemy as sa

from lms import db
from lms.demo import DEMO_PASSWORD
from lms.demo_certificates import LEFT_FOR_THE_COORDINATOR
from lms.models import Certificate, CertificateStatus, Country, Course, CourseStatus, Enrolment
from tests.conftest import login


def test_demo_certificates(app, runner) -> None:
    assert runner.invoke(args=["lms", "demo"]).exit_code == 0
    with app.app_context(), db.new_session() as session:
        rows = session.execute(
            sa.select(Country.code, Certificate.status, sa.func.count())
            .join(Course, Course.id == Certificate.course_id)
            .join(Country, Country.id == Course.country_id)
            .where(Course.status == CourseStatus.COMPLETED)
            .group_by(Country.code, Certificate.status)
        ).all()
        valid = {code for code, status, count in rows if status == CertificateStatus.VALID and count}
        assert valid == {"BA", "ME", "MK", "RS"}
        assert sum(count for _code, status, count in rows if status == CertificateStatus.REVOKED) == 1
        revoked = session.scalar(sa.select(Certificate).where(Certificate.status == CertificateStatus.REVOKED))
        revoked_code = revoked.current.code
        waiting = session.scalar(sa.select(Course).where(Course.title == LEFT_FOR_THE_COORDINATOR))
        assert waiting.status == CourseStatus.COMPLETED
        assert not session.scalar(sa.select(sa.func.count()).where(Certificate.course_id == waiting.id))

    assert "Revoked on" in app.test_client().get(f"/verify/{revoked_code}").get_data(as_text=True)
    coordinator = app.test_client()
    assert login(coordinator, "coordinator@example.org", DEMO_PASSWORD).status_code == 302
    page = coordinator.get("/certificates/").get_data(as_text=True)
    assert LEFT_FOR_THE_COORDINATOR in page
    cadet = app.test_client()
    assert login(cadet, "cadet@example.org", DEMO_PASSWORD).status_code == 302
    assert "Sex-disaggregated HR data for personnel officers" in cadet.get("/certificates/mine").get_data(as_text=True)

    with app.app_context(), db.new_session() as session:
        under_way = session.scalar(sa.select(Course).where(Course.status == CourseStatus.IN_PROGRESS))
        assert not session.scalar(
            sa.select(sa.func.count()).where(Enrolment.course_id == under_way.id, Enrolment.is_completed)
        )
    assert under_way.title not in page
    certificates = coordinator.get(f"/certificates/courses/{under_way.id}").get_data(as_text=True)
    assert "This course has not ended" in certificates and 'name="holders"' not in certificates
    trainer = app.test_client()
    assert login(trainer, "trainer@example.org", DEMO_PASSWORD).status_code == 302
    results = trainer.get(f"/courses/{under_way.id}/results").get_data(as_text=True)
    assert "Under way" in results and "status--done" not in results and "0/0" not in results
