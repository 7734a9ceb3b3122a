"""``flask --app app lms ...``: thin wrappers over the same services the web uses."""

from __future__ import annotations

import sys
from pathlib import Path

import click
import sqlalchemy as sa
from flask import Flask, current_app
from flask.cli import AppGroup

from lms import db, migrate
from lms.auth.passwords import password_problems
from lms.curriculum.content import SERBIAN_DERIVED, TRANSLATED_LANGUAGES, Curriculum, coverage, load_curriculum
from lms.curriculum.glossary import Glossary
from lms.curriculum.item_quality import longest_right_share
from lms.curriculum.sync import sync_curriculum
from lms.models import Category, Country, Role, Sex, User
from lms.people import service as people
from lms.reference import load_reference_data

lms_cli = AppGroup("lms", help="RNGT LMS administration.")


@lms_cli.command("init")
def init_command() -> None:
    """Upgrade the database schema to the latest version and load reference data.

    Safe to run again at any time: it only adds what is missing.
    """
    engine = db.get_engine()
    migrate.upgrade(engine)
    with db.new_session() as session:
        load_reference_data(session)
        session.commit()
    click.echo(f"Database ready at revision {migrate.current_revision(engine)}.")
    _sync_content(strict=False)


content_cli = AppGroup("content", help="The curriculum in content/.")
lms_cli.add_command(content_cli)


@content_cli.command("check")
def content_check_command() -> None:
    """Validate every track and module; list each problem with its file and line."""
    root = Path(current_app.config["CONTENT_DIR"])
    curriculum = load_curriculum(root)
    for problem in curriculum.problems:
        click.echo(f"{root.name}/{problem}", err=True)
    translations = sum(len(module.translations) for module in curriculum.modules.values())
    summary = f"{len(curriculum.tracks)} tracks, {len(curriculum.modules)} modules, {translations} translations"
    longest, singles = longest_right_share(list(curriculum.modules.values()))
    pools = sum(len(module.questions) for module in curriculum.modules.values())
    click.echo(
        f"Question bank: {pools} questions; the right answer is the longest option in {longest} of {singles}"
        f" single-answer questions ({100 * longest / singles if singles else 0:.0f}%)."
    )
    _echo_coverage(curriculum)
    _echo_terminology(curriculum, root)
    if curriculum.problems:
        raise click.ClickException(f"{len(curriculum.problems)} problem(s) found ({summary} valid).")
    click.echo(f"Content OK: {summary}.")


def _echo_terminology(curriculum: Curriculum, root: Path) -> None:
    """Warnings (not failures) where a translation uses a form the glossary rejects."""
    glossary = Glossary.load(root)
    warnings = 0
    for module in curriculum.modules.values():
        for language, text in sorted(module.translations.items()):
            if language == SERBIAN_DERIVED:
                continue  # read in Cyrillic, where it is written
            for found in glossary.avoided((root / text.path).read_text(encoding="utf-8"), language):
                warnings += 1
                click.echo(
                    f"warning: {root.name}/{text.path}:{found.line}: '{found.form}' is not the agreed term"
                    f" (glossary '{found.term}': write '{found.agreed}')",
                    err=True,
                )
    click.echo(f"Terminology: {len(glossary)} terms in {root.name}/glossary.yml; {warnings} warning(s).")


COVERAGE_MARKS = {"translated": "yes", "out of date": "old", "missing": "-"}


def _echo_coverage(curriculum: Curriculum) -> None:
    """The modules x languages table: translated, out of date (old) or missing (-)."""
    rows = coverage(curriculum)
    if not rows:
        return
    width = max(len(module.slug) for module, _status in rows)
    click.echo("Translations (yes: translated, old: made from an older English version, -: missing;")
    click.echo("Serbian Latin is shown from the Serbian Cyrillic text):")
    click.echo(" ".join(["module".ljust(width), *(f"{code:>7}" for code in TRANSLATED_LANGUAGES)]))
    for module, status in rows:
        marks = (f"{COVERAGE_MARKS[status[code]]:>7}" for code in TRANSLATED_LANGUAGES)
        click.echo(" ".join([module.slug.ljust(width), *marks]))
    totals = (
        f"{sum(1 for _m, status in rows if status[code] == 'translated'):>3}/{len(rows):<3}"
        for code in TRANSLATED_LANGUAGES
    )
    click.echo(" ".join(["complete".ljust(width), *totals]))


