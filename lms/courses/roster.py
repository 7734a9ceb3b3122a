"""Importing a roster: check every row first, show the problems, then write all or nothing.

HR departments send rosters as spreadsheets. :func:`check_roster` reads one, lists every
row's problems (bad email, unknown country, a duplicate within the file...) and matches
people already registered by email. Nothing is written to people or enrolments until the
trainer confirms, and :func:`import_roster` then writes everything in one transaction with
bulk inserts, so that a 10,000-row roster takes seconds.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from lms import access, db, forms
from lms.audit.service import record
from lms.courses.enrolment import OUTSIDE_REACH, lock_course
from lms.courses.service import CourseAction, CourseError
from lms.models import (
    AuditEvent,
    Category,
    Country,
    Course,
    CourseStatus,
    Enrolment,
    EnrolmentStatus,
    Institution,
    Role,
    RoleGrant,
    RosterImport,
    Sex,
    User,
)
from lms.models.people import EMAIL_MAX, NAME_MAX, RANK_MAX, derived_name_columns, new_session_nonce
from lms.text import clean_line, find_forbidden_character, fold_for_search

COLUMNS = ["full_name", "email", "sex", "country", "institution", "category", "rank"]
REQUIRED_COLUMNS = {"full_name", "email", "country"}
HEADER_ALIASES = {
    "name": "full_name", "full name": "full_name", "fullname": "full_name", "e-mail": "email", "mail": "email",
    "e mail": "email", "gender": "sex",
}  # fmt: skip
SEX_VALUES = {
    "female": Sex.FEMALE, "f": Sex.FEMALE, "woman": Sex.FEMALE, "z": Sex.FEMALE, "zensko": Sex.FEMALE,
    "zenski": Sex.FEMALE, "zena": Sex.FEMALE, "femer": Sex.FEMALE, "ж": Sex.FEMALE,
    "male": Sex.MALE, "m": Sex.MALE, "man": Sex.MALE, "musko": Sex.MALE, "muski": Sex.MALE,
    "muskarac": Sex.MALE, "masko": Sex.MALE, "maski": Sex.MALE, "mashkull": Sex.MALE, "м": Sex.MALE,
    "": Sex.NOT_RECORDED, "not recorded": Sex.NOT_RECORDED, "not_recorded": Sex.NOT_RECORDED,
}  # fmt: skip
CATEGORY_VALUES = {
    "cadet": Category.CADET, "commander": Category.COMMANDER,
    "military staff": Category.MILITARY_STAFF, "military_staff": Category.MILITARY_STAFF,
    "civilian staff": Category.CIVILIAN_STAFF, "civilian_staff": Category.CIVILIAN_STAFF,
}  # fmt: skip
COUNTRY_NAMES = {
    "BA": ["bosnia and herzegovina", "bih", "bosna i hercegovina", "босна и херцеговина"],
    "ME": ["montenegro", "crna gora", "црна гора", "mali i zi", "mne"],
    "MK": [
        "north macedonia",
        "severna makedonija",
        "sjeverna makedonija",
        "северна македонија",
        "maqedonia e veriut",
        "mkd",
    ],
    "RS": ["serbia", "srbija", "србија", "serbi", "srb"],
    "REG": ["regional"],
}
IMPORT_LIFETIME = timedelta(hours=24)


@dataclass
class RosterRow:
    line: int
    full_name: str = ""
    email: str = ""
    sex: str = Sex.NOT_RECORDED.value
    country_id: int | None = None
    institution_id: int | None = None
    category: str | None = None
    rank: str | None = None
    known_user_id: int | None = None
    on_course: bool = False
    problems: list[str] = field(default_factory=list)


@dataclass
class RosterCheck:
    rows: list[RosterRow]
    file_problems: list[str]

    @property
    def problem_rows(self) -> list[RosterRow]:
        return [row for row in self.rows if row.problems]

    @property
    def ok(self) -> bool:
        return not self.file_problems and not self.problem_rows and bool(self.rows)

    def rows_to_show(self, limit: int = 1000) -> list[RosterRow]:
        """Rows with problems first, then the others, at most ``limit``."""
        return (self.problem_rows + [row for row in self.rows if not row.problems])[:limit]

    @property
    def new_people(self) -> int:
        return sum(1 for row in self.rows if row.known_user_id is None)


def _key(text: str) -> str:
    return fold_for_search(text).replace("_", " ")


class _References:
    """Countries and institutions, looked up by the many ways a roster may name them."""

    def __init__(self, session: Session) -> None:
        countries = session.scalars(sa.select(Country)).all()
        self.countries: dict[str, int] = {}
        for country in countries:
            for name in [country.code, country.name, *COUNTRY_NAMES.get(country.code, [])]:
                self.countries[_key(name)] = country.id
        self.institutions: dict[tuple[int, str], int] = {}
        for institution in session.scalars(sa.select(Institution)):
            for name in (institution.name, institution.short_name or ""):
                if name:
                    self.institutions[(institution.country_id, _key(name))] = institution.id


def _text(row: RosterRow, value: str, label: str, max_length: int, required: bool = False) -> str:
    value = clean_line(value)
    if required and not value:
        row.problems.append(str(_l("%(column)s is empty.", column=label)))
    if len(value) > max_length:
        row.problems.append(str(_l("%(column)s is longer than %(max)d characters.", column=label, max=max_length)))
    bad = find_forbidden_character(value)
    if bad is not None:
        row.problems.append(
            str(_l("%(column)s contains a character that is not allowed (U+%(code)04X).", column=label, code=ord(bad)))
        )
    return value


def _header(cells: list[str]) -> tuple[dict[str, int], list[str]]:
    positions: dict[str, int] = {}
    problems = []
    for index, cell in enumerate(cells):
        name = clean_line(cell).lower().replace("-", " ").strip()
        name = HEADER_ALIASES.get(name, name.replace(" ", "_"))
        if name in COLUMNS and name not in positions:
            positions[name] = index
    missing = [column for column in COLUMNS if column in REQUIRED_COLUMNS and column not in positions]
    if missing:
        problems.append(
            str(_l("The first row must name the columns; missing: %(columns)s.", columns=", ".join(missing)))
        )
    return positions, problems


def check_roster(session: Session, course: Course, table: list[list[str]], *, actor: User | None) -> RosterCheck:
    """Check every row of a roster table (header first) without writing anything.

    Only people of the countries ``actor`` works with can be on it (``None``: the system).
    """
    if not table or not any(cell.strip() for cell in table[0]):
        return RosterCheck([], [str(_l("The file is empty."))])
    positions, file_problems = _header(table[0])
    if file_problems:
        return RosterCheck([], file_problems)
    references = _References(session)
    reach = access.reach_country_ids(actor) if actor is not None else None
    rows: list[RosterRow] = []
    first_line_of: dict[str, int] = {}
    for number, cells in enumerate(table[1:], start=2):
        if not any(cell.strip() for cell in cells):
            continue
        value = {column: (cells[index] if index < len(cells) else "") for column, index in positions.items()}
        row = _check_row(number, value, references, first_line_of)
        if row.country_id is not None and not access.in_countries(reach, row.country_id):
            row.problems.append(str(OUTSIDE_REACH))
        rows.append(row)
    if not rows:
        file_problems.append(str(_l("The file has a header but no people.")))
    _match_known(session, course, rows, reach)
    return RosterCheck(rows, file_problems)


def _check_row(number: int, value: dict[str, str], references: _References, first_line_of: dict[str, int]) -> RosterRow:
    row = RosterRow(line=number)
    name_problem = forms.name_problem(value.get("full_name", ""))
    if name_problem:  # said once, clearly, instead of "a character that is not allowed"
        row.problems.append(name_problem)
    else:
        row.full_name = _text(row, value.get("full_name", ""), "full_name", NAME_MAX, required=True)
    email = value.get("email", "").strip().lower()
    if len(email) > EMAIL_MAX:
        row.problems.append(str(_l("email is longer than %(max)d characters.", max=EMAIL_MAX)))
    else:
        try:
            validate_email(email, check_deliverability=False)
        except EmailNotValidError:
            row.problems.append(str(_l("'%(email)s' is not a valid email address.", email=email[:80])))
    if email in first_line_of:
        row.problems.append(str(_l("The same email address is already in row %(line)d.", line=first_line_of[email])))
    elif email:
        first_line_of[email] = number
    row.email = email
    sex = SEX_VALUES.get(_key(value.get("sex", "")))
    if sex is None:
        row.problems.append(
            str(_l("Unknown sex '%(value)s' (use female, male or leave it empty).", value=value["sex"][:40]))
        )
    else:
        row.sex = sex.value
    row.country_id = references.countries.get(_key(value.get("country", "")))
    if row.country_id is None:
        row.problems.append(
            str(_l("Unknown country '%(value)s' (use BA, ME, MK or RS).", value=value.get("country", "")[:40]))
        )
    institution = _key(value.get("institution", ""))
    if institution and row.country_id is not None:
        row.institution_id = references.institutions.get((row.country_id, institution))
        if row.institution_id is None:
            row.problems.append(
                str(_l("Unknown institution '%(value)s' in this country.", value=value["institution"][:80]))
            )
    category = _key(value.get("category", ""))
    if category:
        found = CATEGORY_VALUES.get(category)
        if found is None:
            row.problems.append(str(_l("Unknown category '%(value)s'.", value=value["category"][:40])))
        row.category = found.value if found else None
    row.rank = _text(row, value.get("rank", ""), "rank", RANK_MAX) or None
    return row


def _match_known(session: Session, course: Course, rows: list[RosterRow], reach: set[int] | None) -> None:
    """Mark rows whose email is already registered (matched, never duplicated).

    Someone registered in a country outside ``reach`` is neither matched nor enrolled: the
    row gets the same problem as a row naming such a country, so the check does not tell
    whether an address outside the importer's countries has an account.
    """
    emails = [row.email for row in rows if row.email and not row.problems]
    known: dict[str, int] = {}
    outside: set[str] = set()
    for start in range(0, len(emails), 1000):
        chunk = emails[start : start + 1000]
        found = session.execute(sa.select(User.email, User.id, User.country_id).where(User.email.in_(chunk)))
        for email, user_id, country_id in found.tuples():
            if access.in_countries(reach, country_id):
                known[email] = user_id
            else:
                outside.add(email)
    on_course = set(
        session.scalars(
            sa.select(Enrolment.user_id).where(
                Enrolment.course_id == course.id,
                Enrolment.status.in_([EnrolmentStatus.ENROLLED, EnrolmentStatus.WAITLISTED]),
            )
        )
    )
    for row in rows:
        row.known_user_id = known.get(row.email)
        row.on_course = row.known_user_id in on_course
        if row.email in outside:
            row.problems.append(str(OUTSIDE_REACH))


def stage(session: Session, course: Course, check: RosterCheck, filename: str, *, actor: User) -> RosterImport:
    """Keep a checked roster until the trainer confirms it (nothing is enrolled yet)."""
    staged = RosterImport(
        course_id=course.id,
        created_by_id=actor.id,
        filename=filename[:200],
        rows=json.dumps([asdict(row) for row in check.rows], ensure_ascii=False),
        row_count=len(check.rows),
        problem_count=len(check.problem_rows) + len(check.file_problems),
    )
    session.add(staged)
    session.flush()
    return staged


def staged_import(session: Session, course: Course, import_id: int, actor: User) -> RosterImport:
    staged = session.get(RosterImport, import_id)
    if staged is None or staged.course_id != course.id or staged.created_by_id != actor.id:
        raise CourseError(_l("This roster check was not found. Upload the file again."))
    if staged.imported_at is not None:
        raise RosterAlreadyImported(imported_result(session, staged))
    if staged.created_at < db.utcnow() - IMPORT_LIFETIME:
        raise CourseError(_l("This roster check is more than a day old. Upload the file again."))
    if staged.problem_count:
        raise CourseError(_l("Correct the rows with problems and upload the file again."))
    return staged


@dataclass
class ImportResult:
    created: int
    matched: int
    enrolled: int
    waitlisted: int
    already_on_course: int


class RosterAlreadyImported(CourseError):
    """The roster was imported before: by an earlier click, or by another at the same moment.

    ``result`` is what that import did (from its audit entry), when it can be found.
    """

    def __init__(self, result: ImportResult | None) -> None:
        if result is None:
            message = _l("This roster has already been imported.")
        else:
            message = _l(
                "This roster has already been imported: %(created)d people added to the platform, "
                "%(matched)d already known; %(enrolled)d enrolled, %(waitlisted)d on the waitlist.",
                created=result.created,
                matched=result.matched,
                enrolled=result.enrolled,
                waitlisted=result.waitlisted,
            )
        super().__init__(message)
        self.result = result


def imported_result(session: Session, staged: RosterImport) -> ImportResult | None:
    """What the import of ``staged`` did, as its audit entry says."""
    events = session.scalars(
        sa.select(AuditEvent.details)
        .where(
            AuditEvent.action == CourseAction.ROSTER_IMPORTED,
            AuditEvent.target_type == "course",
            AuditEvent.target_id == str(staged.course_id),
        )
        .order_by(AuditEvent.id.desc())
        .limit(100)
    )
    for details in events:
        data = json.loads(details or "{}")
        if data.get("import_id") == staged.id:
            return ImportResult(**{name: int(data.get(name, 0)) for name in ImportResult.__dataclass_fields__})
    return None


def _claim(session: Session, staged: RosterImport, now: Any) -> None:
    """Mark ``staged`` imported, or refuse if another request did first.

    One conditional UPDATE: of requests confirming the same roster at once, exactly one
    changes the row; on PostgreSQL the others wait for its transaction and then find the
    row taken (or free again, if it failed); SQLite runs them one after the other.
    """
    claimed = session.execute(
        sa.update(RosterImport)
        .where(RosterImport.id == staged.id, RosterImport.imported_at.is_(None))
        .values(imported_at=now)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        raise RosterAlreadyImported(imported_result(session, staged))
    set_committed_value(staged, "imported_at", now)


def import_roster(session: Session, course: Course, staged: RosterImport, *, actor: User) -> ImportResult:
    """Create the new people and enrol everyone, in one transaction (all or nothing)."""
    if course.status in {CourseStatus.CANCELLED, CourseStatus.COMPLETED}:
        raise CourseError(_l("People cannot be added to a cancelled or completed course."))
    now = db.utcnow()
    _claim(session, staged, now)
    lock_course(session, course)
    rows = [RosterRow(**data) for data in json.loads(staged.rows)]
    # Check again: someone may have been registered since, or the importer's scope changed.
    reach = access.reach_country_ids(actor)
    for row in rows:
        row.problems = [] if access.in_countries(reach, row.country_id) else [str(OUTSIDE_REACH)]
    _match_known(session, course, rows, reach)
    if any(row.problems for row in rows):
        raise CourseError(_l("Some people on this roster are outside the countries you work with. Upload it again."))
    new_rows = [row for row in rows if row.known_user_id is None]
    if new_rows:
        session.execute(sa.insert(User.__table__), [_new_user(row, now) for row in new_rows])
        ids = dict(
            session.execute(sa.select(User.email, User.id).where(User.email.in_([r.email for r in new_rows])))
            .tuples()
            .all()
        )
        for row in new_rows:
            row.known_user_id = ids[row.email]
    people = [row.known_user_id for row in rows if not row.on_course]
    _grant_trainee(session, [row.known_user_id for row in rows], now)
    enrolled, waitlisted = _enrol_all(session, course, [person for person in people if person is not None], now)
    result = ImportResult(
        len(new_rows), len(rows) - len(new_rows), enrolled, waitlisted, sum(row.on_course for row in rows)
    )
    record(
        session,
        CourseAction.ROSTER_IMPORTED,
        actor=actor,
        target=course,
        subject=staged.filename,
        details={**asdict(result), "import_id": staged.id},
    )
    session.flush()
    return result


def _new_user(row: RosterRow, now: Any) -> dict[str, Any]:
    return {
        "full_name": row.full_name,
        "email": row.email,
        "sex": Sex(row.sex),
        "country_id": row.country_id,
        "institution_id": row.institution_id,
        "category": Category(row.category) if row.category else None,
        "rank": row.rank,
        "preferred_language": "en",
        "is_active": True,
        "session_nonce": new_session_nonce(),
        "created_at": now,
        "updated_at": now,
        **derived_name_columns(row.full_name, None, row.email),
    }


def _grant_trainee(session: Session, user_ids: list[int | None], now: Any) -> None:
    """Give the trainee role to those who hold no role yet; staff stay as they are
    (:func:`lms.access.enrolment_may_make_trainee`)."""
    wanted = {user_id for user_id in user_ids if user_id is not None}
    have_a_role: set[int] = set()
    ids = list(wanted)
    for start in range(0, len(ids), 1000):
        have_a_role.update(
            session.scalars(sa.select(RoleGrant.user_id).where(RoleGrant.user_id.in_(ids[start : start + 1000])))
        )
    missing = sorted(wanted - have_a_role)
    if missing:
        session.execute(
            sa.insert(RoleGrant), [{"user_id": uid, "role": Role.TRAINEE, "granted_at": now} for uid in missing]
        )


def _enrol_all(session: Session, course: Course, user_ids: list[int], now: Any) -> tuple[int, int]:
    """Enrol people in roster order while places last; the rest wait. Returns the counts."""
    existing = dict(
        session.execute(sa.select(Enrolment.user_id, Enrolment.id).where(Enrolment.course_id == course.id))
        .tuples()
        .all()
    )
    free = course.capacity - (
        session.scalar(
            sa.select(sa.func.count()).where(
                Enrolment.course_id == course.id, Enrolment.status == EnrolmentStatus.ENROLLED
            )
        )
        or 0
    )
    enrolled = waitlisted = 0
    inserts, updates = [], []
    for user_id in dict.fromkeys(user_ids):
        status = EnrolmentStatus.ENROLLED if free > 0 else EnrolmentStatus.WAITLISTED
        free -= status == EnrolmentStatus.ENROLLED
        enrolled += status == EnrolmentStatus.ENROLLED
        waitlisted += status == EnrolmentStatus.WAITLISTED
        if user_id in existing:
            updates.append({"enrolment_id": existing[user_id], "new_status": status})
        else:
            inserts.append(
                {"course_id": course.id, "user_id": user_id, "status": status, "created_at": now, "updated_at": now}
            )
    if inserts:
        session.execute(sa.insert(Enrolment.__table__), inserts)
    for update in updates:
        session.execute(
            sa.update(Enrolment)
            .where(Enrolment.id == update["enrolment_id"])
            .values(status=update["new_status"], updated_at=now)
        )
    return enrolled, waitlisted


TEMPLATE_EXAMPLE = ["Ljiljana Đukanović", "ljiljana.dukanovic@example.org", "female", "ME", "", "cadet", "kadet"]
