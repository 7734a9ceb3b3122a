"""What trainers and coordinators see of learners' progress."""

from __future__ import annotations

import math
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lms import access
from lms.curriculum import content
from lms.curriculum.service import Progress, active_modules, progress_by_track
from lms.models import Module, ModuleCompletion, Role, RoleGrant, User
from lms.text import fold_for_search, like_pattern


@dataclass
class LearnerRow:
    person: User
    by_track: dict[str, Progress]
    overall: Progress


@dataclass
class LearnerPage:
    rows: list[LearnerRow]
    number: int
    pages: int
    total: int

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages


def learners(
    session: Session,
    curriculum: content.Curriculum,
    *,
    actor: User,
    query: str = "",
    country_id: int | None = None,
    page: int = 1,
    per_page: int = 25,
) -> LearnerPage:
    """Trainees ``actor`` may follow, alphabetically, with their progress per track."""
    scope = access.reach_country_ids(actor)
    people = sa.select(User).where(User.role_grants.any(RoleGrant.role == Role.TRAINEE))
    if scope is not None:
        people = people.where(User.country_id.in_(scope))
    if country_id is not None:
        people = people.where(User.country_id == country_id)
    for word in fold_for_search(query).split()[:5]:
        people = people.where(User.search_text.like(like_pattern(word), escape="\\"))
    total = session.scalar(sa.select(sa.func.count()).select_from(people.subquery())) or 0
    pages = max(1, math.ceil(total / per_page))
    page = min(max(page, 1), pages)
    persons = list(
        session.scalars(people.order_by(User.sort_name, User.id).limit(per_page).offset((page - 1) * per_page))
    )
    done = completions_by_person(session, [person.id for person in persons])
    modules = active_modules(session)
    rows = [
        LearnerRow(person, *progress_by_track(curriculum, modules, done.get(person.id, set()))) for person in persons
    ]
    return LearnerPage(rows, page, pages, total)


def completions_by_person(session: Session, person_ids: list[int]) -> dict[int, set[str]]:
    """The slugs of the active modules each person completed (one query for all)."""
    if not person_ids:
        return {}
    result: dict[int, set[str]] = {}
    for user_id, slug in session.execute(
        sa.select(ModuleCompletion.user_id, Module.slug)
        .join(Module, Module.id == ModuleCompletion.module_id)
        .where(ModuleCompletion.user_id.in_(person_ids), Module.archived_at.is_(None))
    ):
        result.setdefault(user_id, set()).add(slug)
    return result
