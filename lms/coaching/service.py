"""The Gender Coach Programme: pairings, coaching plans, sessions, action items, notes.

Confidentiality is enforced here, not in templates: every loader of a coaching record takes
the reader and returns the record only to the coach or the commander of its pairing;
anyone else gets a 404 that is written to the audit log. Private notes are read only by
their author. Coordinators and administrators get aggregates (counts, hours, statuses)
from queries that never select a summary, a goal's wording or a note.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lms import access, db
from lms.audit.service import record
from lms.models import (
    ActionItem,
    ActionOwner,
    ActionStatus,
    CoachingGoal,
    CoachingLevel,
    CoachingNote,
    CoachingPairing,
    CoachingSession,
    CoachingSessionStatus,
    GoalReview,
    GoalStatus,
    PairingStatus,
    Role,
    SessionFormat,
    User,
)
from lms.people import service as people

MIN_DURATION, MAX_DURATION = 15, 480

# The programme's topics, agreed in advance for each cycle.
TOPICS = {
    "gender_roles": _l("Gender, sex and gender roles"),
    "stereotypes": _l("Stereotypes and prejudice"),
    "discrimination": _l("Gender-based discrimination and how to prevent it"),
    "nap_1325": _l("The national action plan for UNSCR 1325"),
    "resistance": _l("Handling resistance in the organisation"),
    "own_area": _l("A gender perspective in the leader's own area of responsibility"),
}


class CoachingError(Exception):
    def __init__(self, message: object, field: str | None = None) -> None:
        super().__init__(str(message))
        self.message = str(message)
        self.field = field


class CoachingAction:
    PAIRED = "coaching.paired"
    ENDED = "coaching.pairing_ended"
    COMPLETED = "coaching.pairing_completed"
    GOAL = "coaching.goal_saved"
    REVIEW = "coaching.goal_reviewed"
    SESSION = "coaching.session_saved"
    NOTE = "coaching.note_saved"
    ACTION = "coaching.action_saved"
    EXPORTED = "coaching.exported"


# --- Who may read what ---------------------------------------------------------------------


def pairing_for_member(session: Session, pairing_id: int, reader: User) -> CoachingPairing:
    """A pairing, for its coach or commander only; anyone else: 404, audited."""
    pairing = session.get(CoachingPairing, pairing_id)
    if pairing is None or not pairing.is_member(reader):
        access.deny(404, reason="coaching record outside the reader's pairing", target=pairing)
    return pairing


def session_for_member(session: Session, session_id: int, reader: User) -> CoachingSession:
    found = session.get(CoachingSession, session_id)
    if found is None or not found.pairing.is_member(reader):
        access.deny(404, reason="coaching record outside the reader's pairing", target=found)
    return found


def goal_for_member(session: Session, goal_id: int, reader: User) -> CoachingGoal:
    goal = session.get(CoachingGoal, goal_id)
    pairing = session.get(CoachingPairing, goal.pairing_id) if goal is not None else None
    if pairing is None or not pairing.is_member(reader):
        access.deny(404, reason="coaching record outside the reader's pairing", target=goal)
    return goal


def action_for_member(session: Session, action_id: int, reader: User) -> ActionItem:
    item = session.get(ActionItem, action_id)
    if item is None or not item.session.pairing.is_member(reader):
        access.deny(404, reason="coaching record outside the reader's pairing", target=item)
    return item


def require_coach(pairing: CoachingPairing, reader: User) -> None:
    """Writing the record (sessions, goals, notes) is the coach's part."""
    if reader.id != pairing.coach_id:
        access.deny(403, reason="only the pairing's coach writes its record", target=pairing)


def note_for(session: Session, coaching_session: CoachingSession, author: User) -> CoachingNote | None:
    """The author's own private note on a session (nobody reads another's)."""
    return session.scalar(
        sa.select(CoachingNote).where(
            CoachingNote.session_id == coaching_session.id, CoachingNote.author_id == author.id
        )
    )


# --- Pairings --------------------------------------------------------------------------------


@dataclass
class PairingData:
    coach_id: int
    commander_id: int
    level: CoachingLevel
    start_date: date
    end_date: date
    planned_sessions: int = 6
    min_sessions: int = 5


