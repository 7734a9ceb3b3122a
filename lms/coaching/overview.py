"""What each person sees of the programme: the coach's and the commander's own pages, and
the coordinators' figures, which are counts and hours only, never content."""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lms import access, db
from lms.coaching.service import Completion, completion_of
from lms.models import (
    ActionItem,
    ActionOwner,
    ActionStatus,
    CoachingGoal,
    CoachingPairing,
    CoachingSession,
    CoachingSessionStatus,
    Country,
    GoalStatus,
    Institution,
    PairingStatus,
    Sex,
    User,
)


@dataclass
class PairingView:
    pairing: CoachingPairing
    next_session: CoachingSession | None
    open_actions: list[ActionItem]
    goals: list[CoachingGoal]
    completion: Completion

    @property
    def overdue(self) -> list[ActionItem]:
        today = db.utcnow().date()
        return [item for item in self.open_actions if item.due_date < today]


def _view(session: Session, pairing: CoachingPairing, owner: ActionOwner | None = None) -> PairingView:
    today = db.utcnow().date()
    next_session = session.scalar(
        sa.select(CoachingSession)
        .where(
            CoachingSession.pairing_id == pairing.id,
            CoachingSession.status == CoachingSessionStatus.PLANNED,
            CoachingSession.date >= today,
        )
        .order_by(CoachingSession.date)
        .limit(1)
    )
    actions = (
        sa.select(ActionItem)
        .join(CoachingSession)
        .where(CoachingSession.pairing_id == pairing.id, ActionItem.status == ActionStatus.OPEN)
    )
    if owner is not None:
        actions = actions.where(ActionItem.owner == owner)
    goals = session.scalars(
        sa.select(CoachingGoal).where(CoachingGoal.pairing_id == pairing.id).order_by(CoachingGoal.target_date)
    )
    return PairingView(
        pairing,
        next_session,
        list(session.scalars(actions.order_by(ActionItem.due_date))),
        list(goals),
        completion_of(session, pairing),
    )


def coach_pairings(session: Session, coach: User) -> list[PairingView]:
    """The coach's commanders: active pairings first, then finished ones."""
    pairings = session.scalars(
        sa.select(CoachingPairing)
        .where(CoachingPairing.coach_id == coach.id)
        .order_by((CoachingPairing.status == PairingStatus.ACTIVE).desc(), CoachingPairing.start_date.desc())
    )
    return [_view(session, pairing) for pairing in pairings]


def commander_pairings(session: Session, commander: User) -> list[PairingView]:
    pairings = session.scalars(
        sa.select(CoachingPairing)
        .where(CoachingPairing.commander_id == commander.id)
        .order_by((CoachingPairing.status == PairingStatus.ACTIVE).desc(), CoachingPairing.start_date.desc())
    )
    return [_view(session, pairing, ActionOwner.COMMANDER) for pairing in pairings]


# --- Coordinators: aggregates only -------------------------------------------------------


@dataclass
class PairingFigures:
    """A pairing as coordinators see it: who, when, how many, how long. No content."""

    pairing: CoachingPairing
    sessions_held: int
    minutes_held: int
    goal_statuses: dict[GoalStatus, int]

    @property
    def hours(self) -> float:
        return self.minutes_held / 60


def programme(session: Session, actor: User) -> list[PairingFigures]:
    scope = access.managed_country_ids(actor)
    pairings = sa.select(CoachingPairing).order_by(CoachingPairing.start_date.desc(), CoachingPairing.id.desc())
    if scope is not None:
        pairings = pairings.join(User, User.id == CoachingPairing.commander_id).where(User.country_id.in_(scope))
    rows = list(session.scalars(pairings))
    ids = [pairing.id for pairing in rows]
    held: dict[int, tuple[int, int]] = {}
    statuses: dict[int, dict[GoalStatus, int]] = {}
    if ids:
        # Counts and sums only: these queries never select a summary, a goal or a note.
        for pairing_id, count, minutes in session.execute(
            sa.select(
                CoachingSession.pairing_id,
                sa.func.count(),
                sa.func.coalesce(sa.func.sum(CoachingSession.duration_minutes), 0),
            )
            .where(CoachingSession.pairing_id.in_(ids), CoachingSession.status == CoachingSessionStatus.HELD)
            .group_by(CoachingSession.pairing_id)
        ):
            held[pairing_id] = (count, minutes)
        for pairing_id, status, count in session.execute(
            sa.select(CoachingGoal.pairing_id, CoachingGoal.status, sa.func.count())
            .where(CoachingGoal.pairing_id.in_(ids))
            .group_by(CoachingGoal.pairing_id, CoachingGoal.status)
        ):
            statuses.setdefault(pairing_id, dict.fromkeys(GoalStatus, 0))[status] = count
    return [PairingFigures(p, *held.get(p.id, (0, 0)), statuses.get(p.id, dict.fromkeys(GoalStatus, 0))) for p in rows]


@dataclass
class Tally:
    commanders: set[int] = field(default_factory=set)
    sessions: int = 0
    minutes: int = 0

    @property
    def hours(self) -> float:
        return self.minutes / 60


@dataclass
class ProgrammeFigures:
    total: Tally
    by_country: dict[str, Tally]
    by_institution: dict[str, Tally]
    by_sex: dict[Sex, Tally]


def figures(session: Session, actor: User) -> ProgrammeFigures:
    """Commanders coached, sessions held and hours, by the commander's country, institution
    and sex. "Not recorded" (sex or institution) is a group of its own, never dropped."""
    scope = access.managed_country_ids(actor)
    query = (
        sa.select(User.id, User.sex, Country.code, Institution.name, CoachingSession.duration_minutes)
        .select_from(CoachingSession)
        .join(CoachingPairing, CoachingPairing.id == CoachingSession.pairing_id)
        .join(User, User.id == CoachingPairing.commander_id)
        .join(Country, Country.id == User.country_id)
        .outerjoin(Institution, Institution.id == User.institution_id)
        .where(CoachingSession.status == CoachingSessionStatus.HELD)
    )
    if scope is not None:
        query = query.where(User.country_id.in_(scope))
    result = ProgrammeFigures(Tally(), {}, {}, {sex: Tally() for sex in Sex})
    for commander_id, sex, country, institution, minutes in session.execute(query):
        for tally in (
            result.total,
            result.by_country.setdefault(country, Tally()),
            result.by_institution.setdefault(institution or "", Tally()),
            result.by_sex[sex],
        ):
            tally.commanders.add(commander_id)
            tally.sessions += 1
            tally.minutes += minutes
    return result
