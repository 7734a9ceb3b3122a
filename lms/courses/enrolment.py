"""Who is on a course: enrolment within capacity, a waitlist that moves up by itself,
requests to join open courses.

Enrolment changes of one course are serialized: the course row is locked (``FOR UPDATE``
on PostgreSQL; SQLite's write transactions are already serial), so two people taking the
last place at once cannot both get it. One enrolment per person per course is a unique
constraint, so a double submit makes one row.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lms import access
from lms.audit.service import record
from lms.courses.service import CourseAction, CourseError, is_open_to
from lms.models import Course, CourseStatus, Enrolment, EnrolmentStatus, Institution, Role, RoleGrant, User
from lms.text import fold_for_search, like_pattern

ACTIVE = (EnrolmentStatus.ENROLLED, EnrolmentStatus.WAITLISTED, EnrolmentStatus.REQUESTED)


def lock_course(session: Session, course: Course) -> None:
    """Serialize enrolment changes of ``course`` until the transaction ends."""
    session.execute(sa.select(Course.id).where(Course.id == course.id).with_for_update())


def enrolled_count(session: Session, course: Course) -> int:
    return (
        session.scalar(
            sa.select(sa.func.count()).where(
                Enrolment.course_id == course.id, Enrolment.status == EnrolmentStatus.ENROLLED
            )
        )
        or 0
    )


def _place(session: Session, course: Course) -> EnrolmentStatus:
    return EnrolmentStatus.ENROLLED if enrolled_count(session, course) < course.capacity else EnrolmentStatus.WAITLISTED


def _ensure_trainee(person: User) -> None:
    if not person.has_role(Role.TRAINEE) and access.enrolment_may_make_trainee(person):
        person.role_grants.append(RoleGrant(role=Role.TRAINEE))


OUTSIDE_REACH = _l("This person is outside the countries you work with.")


def _check_reach(actor: User | None, person: User) -> None:
    if actor is not None and not access.can_reach_person(actor, person):
        raise CourseError(OUTSIDE_REACH)


def enrol(session: Session, course: Course, person: User, *, actor: User | None) -> Enrolment:
    """Enrol ``person``, or put them on the waitlist when the course is full."""
    if course.status in {CourseStatus.CANCELLED, CourseStatus.COMPLETED}:
        raise CourseError(_l("People cannot be added to a cancelled or completed course."))
    _check_reach(actor, person)
    lock_course(session, course)
    existing = session.scalar(
        sa.select(Enrolment).where(Enrolment.course_id == course.id, Enrolment.user_id == person.id)
    )
    if existing is not None and existing.status in {EnrolmentStatus.ENROLLED, EnrolmentStatus.WAITLISTED}:
        raise CourseError(_l("%(name)s is already on this course.", name=person.full_name))
    status = _place(session, course)
    if existing is not None:
        existing.status = status
        enrolment = existing
    else:
        enrolment = Enrolment(course_id=course.id, user_id=person.id, status=status)
        try:
            with session.begin_nested():
                session.add(enrolment)
        except IntegrityError as error:
            raise CourseError(_l("%(name)s is already on this course.", name=person.full_name)) from error
    _ensure_trainee(person)
    record(
        session, CourseAction.ENROLLED, actor=actor, target=enrolment, details={"course": course.id, "status": status}
    )
    session.flush()
    return enrolment


def request_place(session: Session, course: Course, person: User) -> Enrolment:
    """A trainee asks to join an open course; the trainer approves or declines."""
    if not is_open_to(course, person):
        raise CourseError(_l("This course does not take requests from you."))
    existing = session.scalar(
        sa.select(Enrolment).where(Enrolment.course_id == course.id, Enrolment.user_id == person.id)
    )
    if existing is not None and existing.status in ACTIVE:
        raise CourseError(_l("You have already asked to join, or are already on this course."))
    if existing is not None:
        existing.status = EnrolmentStatus.REQUESTED
        enrolment = existing
    else:
        enrolment = Enrolment(course_id=course.id, user_id=person.id, status=EnrolmentStatus.REQUESTED)
        try:
            with session.begin_nested():
                session.add(enrolment)
        except IntegrityError as error:
            raise CourseError(_l("You have already asked to join, or are already on this course.")) from error
    record(
        session,
        CourseAction.ENROLLED,
        actor=person,
        target=enrolment,
        details={"course": course.id, "status": "requested"},
    )
    session.flush()
    return enrolment


def decide_request(session: Session, enrolment: Enrolment, approve: bool, *, actor: User | None) -> None:
    if enrolment.status != EnrolmentStatus.REQUESTED:
        raise CourseError(_l("This request has already been decided."))
    course = enrolment.course
    if approve:
        _check_reach(actor, enrolment.user)
    lock_course(session, course)
    if approve:
        enrolment.status = _place(session, course)
        _ensure_trainee(enrolment.user)
    else:
        enrolment.status = EnrolmentStatus.DECLINED
    record(
        session,
        CourseAction.ENROLLED,
        actor=actor,
        target=enrolment,
        details={"course": course.id, "status": enrolment.status},
    )
    session.flush()


def withdraw(session: Session, enrolment: Enrolment, *, actor: User | None) -> Enrolment | None:
    """Take someone off the course; the first person waiting moves up. Returns who did."""
    if enrolment.status not in ACTIVE:
        raise CourseError(_l("This person is not on the course."))
    lock_course(session, enrolment.course)
    enrolment.status = EnrolmentStatus.WITHDRAWN
    record(session, CourseAction.WITHDRAWN, actor=actor, target=enrolment, details={"course": enrolment.course_id})
    session.flush()
    promoted = promote_waitlist(session, enrolment.course)
    return promoted[0] if promoted else None


def promote_waitlist(session: Session, course: Course) -> list[Enrolment]:
    """Move people up from the waitlist, first come first served, while places are free."""
    free = course.capacity - enrolled_count(session, course)
    if free <= 0:
        return []
    waiting = session.scalars(
        sa.select(Enrolment)
        .where(Enrolment.course_id == course.id, Enrolment.status == EnrolmentStatus.WAITLISTED)
        .order_by(Enrolment.created_at, Enrolment.id)
        .limit(free)
    ).all()
    for enrolment in waiting:
        enrolment.status = EnrolmentStatus.ENROLLED
    session.flush()
    return list(waiting)


def roster(session: Session, course: Course) -> list[Enrolment]:
    """Everyone with an enrolment, alphabetically, waitlist in its order at the end."""
    rows = session.scalars(
        sa.select(Enrolment)
        .join(User, User.id == Enrolment.user_id)
        .where(Enrolment.course_id == course.id)
        .order_by(User.sort_name)
    ).all()
    order = {EnrolmentStatus.ENROLLED: 0, EnrolmentStatus.REQUESTED: 1, EnrolmentStatus.WAITLISTED: 2}

    def key(enrolment: Enrolment) -> tuple[int, float]:
        # Sorting is stable: the alphabetical order stays within each group.
        waiting_since = enrolment.created_at.timestamp() if enrolment.status == EnrolmentStatus.WAITLISTED else 0.0
        return order.get(enrolment.status, 3), waiting_since

    return sorted(rows, key=key)


def search_candidates(session: Session, course: Course, query: str, *, actor: User, limit: int = 20) -> list[User]:
    """People to add, by name, email or institution, not already on the course, among
    those ``actor`` may see (a trainer of one country finds that country's people)."""
    words = fold_for_search(query).split()[:5]
    if not words:
        return []
    on_course = sa.select(Enrolment.user_id).where(Enrolment.course_id == course.id, Enrolment.status.in_(ACTIVE))
    people = (
        sa.select(User).outerjoin(Institution, Institution.id == User.institution_id).where(User.id.not_in(on_course))
    )
    scope = access.reach_country_ids(actor)
    if scope is not None:
        people = people.where(User.country_id.in_(scope))
    for word in words:
        pattern = like_pattern(word)
        people = people.where(
            sa.or_(
                User.search_text.like(pattern, escape="\\"),
                sa.func.lower(Institution.name).like(pattern, escape="\\"),
                sa.func.lower(Institution.short_name).like(pattern, escape="\\"),
            )
        )
    return list(session.scalars(people.order_by(User.sort_name).limit(limit)))


def enrolment_of(session: Session, course: Course, enrolment_id: int) -> Enrolment:
    found = session.get(Enrolment, enrolment_id)
    if found is None or found.course_id != course.id:
        access.deny(404, reason="enrolment not in this course", target=found)
    return found
