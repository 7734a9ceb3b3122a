"""Demo certificates: signatories, and the certificates of every completed demo course
(one of them revoked), so a new user sees real certificates at once. Commanders who
completed a coaching cycle are left for the coordinator to certify.

The signatories are invented people with typical functions, as all demo people are.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lms.certificates import eligibility, service
from lms.models import Country, Course, CourseStatus, Signatory, User

# Completed, but left for the coordinator to certify (the demo's first task).
LEFT_FOR_THE_COORDINATOR = "Gender analysis in operational planning"

# name, function, country (None: regional), order
SIGNATORIES = [
    ("Ivana Marković", "Coordinator, Regional Network of Gender Trainers", None, 9),
    ("Mirela Hodžić", "Head of the Gender Equality Office, Ministry of Defence of Bosnia and Herzegovina", "BA", 1),
    ("Vesna Bulatović", "Head of Human Resources, Ministry of Defence of Montenegro", "ME", 1),
    ("Александра Трајковска", "Head of the Gender Equality Unit, Ministry of Defence of North Macedonia", "MK", 1),
    ("Dragana Nikolić", "Head of the Gender Equality Section, Ministry of Defence of Serbia", "RS", 1),
]


def load_demo_certificates(session: Session) -> int:
    countries = {country.code: country.id for country in session.scalars(sa.select(Country))}
    for name, function, code, position in SIGNATORIES:
        country_id = countries[code] if code else None
        session.add(Signatory(name=name, function=function, country_id=country_id, position=position))
    session.flush()
    coordinator = session.scalar(sa.select(User).where(User.email == "coordinator@example.org"))
    issued = []
    for course in session.scalars(
        sa.select(Course)
        .where(Course.status == CourseStatus.COMPLETED, Course.title != LEFT_FOR_THE_COORDINATOR)
        .order_by(Course.end_date, Course.id)
    ):
        issued += service.issue(session, eligibility.course_achievements(session, course), actor=coordinator)
    if issued:
        service.revoke(
            session,
            issued[-1],
            "Issued by mistake: the attendance sheet of the last day had been misread.",
            actor=coordinator,
        )
    return len(issued)
