"""The directory of the Regional Network of Gender Trainers."""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from lms.audit.service import record
from lms.models import Course, CourseStatus, CourseTrainer, Enrolment, Role, RoleGrant, Sex, TrainerProfile, User


@dataclass
class TrainerEntry:
    trainer: User
    languages: list[str]
    topics: str
    courses: list[Course] = field(default_factory=list)
    trained_by_sex: dict[Sex, int] = field(default_factory=lambda: dict.fromkeys(Sex, 0))

    @property
    def trained(self) -> int:
        return sum(self.trained_by_sex.values())


def directory(session: Session, *, country_id: int | None = None) -> list[TrainerEntry]:
    """Every active trainer with what they teach, the courses they delivered and the people
    who completed them, by sex (a person counts once per trainer)."""
    query = (
        sa.select(User)
        .where(User.is_active, User.role_grants.any(RoleGrant.role == Role.TRAINER))
        .order_by(User.sort_name)
    )
    if country_id is not None:
        query = query.where(User.country_id == country_id)
    trainers = session.scalars(query).all()
    ids = [trainer.id for trainer in trainers]
    profiles = {p.user_id: p for p in session.scalars(sa.select(TrainerProfile).where(TrainerProfile.user_id.in_(ids)))}
    entries = {
        trainer.id: TrainerEntry(
            trainer,
            [code for code in (profiles[trainer.id].languages if trainer.id in profiles else "").split(",") if code],
            profiles[trainer.id].topics if trainer.id in profiles else "",
        )
        for trainer in trainers
    }
    delivered = session.execute(
        sa.select(CourseTrainer.user_id, Course)
        .join(Course, Course.id == CourseTrainer.course_id)
        .where(CourseTrainer.user_id.in_(ids), Course.status.in_([CourseStatus.IN_PROGRESS, CourseStatus.COMPLETED]))
        .order_by(Course.start_date.desc())
    )
    for trainer_id, course in delivered:
        entries[trainer_id].courses.append(course)
    trainee = aliased(User)
    counts = session.execute(
        sa.select(CourseTrainer.user_id, trainee.sex, sa.func.count(sa.distinct(Enrolment.user_id)))
        .join(Enrolment, Enrolment.course_id == CourseTrainer.course_id)
        .join(trainee, trainee.id == Enrolment.user_id)
        .where(CourseTrainer.user_id.in_(ids), Enrolment.is_completed)
        .group_by(CourseTrainer.user_id, trainee.sex)
    )
    for trainer_id, sex, count in counts:
        entries[trainer_id].trained_by_sex[sex] = count
    return list(entries.values())


def save_profile(session: Session, trainer: User, languages: list[str], topics: str, *, actor: User) -> TrainerProfile:
    profile = session.get(TrainerProfile, trainer.id) or TrainerProfile(user_id=trainer.id)
    profile.languages = ",".join(languages)
    profile.topics = topics
    session.add(profile)
    record(session, "network.profile_saved", actor=actor, target=trainer)
    session.flush()
    return profile
