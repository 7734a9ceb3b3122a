"""Two years of training in the demo: about 320 more staff of the four countries and the
courses they completed since December 2024, so the staff-trained dashboard, its trend and
its breakdowns show a real picture to a new user.

People and courses are invented but typical: names as their holders write them (Serbian
and Macedonian in Cyrillic, Albanian with ë and ç; Macedonian surnames in -ски/-ска),
about as many women as men and a few with sex not recorded, cadets, staff and commanders.
Everything goes through the same services as real use (courses, enrolment, attendance),
then completion times are set to each course's last day. Deterministic (a fixed seed).
"""

from __future__ import annotations

import random
from datetime import UTC, date, time, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lms import db
from lms.courses import attendance, enrolment, schedule, service
from lms.models import (
    AttendanceMark,
    Category,
    Country,
    Course,
    CourseMode,
    CourseStatus,
    Enrolment,
    EnrolmentMode,
    Institution,
    Module,
    Role,
    Sex,
    Track,
    User,
)
from lms.people import service as people
from lms.text import cyrillic_to_latin, is_cyrillic

PEOPLE_PER_COUNTRY = 80
FIRST_COURSE = date(2024, 12, 2)
COURSES_PER_COUNTRY = 8

# (female first names, male first names, surnames or (male, female) surname pairs)
NAMES: dict[str, tuple[list[str], list[str], list[str | tuple[str, str]]]] = {
    "BA": (
        ["Amra", "Lejla", "Azra", "Merima", "Sanja", "Ivana", "Jasmina", "Alma", "Dženana", "Maja", "Мирјана"],
        ["Adnan", "Emir", "Kenan", "Nermin", "Goran", "Mario", "Dario", "Senad", "Jasmin", "Damir", "Бојан"],
        ["Hodžić", "Hadžić", "Kovač", "Begić", "Mehić", "Ibrahimović", "Jurić", "Kovačević", "Husić", "Alić",
         "Softić", "Поповић"],
    ),
    "ME": (
        ["Jovana", "Milica", "Andrea", "Tamara", "Ivana", "Anđela", "Marija", "Sara", "Blerta", "Teodora"],
        ["Nikola", "Luka", "Vuk", "Filip", "Petar", "Miloš", "Danilo", "Arben", "Andrija", "Bojan"],
        ["Vujošević", "Radulović", "Popović", "Đurović", "Kaluđerović", "Vuksanović", "Dedaj", "Bošković",
         "Perović", "Milić", "Šćekić"],
    ),
    "MK": (
        ["Ана", "Марија", "Елена", "Катерина", "Симона", "Билјана", "Arta", "Albulena", "Drita", "Ивана"],
        ["Александар", "Стефан", "Никола", "Дарко", "Горан", "Bekim", "Agron", "Ilir", "Филип", "Ѓорѓи"],
        [("Петровски", "Петровска"), ("Стојанов", "Стојанова"), ("Трајковски", "Трајковска"),
         ("Николовски", "Николовска"), ("Димитров", "Димитрова"), ("Ангелов", "Ангелова"),
         "Rexhepi", "Ademi", "Shabani", "Memeti", "Xhaferi", "Bajrami"],
    ),
    "RS": (
        ["Јелена", "Ана", "Марија", "Милица", "Јована", "Тијана", "Dragana", "Ivana", "Katarina", "Sanja"],
        ["Марко", "Никола", "Стефан", "Лазар", "Милош", "Nemanja", "Aleksandar", "Uroš", "Vladimir", "Ђорђе"],
        ["Јовановић", "Петровић", "Николић", "Марковић", "Ђорђевић", "Стојановић", "Pavlović", "Ilić",
         "Milošević", "Đukić", "Vasić"],
    ),
}  # fmt: skip

# The Albanian first names take Albanian surnames, the Cyrillic ones Cyrillic surnames.
ALBANIAN = {"Arta", "Albulena", "Drita", "Bekim", "Agron", "Ilir", "Blerta", "Arben"}

# title, track
TITLES = [
    ("Gender equality in the armed forces: basic course", "gender-equality-in-the-armed-forces"),
    ("UNSCR 1325 and the Women, Peace and Security agenda", "international-framework"),
    ("Preventing and responding to sexual harassment", "preventing-discrimination-and-sexual-harassment"),
    ("Leading for gender equality: commanders' seminar", "leadership-for-commanders"),
    ("A gender perspective in military education", "gender-equality-in-the-armed-forces"),
    ("Training of trainers: teaching gender equality", "training-of-trainers"),
]
LANGUAGES = {"BA": "bs", "ME": "cnr", "MK": "mk", "RS": "sr-Latn"}
VENUES = {
    "BA": ["Peace Support Operations Training Centre, Butmir", "Ministry of Defence, Sarajevo"],
    "ME": ["Training Centre of the Armed Forces, Danilovgrad", "Ministry of Defence, Podgorica"],
    "MK": ["Military Academy, Skopje", "Ministry of Defence, Skopje"],
    "RS": ["Military Academy, Belgrade", "Ministry of Defence, Belgrade"],
}
# category, share
CATEGORIES = [
    (Category.CADET, 0.3),
    (Category.MILITARY_STAFF, 0.38),
    (Category.CIVILIAN_STAFF, 0.2),
    (Category.COMMANDER, 0.1),
    (None, 0.02),
]


ALBANIAN_SURNAMES = {"Rexhepi", "Ademi", "Shabani", "Memeti", "Xhaferi", "Bajrami", "Dedaj"}