@content_cli.command("sync")
def content_sync_command() -> None:
    """Register tracks and modules in the database (new, revised, archived)."""
    _sync_content(strict=True)


def _sync_content(*, strict: bool) -> None:
    root = Path(current_app.config["CONTENT_DIR"])
    curriculum = load_curriculum(root)
    if curriculum.problems:
        message = f"{len(curriculum.problems)} content problem(s); run `flask --app app lms content check`."
        if strict:
            click.echo(message + " Valid modules are synced; broken ones keep their last registration.", err=True)
        else:
            click.echo("Warning: " + message, err=True)
    with db.new_session() as session:
        report = sync_curriculum(session, curriculum, root)
        session.commit()
    click.echo(f"Curriculum synced: {report}.")


@lms_cli.command("create-user")
@click.option("--email", required=True, help="Login email address.")
@click.option("--name", "full_name", required=True, help="Full name, in Latin or Cyrillic.")
@click.option(
    "--role", "roles", multiple=True, type=click.Choice([r.value for r in Role]), help="Repeat for several roles."
)
@click.option("--country", "country_code", default="REG", show_default=True, help="BA, ME, MK, RS or REG.")
@click.option(
    "--scope", "scope_code", default=None, help="Limit coordinator/trainer roles to this country (BA, ME, MK, RS)."
)
@click.option("--sex", type=click.Choice([s.value for s in Sex]), default=Sex.NOT_RECORDED.value, show_default=True)
@click.option("--category", type=click.Choice([c.value for c in Category]), default=None)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input instead of prompting.")
def create_user_command(
    email: str,
    full_name: str,
    roles: tuple[str, ...],
    country_code: str,
    scope_code: str | None,
    sex: str,
    category: str | None,
    password_stdin: bool,
) -> None:
    """Create a person with a login (for example the first administrator)."""
    with db.new_session() as session:
        country = session.scalar(sa.select(Country).where(Country.code == country_code.upper()))
        scope = session.scalar(sa.select(Country).where(Country.code == scope_code.upper())) if scope_code else None
        if country is None or (scope_code and scope is None):
            raise click.UsageError("Unknown country code; run `flask --app app lms init` first if none exist.")
        password = _read_password(password_stdin)
        problems = password_problems(password, email=email, full_name=full_name)
        if problems:
            raise click.UsageError(" ".join(problems))
        data = people.PersonData(
            full_name=full_name.strip(),
            email=email,
            country_id=country.id,
            sex=Sex(sex),
            category=Category(category) if category else None,
        )
        try:
            person = people.create_person(session, data, actor=None)
            people.set_roles(session, person, {Role(r): scope.id if scope else None for r in roles}, actor=None)
        except people.PeopleError as error:
            raise click.UsageError(error.message) from error
        people.set_password(session, person, password)
        session.commit()
        click.echo(f"Created {person.email} with roles: {', '.join(sorted(roles)) or 'none'}.")


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


@lms_cli.command("demo")
def demo_command() -> None:
    """Load the demonstration data (refused in production)."""
    from lms.demo import DEMO_PASSWORD, load_demo

    if current_app.config["LMS_ENV"] == "production":
        raise click.ClickException("Demo data is never loaded in production.")
    with db.new_session() as session:
        if session.scalar(sa.select(sa.func.count()).select_from(User)):
            click.echo("The database already has people; demo data not loaded.")
            return
        summary = load_demo(session)
        session.commit()
    click.echo(f"Demo data loaded: {summary}. Every demo account's password is {DEMO_PASSWORD!r}.")


def init_app(app: Flask) -> None:
    from lms.auth.mfa_cli import mfa_reset_command
    from lms.backup_cli import backup_command, restore_command
    from lms.certificates.cli import certificates_cli, worker_command_factory
    from lms.reports.cli import report_command

    lms_cli.add_command(certificates_cli)
    lms_cli.add_command(worker_command_factory())
    lms_cli.add_command(report_command)
    lms_cli.add_command(mfa_reset_command)
    lms_cli.add_command(backup_command)
    lms_cli.add_command(restore_command)
    app.cli.add_command(lms_cli)