def create_pairing(session: Session, data: PairingData, *, actor: User | None) -> CoachingPairing:
    """Pair a coach with a commander for one cycle of the programme."""
    coach = people.find_person_in_reach(session, data.coach_id, actor)
    commander = people.find_person_in_reach(session, data.commander_id, actor)
    if coach is None or not coach.has_role(Role.COACH):
        raise CoachingError(_l("Choose a coach of the programme."), "coach_id")
    if commander is None or commander.id == coach.id:
        raise CoachingError(_l("Choose the commander to be coached (not the coach)."), "commander_id")
    if data.end_date < data.start_date:
        raise CoachingError(_l("The cycle cannot end before it starts."), "end_date")
    if not 1 <= data.min_sessions <= data.planned_sessions:
        raise CoachingError(
            _l("The sessions needed to complete must be between 1 and the sessions planned."), "min_sessions"
        )
    active = session.scalar(
        sa.select(CoachingPairing.id).where(
            CoachingPairing.commander_id == commander.id, CoachingPairing.status == PairingStatus.ACTIVE
        )
    )
    if active is not None:
        raise CoachingError(
            _l("This commander already has an active pairing: end or complete it first."), "commander_id"
        )
    if data.level == CoachingLevel.ADVANCED:
        basic_done = session.scalar(
            sa.select(CoachingPairing.id).where(
                CoachingPairing.commander_id == commander.id,
                CoachingPairing.level == CoachingLevel.BASIC,
                CoachingPairing.status == PairingStatus.COMPLETED,
            )
        )
        if basic_done is None:
            raise CoachingError(_l("The advanced programme follows a completed basic one."), "level")
    pairing = CoachingPairing(**vars(data), created_by_id=actor.id if actor else None)
    try:
        with session.begin_nested():
            session.add(pairing)
    except IntegrityError as error:  # lost a race with a concurrent pairing of the same commander
        raise CoachingError(
            _l("This commander already has an active pairing: end or complete it first."), "commander_id"
        ) from error
    record(
        session,
        CoachingAction.PAIRED,
        actor=actor,
        target=pairing,
        details={"coach": coach.id, "commander": commander.id},
    )
    return pairing


def end_pairing(session: Session, pairing: CoachingPairing, reason: str, *, actor: User | None) -> None:
    if pairing.status != PairingStatus.ACTIVE:
        raise CoachingError(_l("Only an active pairing can be ended."))
    if not reason:
        raise CoachingError(_l("Give the reason for ending the pairing early."), "reason")
    pairing.status = PairingStatus.ENDED
    pairing.ended_reason = reason
    pairing.ended_at = db.utcnow()
    record(session, CoachingAction.ENDED, actor=actor, target=pairing)
    session.flush()


def pairings_in_scope(session: Session, actor: User) -> list[CoachingPairing]:
    scope = access.managed_country_ids(actor)
    query = sa.select(CoachingPairing).order_by(CoachingPairing.start_date.desc(), CoachingPairing.id.desc())
    if scope is not None:
        query = query.join(User, User.id == CoachingPairing.commander_id).where(User.country_id.in_(scope))
    return list(session.scalars(query))


def pairing_for_coordinator(session: Session, pairing_id: int, actor: User) -> CoachingPairing:
    """A pairing as a coordinator sees it (for ending it; the record itself stays closed)."""
    pairing = session.get(CoachingPairing, pairing_id)
    if pairing is None or not access.can_reach_person(actor, pairing.commander):
        access.deny(404, reason="pairing outside the coordinator's country", target=pairing)
    return pairing


# --- The coaching plan ---------------------------------------------------------------------


def add_goal(
    session: Session, pairing: CoachingPairing, title: str, indicator: str, target_date: date, *, actor: User
) -> CoachingGoal:
    if pairing.status != PairingStatus.ACTIVE:
        raise CoachingError(_l("The pairing is no longer active."))
    goal = CoachingGoal(pairing_id=pairing.id, title=title, indicator=indicator, target_date=target_date)
    session.add(goal)
    session.flush()
    record(session, CoachingAction.GOAL, actor=actor, target=goal, details={"pairing": pairing.id})
    return goal


def review_goal(
    session: Session, goal: CoachingGoal, status: GoalStatus, comment: str | None, reviewed_on: date, *, actor: User
) -> None:
    """Record a review of a goal; the goal takes the status reviewed."""
    if reviewed_on > db.utcnow().date():
        raise CoachingError(_l("A review cannot be dated in the future."), "reviewed_on")
    goal.reviews.append(GoalReview(reviewed_on=reviewed_on, status=status, comment=comment, reviewed_by_id=actor.id))
    goal.status = status
    record(session, CoachingAction.REVIEW, actor=actor, target=goal)
    session.flush()
    update_completion(session, session.get(CoachingPairing, goal.pairing_id), actor=actor)