def _name(rng: random.Random, country: str, sex: Sex) -> str:
    women, men, surnames = NAMES[country]
    first = rng.choice(women if sex == Sex.FEMALE else men if sex == Sex.MALE else women + men)
    if is_cyrillic(first):
        fitting = [s for s in surnames if isinstance(s, tuple) or is_cyrillic(s)]
    elif first in ALBANIAN:
        fitting = [s for s in surnames if s in ALBANIAN_SURNAMES]
    else:
        fitting = [s for s in surnames if isinstance(s, str) and not is_cyrillic(s) and s not in ALBANIAN_SURNAMES]
    surname = rng.choice(fitting or surnames)
    if isinstance(surname, tuple):
        surname = surname[1] if sex == Sex.FEMALE else surname[0]
    return f"{first} {surname}"


def _category(rng: random.Random) -> Category | None:
    roll, total = rng.random(), 0.0
    for category, share in CATEGORIES:
        total += share
        if roll < total:
            return category
    return None


def _staff(session: Session, rng: random.Random, country: Country) -> list[User]:
    institutions = list(session.scalars(sa.select(Institution).where(Institution.country_id == country.id)))
    made = []
    for number in range(PEOPLE_PER_COUNTRY):
        roll = rng.random()
        sex = Sex.FEMALE if roll < 0.46 else Sex.MALE if roll < 0.96 else Sex.NOT_RECORDED
        name = _name(rng, country.code, sex)
        alt = cyrillic_to_latin(name, "sr") if is_cyrillic(name) and country.code in {"RS", "BA"} else None
        latin = cyrillic_to_latin(name, "mk").lower().translate(str.maketrans("čćđšžëç", "ccdszec"))
        person = people.create_person(
            session,
            people.PersonData(
                full_name=name,
                full_name_alt=alt,
                email=f"{'.'.join(latin.split())}.{country.code.lower()}{number}@staff.example.org",
                sex=sex,
                country_id=country.id,
                institution_id=rng.choice(institutions).id if institutions and rng.random() > 0.05 else None,
                category=_category(rng),
            ),
            actor=None,
        )
        people.set_roles(session, person, {Role.TRAINEE: None}, actor=None)
        made.append(person)
    session.flush()
    return made


def _course(
    session: Session, rng: random.Random, country: Country, start: date, title: str, track_slug: str, trainer: User
) -> Course:
    track_id = session.scalar(sa.select(Track.id).where(Track.slug == track_slug))
    module_ids = list(
        session.scalars(sa.select(Module.id).where(Module.track_id == track_id, Module.archived_at.is_(None)))
    )
    days = rng.choice([2, 3])
    course = service.create_course(
        session,
        service.CourseData(
            title=title, country_id=country.id, mode=CourseMode.IN_PERSON, language=LANGUAGES[country.code],
            start_date=start, end_date=start + timedelta(days=days - 1), capacity=30,
            enrolment_mode=EnrolmentMode.TRAINER_ONLY, track_id=track_id, trainer_ids=[trainer.id],
            venue=rng.choice(VENUES[country.code]), module_ids=module_ids, require_modules=False,
        ),
        actor=trainer,
    )  # fmt: skip
    for day in range(days):
        service.save_session(
            session, course, service.SessionData(start + timedelta(days=day), time(9), time(15), title, trainer.id),
            actor=trainer,
        )  # fmt: skip
    return course


def load_demo_history(session: Session) -> tuple[int, int]:
    """Create the staff and their past courses; returns (people, courses)."""
    rng = random.Random(2024)  # noqa: S311 - demo data, not a secret
    trainer = session.scalar(sa.select(User).where(User.email == "trainer@example.org"))
    today = db.utcnow().date()
    staff_count = courses = 0
    countries = list(session.scalars(sa.select(Country).where(Country.code.in_(NAMES)).order_by(Country.position)))
    for offset, country in enumerate(countries):
        staff = _staff(session, rng, country)
        staff_count += len(staff)
        for number in range(COURSES_PER_COUNTRY):
            start = FIRST_COURSE + timedelta(weeks=11 * number + 3 * offset)
            while start.weekday() != 0:  # courses start on a Monday
                start += timedelta(days=1)
            if start + timedelta(days=7) >= today:
                break
            title, track = TITLES[(number + offset) % len(TITLES)]
            course = _course(session, rng, country, start, title, track, trainer)
            service.change_status(session, course, CourseStatus.PUBLISHED, actor=trainer)
            learners = rng.sample(staff, rng.randint(12, 20))
            for learner in learners:
                enrolment.enrol(session, course, learner, actor=trainer)
            service.change_status(session, course, CourseStatus.IN_PROGRESS, actor=trainer)
            missing = {learner.id for learner in learners if rng.random() < 0.12}
            for index, sitting in enumerate(course.sessions):
                marks = {
                    learner.id: AttendanceMark.ABSENT if learner.id in missing and index > 0 else AttendanceMark.PRESENT
                    for learner in learners
                }
                attendance.record_attendance(session, sitting, marks, actor=trainer)
            service.change_status(session, course, CourseStatus.COMPLETED, actor=trainer)
            attendance.refresh_results(session, course)
            courses += 1
    backdate_completions(session)
    return staff_count, courses


def backdate_completions(session: Session) -> None:
    """Completion is when a course ended, not when its demo data was written."""
    today = db.utcnow().date()
    for course in session.scalars(sa.select(Course).where(Course.end_date < today)):
        if not schedule.has_ended(course):
            continue
        session.execute(
            sa.update(Enrolment)
            .where(Enrolment.course_id == course.id, Enrolment.completed_at.is_not(None))
            .values(completed_at=schedule.ends_at(course).astimezone(UTC))
        )
    session.flush()
