"""Demonstration data: one account per role and a roster of trainees from the four countries.

Names are written as their holders would write them: Serbian in Cyrillic (with the Latin
spelling beside it), Macedonian in Cyrillic, Bosnian and Montenegrin in Latin, Albanian
with ë and ç. Deterministic, so every new user sees the same picture.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from lms.curriculum.content import load_curriculum
from lms.curriculum.sync import sync_curriculum
from lms.demo_certificates import load_demo_certificates
from lms.demo_coaching import load_demo_coaching
from lms.demo_courses import load_demo_courses
from lms.demo_history import load_demo_history
from lms.demo_learning import load_demo_learning
from lms.models import Category, Country, Institution, InstitutionKind, Role, Sex, User
from lms.people import service as people
from lms.reference import load_reference_data
from lms.text import cyrillic_to_latin, is_cyrillic

DEMO_PASSWORD = "demo-password"  # noqa: S105 - published demo password; demo data is refused in production

F, M, N = Sex.FEMALE, Sex.MALE, Sex.NOT_RECORDED
CADET, COMMANDER = Category.CADET, Category.COMMANDER
MIL, CIV = Category.MILITARY_STAFF, Category.CIVILIAN_STAFF
ACADEMY, FORCES, MINISTRY = InstitutionKind.ACADEMY, InstitutionKind.ARMED_FORCES, InstitutionKind.MINISTRY

# email, name, sex, country, institution kind, category, rank, language, roles (role, scope).
# The demo accounts read English so a first visitor can find their way; each person can
# switch language at the foot of every page (the Macedonian coordinator shows how).
ACCOUNTS = [
    ("admin@example.org", "Amra Hadžić", F, "REG", InstitutionKind.OTHER, CIV, None, "en", [(Role.ADMIN, None)]),
    (
        "coordinator@example.org",
        "Jelena Radović",
        F,
        "REG",
        InstitutionKind.OTHER,
        CIV,
        None,
        "en",
        [(Role.COORDINATOR, None)],
    ),
    (
        "coordinator.mk@example.org",
        "Билјана Стојановска",
        F,
        "MK",
        MINISTRY,
        CIV,
        None,
        "mk",
        [(Role.COORDINATOR, "MK")],
    ),
    ("trainer@example.org", "Nikola Petrović", M, "RS", ACADEMY, MIL, "potpukovnik", "en", [(Role.TRAINER, None)]),
    ("coach@example.org", "Arbër Çela", M, "MK", FORCES, MIL, "Kolonel", "en", [(Role.COACH, None)]),
    ("commander@example.org", "Mirsad Begović", M, "BA", FORCES, COMMANDER, "pukovnik", "en", [(Role.TRAINEE, None)]),
    ("cadet@example.org", "Ljiljana Đukanović", F, "ME", ACADEMY, CADET, "kadet", "en", [(Role.TRAINEE, None)]),
]

# name, sex, country, institution kind, category, rank
TRAINEES = [
    ("Emina Kovačević", F, "BA", FORCES, MIL, "kapetan"),
    ("Haris Delić", M, "BA", FORCES, MIL, "poručnik"),
    ("Selma Mujić", F, "BA", MINISTRY, CIV, None),
    ("Dragan Šarić", M, "BA", FORCES, COMMANDER, "major"),
    ("Aida Bešlagić", F, "BA", ACADEMY, CADET, "kadet"),
    ("Ivan Marković", M, "BA", ACADEMY, CADET, "kadet"),
    ("Жељка Тодоровић", F, "BA", FORCES, MIL, "водник"),
    ("Tarik Čaušević", M, "BA", FORCES, MIL, "stariji vodnik"),
    ("Lejla Zukić", F, "BA", MINISTRY, CIV, None),
    ("Milena Vujović", F, "ME", FORCES, MIL, "kapetan"),
    ("Marko Bulatović", M, "ME", FORCES, COMMANDER, "potpukovnik"),
    ("Ana Šćepanović", F, "ME", MINISTRY, CIV, None),
    ("Dejan Lakić", M, "ME", ACADEMY, CADET, "kadet"),
    ("Blerina Gjokaj", F, "ME", FORCES, MIL, "poručnik"),
    ("Vesna Ćorović", F, "ME", ACADEMY, CADET, "kadet"),
    ("Nenad Đurović", M, "ME", FORCES, MIL, "vodnik"),
    ("Stefan Mijušković", N, "ME", MINISTRY, CIV, None),
    ("Марија Трајковска", F, "MK", FORCES, MIL, "капетан"),
    ("Горан Стојановски", M, "MK", FORCES, COMMANDER, "полковник"),
    ("Ѓорѓи Николовски", M, "MK", ACADEMY, CADET, "кадет"),
    ("Ивана Ѓорѓиевска", F, "MK", ACADEMY, CADET, "кадет"),
    ("Besa Rexhepi", F, "MK", FORCES, MIL, "Toger"),
    ("Driton Shabani", M, "MK", FORCES, MIL, "Kapiten"),
    ("Елена Петровска", F, "MK", MINISTRY, CIV, None),
    ("Ќирил Јовановски", M, "MK", FORCES, MIL, "водник"),
    ("Fatmire Ademi", F, "MK", MINISTRY, CIV, None),
    ("Ђорђе Јовановић", M, "RS", FORCES, MIL, "капетан"),
    ("Љубица Стојановић", F, "RS", FORCES, MIL, "поручник"),
    ("Милош Николић", M, "RS", FORCES, COMMANDER, "пуковник"),
    ("Јована Илић", F, "RS", ACADEMY, CADET, "кадет"),
    ("Немања Ђорђевић", M, "RS", ACADEMY, CADET, "кадет"),
    ("Snežana Pavlović", F, "RS", MINISTRY, CIV, None),
    ("Александра Мирковић", F, "RS", FORCES, MIL, "водник"),
    ("Dušan Živković", M, "RS", FORCES, MIL, "stariji vodnik"),
    ("Тијана Станковић", F, "RS", MINISTRY, CIV, None),
    ("Vladimir Janković", M, "RS", ACADEMY, CADET, "kadet"),
    ("Драгана Лазић", F, "RS", FORCES, COMMANDER, "мајор"),
    ("Edona Krasniqi", F, "RS", MINISTRY, CIV, None),
    ("Lazar Obradović", N, "RS", ACADEMY, CADET, "kadet"),
    ("Јелена Ђокић", F, "BA", FORCES, MIL, "капетан"),
]


def _ascii_email(name: str, index: int) -> str:
    latin = cyrillic_to_latin(name, "mk")
    table = str.maketrans("čćđšžëçČĆĐŠŽËÇ", "ccdszecCCDSZEC")
    local = ".".join(latin.translate(table).lower().split())
    return f"{local}.{index}@demo.example.org"


def _alt_name(name: str, country: str) -> str | None:
    """Serbian names recorded in Cyrillic also get their Latin spelling."""
    if is_cyrillic(name) and country in {"RS", "BA"}:
        return cyrillic_to_latin(name, "sr")
    return None


def _institution(session: Session, country: Country, kind: InstitutionKind) -> Institution | None:
    return session.scalar(sa.select(Institution).where(Institution.country_id == country.id, Institution.kind == kind))


def _add_person(session: Session, countries: dict[str, Country], row: dict[str, Any]) -> User:
    country = countries[row["country"]]
    institution = _institution(session, country, row["kind"])
    return people.create_person(
        session,
        people.PersonData(
            full_name=row["name"],
            full_name_alt=_alt_name(row["name"], row["country"]),
            email=row["email"],
            sex=row["sex"],
            country_id=country.id,
            institution_id=institution.id if institution else None,
            category=row["category"],
            rank=row["rank"],
            preferred_language=row.get("language", "en"),
        ),
        actor=None,
    )


def load_demo(session: Session) -> str:
    """Create the demo people; returns a one-line summary."""
    load_reference_data(session)
    countries = {c.code: c for c in session.scalars(sa.select(Country))}
    account_keys = ("email", "name", "sex", "country", "kind", "category", "rank", "language")
    for *values, roles in ACCOUNTS:
        person = _add_person(session, countries, dict(zip(account_keys, values, strict=True)))
        people.set_roles(session, person, {role: countries[s].id if s else None for role, s in roles}, actor=None)
        people.set_password(session, person, DEMO_PASSWORD)
    trainee_keys = ("name", "sex", "country", "kind", "category", "rank")
    for index, values in enumerate(TRAINEES, start=1):
        row = dict(zip(trainee_keys, values, strict=True))
        person = _add_person(session, countries, {**row, "email": _ascii_email(row["name"], index)})
        people.set_roles(session, person, {Role.TRAINEE: None}, actor=None)
    session.flush()
    # Courses teach the curriculum: make sure it is registered first.
    root = Path(current_app.config["CONTENT_DIR"])
    curriculum = load_curriculum(root)
    sync_curriculum(session, curriculum, root)
    courses = load_demo_courses(session)
    pairings = load_demo_coaching(session)
    certificates = load_demo_certificates(session)
    staff, past_courses = load_demo_history(session)
    learners, checks = load_demo_learning(session, curriculum)
    return (
        f"{len(ACCOUNTS)} accounts, {len(TRAINEES)} trainees, {courses} courses, {pairings} coaching pairings, "
        f"{certificates} certificates, two years of training: {staff} more staff on {past_courses} past courses, "
        f"and online learning: {learners} people with {checks} knowledge-check attempts"
    )
