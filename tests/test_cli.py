"""The shell commands: create-user and demo."""

import sqlalchemy as sa

from lms import db
from lms.models import Category, Role, Sex, User
from tests.conftest import login

PASSWORD = "a strong shell passphrase"


def _people(app) -> list[User]:
    with app.app_context(), db.new_session() as session:
        return list(session.scalars(sa.select(User)))


def test_create_user_from_the_shell_can_log_in(app, runner) -> None:
    result = runner.invoke(
        args=[
            "lms",
            "create-user",
            "--email",
            "Prva.Admin@Example.org",
            "--name",
            "Прва Админ",
            "--role",
            "admin",
            "--password-stdin",
        ],
        input=PASSWORD + "\n",
    )
    assert result.exit_code == 0, result.output
    [person] = _people(app)
    assert person.email == "prva.admin@example.org"
    assert person.roles == {Role.ADMIN}
    assert PASSWORD not in result.output
    client = app.test_client()
    assert login(client, "prva.admin@example.org", PASSWORD).status_code == 302


def test_create_user_with_a_scoped_role(app, runner) -> None:
    result = runner.invoke(
        args=[
            "lms",
            "create-user",
            "--email",
            "k@example.org",
            "--name",
            "Koordinatorka",
            "--role",
            "coordinator",
            "--country",
            "ME",
            "--scope",
            "ME",
            "--sex",
            "female",
            "--category",
            "civilian_staff",
            "--password-stdin",
        ],
        input=PASSWORD + "\n",
    )
    assert result.exit_code == 0, result.output
    [person] = _people(app)
    assert person.grant_for(Role.COORDINATOR).country.code == "ME"
    assert person.sex == Sex.FEMALE and person.category == Category.CIVILIAN_STAFF


def test_create_user_refuses_weak_passwords_duplicates_and_unknown_countries(app, runner) -> None:
    args = ["lms", "create-user", "--email", "a@example.org", "--name", "A", "--password-stdin"]
    weak = runner.invoke(args=args, input="short\n")
    assert weak.exit_code != 0 and "at least 12" in weak.output
    assert runner.invoke(args=args, input=PASSWORD + "\n").exit_code == 0
    duplicate = runner.invoke(args=[*args[:3], "A@EXAMPLE.ORG", *args[4:]], input=PASSWORD + "\n")
    assert duplicate.exit_code != 0 and "already registered" in duplicate.output
    unknown = runner.invoke(args=[*args, "--country", "XX"], input=PASSWORD + "\n")
    assert unknown.exit_code != 0
    assert len(_people(app)) == 1


def test_demo_loads_a_realistic_set_once(app, runner) -> None:
    result = runner.invoke(args=["lms", "demo"])
    assert result.exit_code == 0, result.output
    people = _people(app)
    # The accounts and 40 named trainees, then two years of staff trained (lms.demo_history).
    assert len([p for p in people if not p.email.endswith("@staff.example.org")]) == 47
    assert 300 <= len(people) <= 400
    emails = {p.email for p in people}
    for email in [
        "admin@example.org",
        "coordinator@example.org",
        "trainer@example.org",
        "coach@example.org",
        "commander@example.org",
        "cadet@example.org",
    ]:
        assert email in emails
    assert {p.country.code for p in people} >= {"BA", "ME", "MK", "RS"}
    assert {p.sex for p in people} == set(Sex)
    assert any("Ђ" in p.full_name or "Љ" in p.full_name for p in people)  # Serbian Cyrillic
    assert any("Ѓ" in p.full_name or "Ќ" in p.full_name for p in people)  # Macedonian Cyrillic
    assert any("ë" in p.full_name or "Ç" in p.full_name for p in people)  # Albanian
    again = runner.invoke(args=["lms", "demo"])
    assert again.exit_code == 0 and "already has people" in again.output
    assert len(_people(app)) == len(people)


def test_each_demo_account_sees_its_own_dashboard(app, runner) -> None:
    runner.invoke(args=["lms", "demo"])
    from lms.demo import DEMO_PASSWORD

    expectations = {
        "admin@example.org": "Recent activity",
        "coordinator@example.org": "People by country and sex",
        "trainer@example.org": "Training",
        "coach@example.org": "Gender Coach Programme",
        "commander@example.org": "My learning",
        "cadet@example.org": "My learning",
    }
    from flask_babel import force_locale, gettext

    from lms.demo import ACCOUNTS
    from lms.i18n import babel_locale

    languages = {account[0]: account[7] for account in ACCOUNTS}
    for email, heading in expectations.items():
        client = app.test_client()
        assert login(client, email, DEMO_PASSWORD).status_code == 302, email
        page = client.get("/").get_data(as_text=True)
        with app.test_request_context(), force_locale(babel_locale(languages[email])):
            assert gettext(heading) in page, email


def test_demo_is_refused_in_production(app, runner, monkeypatch) -> None:
    app.config["LMS_ENV"] = "production"
    result = runner.invoke(args=["lms", "demo"])
    assert result.exit_code != 0
    assert "never loaded in production" in result.output
    assert _people(app) == []