# --- Sessions, notes and action items -------------------------------------------------------


@dataclass
class SessionData:
    date: date
    duration_minutes: int
    format: SessionFormat
    status: CoachingSessionStatus
    topics: list[str]
    summary: str | None


def save_session(
    session: Session,
    pairing: CoachingPairing,
    data: SessionData,
    *,
    actor: User,
    existing: CoachingSession | None = None,
) -> CoachingSession:
    if not MIN_DURATION <= data.duration_minutes <= MAX_DURATION:
        raise CoachingError(
            _l(
                "A session lasts between %(low)d minutes and %(high)d hours.", low=MIN_DURATION, high=MAX_DURATION // 60
            ),
            "duration_minutes",
        )
    if data.status == CoachingSessionStatus.HELD and data.date > db.utcnow().date():
        raise CoachingError(_l("A session in the future cannot have been held yet."), "status")
    unknown = set(data.topics) - set(TOPICS)
    if unknown:
        raise CoachingError(_l("Choose topics from the programme's list."), "topics")
    if pairing.status != PairingStatus.ACTIVE and existing is None:
        raise CoachingError(_l("The pairing is no longer active."))
    target = existing or CoachingSession(pairing_id=pairing.id)
    target.date, target.duration_minutes, target.format, target.status = (
        data.date,
        data.duration_minutes,
        data.format,
        data.status,
    )
    target.topics = ",".join(code for code in TOPICS if code in data.topics)
    target.summary = data.summary
    session.add(target)
    session.flush()
    record(
        session,
        CoachingAction.SESSION,
        actor=actor,
        target=target,
        details={"pairing": pairing.id, "status": data.status},
    )
    update_completion(session, pairing, actor=actor)
    return target


def save_note(session: Session, coaching_session: CoachingSession, text: str, *, author: User) -> CoachingNote | None:
    """Save (or, with empty text, delete) the author's private note on a session."""
    note = note_for(session, coaching_session, author)
    if not text:
        if note is not None:
            session.delete(note)
        return None
    if note is None:
        note = CoachingNote(session_id=coaching_session.id, author_id=author.id, text=text)
        session.add(note)
    else:
        note.text = text
    # The audit says a note was saved, never what it says.
    record(session, CoachingAction.NOTE, actor=author, target=coaching_session)
    session.flush()
    return note


def add_action(
    session: Session,
    coaching_session: CoachingSession,
    description: str,
    owner: ActionOwner,
    due_date: date,
    *,
    actor: User,
) -> ActionItem:
    if due_date < coaching_session.date:
        raise CoachingError(_l("An action item cannot be due before the session that agreed it."), "due_date")
    item = ActionItem(session_id=coaching_session.id, description=description, owner=owner, due_date=due_date)
    session.add(item)
    session.flush()
    record(session, CoachingAction.ACTION, actor=actor, target=item)
    return item


def set_action_status(session: Session, item: ActionItem, status: ActionStatus, *, actor: User) -> None:
    item.status = status
    item.done_at = db.utcnow() if status == ActionStatus.DONE else None
    record(session, CoachingAction.ACTION, actor=actor, target=item, details={"status": status})
    session.flush()


# --- Completion ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Completion:
    held: int
    needed: int
    goals: int
    goals_reviewed: int

    @property
    def met(self) -> bool:
        return self.held >= self.needed and self.goals > 0 and self.goals_reviewed == self.goals


def completion_of(session: Session, pairing: CoachingPairing) -> Completion:
    held = session.scalar(
        sa.select(sa.func.count()).where(
            CoachingSession.pairing_id == pairing.id, CoachingSession.status == CoachingSessionStatus.HELD
        )
    )
    goals = session.scalar(sa.select(sa.func.count()).where(CoachingGoal.pairing_id == pairing.id))
    reviewed = session.scalar(
        sa.select(sa.func.count()).where(CoachingGoal.pairing_id == pairing.id, CoachingGoal.reviews.any())
    )
    return Completion(held or 0, pairing.min_sessions, goals or 0, reviewed or 0)


def update_completion(session: Session, pairing: CoachingPairing, *, actor: User | None) -> bool:
    """Complete an active pairing once its rule is met: the commander becomes eligible for
    the Gender Coach Programme certificate."""
    if pairing.status != PairingStatus.ACTIVE or not completion_of(session, pairing).met:
        return False
    pairing.status = PairingStatus.COMPLETED
    pairing.completed_at = db.utcnow()
    record(session, CoachingAction.COMPLETED, actor=actor, target=pairing)
    session.flush()
    return True
