"""Demonstration coaching: one finished basic cycle and one under way.

``commander@example.org`` is deliberately left unpaired, so that a new user can pair them
with ``coach@example.org`` and follow the programme from the start.
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lms import db
from lms.coaching import service
from lms.models import ActionOwner, CoachingLevel, CoachingSessionStatus, GoalStatus, SessionFormat, User

# commander's email, cycle start (days ago), sessions held, (goal, indicator, status reviewed)
PAIRINGS = [
    (
        "goran.stojanovski.19@demo.example.org", 230, 6,
        [
            ("Integrate a gender perspective in the brigade's annual training plan",
             "The plan is approved with at least two gender objectives", GoalStatus.ACHIEVED),
            ("Review how harassment reports are handled in the brigade",
             "A review with recommendations is presented to the command group", GoalStatus.ACHIEVED),
        ],
    ),
    (
        "dragan.saric.4@demo.example.org", 70, 2,
        [("Appoint and train gender focal points in each battalion",
          "Focal points named and trained in all three battalions", None)],
    ),
]  # fmt: skip
TOPIC_CYCLE = ["gender_roles", "stereotypes", "discrimination", "nap_1325", "resistance", "own_area"]


def load_demo_coaching(session: Session) -> int:
    coach = session.scalar(sa.select(User).where(User.email == "coach@example.org"))
    today = db.utcnow().date()
    for email, days_ago, held, goals in PAIRINGS:
        commander = session.scalar(sa.select(User).where(User.email == email))
        start = today - timedelta(days=days_ago)
        pairing = service.create_pairing(
            session,
            service.PairingData(coach.id, commander.id, CoachingLevel.BASIC, start, start + timedelta(days=210)),
            actor=None,
        )
        goal_rows = [
            service.add_goal(session, pairing, title, indicator, start + timedelta(days=180), actor=coach)
            for title, indicator, _status in goals
        ]
        for number in range(held):
            sitting = service.save_session(
                session,
                pairing,
                service.SessionData(
                    start + timedelta(days=30 * number + 7),
                    90,
                    SessionFormat.IN_PERSON if number % 2 == 0 else SessionFormat.ONLINE,
                    CoachingSessionStatus.HELD,
                    [TOPIC_CYCLE[number % len(TOPIC_CYCLE)]],
                    None,
                ),
                actor=coach,
            )
            if number == held - 1:
                service.add_action(
                    session, sitting, "Brief the command group on the coaching goals", ActionOwner.COMMANDER,
                    sitting.date + timedelta(days=21), actor=coach,
                )  # fmt: skip
        if held < 6:
            service.save_session(
                session,
                pairing,
                service.SessionData(
                    today + timedelta(days=9),
                    90,
                    SessionFormat.IN_PERSON,
                    CoachingSessionStatus.PLANNED,
                    ["nap_1325"],
                    None,
                ),
                actor=coach,
            )
        for goal, (_title, _indicator, status) in zip(goal_rows, goals, strict=True):
            if status is not None:
                service.review_goal(session, goal, status, None, today - timedelta(days=5), actor=coach)
    session.flush()
    return len(PAIRINGS)
