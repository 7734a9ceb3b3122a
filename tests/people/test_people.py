"""Managing people: add, edit, search, roles, scoping of coordinators, bad input."""

import re

import sqlalchemy as sa

from lms.audit.service import Action
from lms.models import Institution, Role, RoleGrant, Sex, User
from tests.conftest import country_id, login_as


def _names(html: str) -> list[str]:
    """The names in the people list, linked (managed) or not."""
    cells = re.findall(r"<tr>\s*<td>(.*?)(?:<br>|</td>)", html, re.S)
    return [re.sub(r"<[^>]+>", "", cell).strip() for cell in cells]


def _form(session, **overrides):
    data = {
        "full_name": "Љубица Стојановска",
        "full_name_alt": "Ljubica Stojanovska",
        "email": "Ljubica.Stojanovska@Mod.gov.mk",
        "sex": "female",
        "country_id": str(country_id(session, "MK")),
        "institution_id": "",
        "category": "military_staff",
        "rank": "капетан",
        "preferred_language": "mk",
    }
    data.update(overrides)
    return data


def test_admin_adds_a_person_with_a_cyrillic_name(client, make_user, session, audit_rows) -> None:
    admin = make_user("admin@example.org", roles=[Role.ADMIN])
    login_as(client, admin)
    response = client.post("/people/new", data=_form(session))
    assert response.status_code == 302
    person = session.scalar(sa.select(User).where(User.email == "ljubica.stojanovska@mod.gov.mk"))
    assert person.full_name == "Љубица Стојановска"
    assert person.sex == Sex.FEMALE
    assert person.password_hash is None  # on the roster, invited later
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Љубица Стојановска" in page and "Ljubica Stojanovska" in page
    [event] = [e for e in audit_rows(Action.PERSON_CREATED) if e.subject == person.email]
    assert event.actor_email == "admin@example.org"
    assert event.target_id == str(person.id)


def test_duplicate_email_is_a_form_error_whatever_the_case(client, make_user, session) -> None:
    admin = make_user("admin@example.org", roles=[Role.ADMIN])
    make_user("ljubica.stojanovska@mod.gov.mk")
    login_as(client, admin)
    response = client.post("/people/new", data=_form(session))
    assert response.status_code == 400
    assert "already registered" in response.get_data(as_text=True)
    assert session.scalar(sa.select(sa.func.count()).select_from(User)) == 2


def test_bad_input_is_refused_next_to_the_field_and_nothing_is_written(client, make_user, session) -> None:
    admin = make_user("admin@example.org", roles=[Role.ADMIN])
    login_as(client, admin)
    bad = {
        "full_name": ("Nul\x00Byte", "Names cannot contain invisible characters"),
        "rank": ("\u202ekapetan", "not allowed (U+202E)"),
        "email": ("not an email", "Enter a valid email address."),
        "sex": ("unknown", ""),
        "country_id": ("999999999999999999999", ""),
        "category": ("general", ""),
    }
    for field, (value, message) in bad.items():
        response = client.post("/people/new", data=_form(session, **{field: value}))
        assert response.status_code == 400, field
        html = response.get_data(as_text=True)
        assert f'id="{field}-error"' in html, field
        assert message in html, field
    too_long = client.post("/people/new", data=_form(session, full_name="Ж" * 201))
    assert "Use at most 200 characters." in too_long.get_data(as_text=True)
    empty = client.post("/people/new", data=_form(session, full_name="   "))
    assert "This field is required." in empty.get_data(as_text=True)
    assert session.scalar(sa.select(sa.func.count()).select_from(User)) == 1


def test_institution_must_belong_to_the_country(client, make_user, session) -> None:
    admin = make_user("admin@example.org", roles=[Role.ADMIN])
    login_as(client, admin)
    serbian = session.scalar(sa.select(Institution.id).where(Institution.country_id == country_id(session, "RS")))
    response = client.post("/people/new", data=_form(session, institution_id=str(serbian)))
    assert response.status_code == 400
    assert "not in the chosen country" in response.get_data(as_text=True)


def test_search_ignores_case_diacritics_and_script(client, make_user) -> None:
    admin = make_user("admin@example.org", roles=[Role.ADMIN], name="Amra Hadžić")
    make_user(name="Ljiljana Đukanović", country="ME")
    make_user(name="Ђорђе Јовановић", alt_name="Đorđe Jovanović")
    make_user(name="Arbër Çela", country="MK")
    login_as(client, admin)
    for query, expected in [
        ("dukanovic", ["Ljiljana Đukanović"]),
        ("ĐUKANOVIĆ", ["Ljiljana Đukanović"]),
        ("Djukanovic", ["Ljiljana Đukanović"]),
        ("jovanovic", ["Ђорђе Јовановић"]),
        ("Јовановић", ["Ђорђе Јовановић"]),
        ("arber cela", ["Arbër Çela"]),
        ("%", []),
        ("_", []),
    ]:
        response = client.get("/people/", query_string={"q": query})
        assert response.status_code == 200
        assert _names(response.get_data(as_text=True)) == expected, query


def test_people_are_listed_alphabetically_and_paged(app, client, make_user) -> None:
    app.config["PEOPLE_PER_PAGE"] = 3
    admin = make_user("admin@example.org", roles=[Role.ADMIN], name="Zora Admin")
    for name in ["Šarić Ana", "Cvijić Ivo", "Čolić Mara", "Ćosić Rade", "Sava Sa"]:
        make_user(name=name)
    login_as(client, admin)
    first = _names(client.get("/people/").get_data(as_text=True))
    second = _names(client.get("/people/?page=2").get_data(as_text=True))
    assert first + second == ["Cvijić Ivo", "Čolić Mara", "Ćosić Rade", "Sava Sa", "Šarić Ana", "Zora Admin"]
    # Listed, but one's own record is managed from one's account, not the people pages.
    assert f'href="/people/{admin.id}"' not in client.get("/people/?page=2").get_data(as_text=True)
    assert client.get("/people/?page=999999999999").status_code == 200
    assert client.get("/people/?page=abc").status_code == 200


def test_filters_by_country_role_and_sex(client, make_user, session) -> None:
    admin = make_user("admin@example.org", roles=[Role.ADMIN], sex=Sex.FEMALE, country="REG")
    make_user(name="Trainer Man", roles={Role.TRAINER: "RS"}, sex=Sex.MALE)
    make_user(name="Unknown Sex", sex=Sex.NOT_RECORDED, country="ME")
    login_as(client, admin)
    by_role = client.get("/people/", query_string={"role": "trainer"}).get_data(as_text=True)
    assert _names(by_role) == ["Trainer Man"]
    by_sex = client.get("/people/", query_string={"sex": "not_recorded"}).get_data(as_text=True)
    assert _names(by_sex) == ["Unknown Sex"]
    by_country = client.get("/people/", query_string={"country": country_id(session, "ME")}).get_data(as_text=True)
    assert _names(by_country) == ["Unknown Sex"]
    assert client.get("/people/", query_string={"sex": "other"}).status_code == 400
    assert client.get("/people/", query_string={"q": "a\x00"}).status_code == 400


def test_country_coordinator_sees_and_manages_only_their_country(client, make_user, session, audit_rows) -> None:
    coordinator = make_user("koordinator@example.org", roles={Role.COORDINATOR: "MK"}, country="MK")
    macedonian = make_user(name="Марија Трајковска", country="MK")
    serbian = make_user(name="Јована Илић", country="RS")
    login_as(client, coordinator)
    listed = _names(client.get("/people/").get_data(as_text=True))
    assert "Марија Трајковска" in listed and "Јована Илић" not in listed
    assert client.get(f"/people/{macedonian.id}").status_code == 200
    for url in [f"/people/{serbian.id}", f"/people/{serbian.id}/edit"]:
        assert client.get(url).status_code == 404
    assert client.post(f"/people/{serbian.id}/roles", data={"role_trainee": "y"}).status_code == 404
    denied = audit_rows(Action.ACCESS_DENIED)
    assert len(denied) == 3
    assert denied[0].actor_email == "koordinator@example.org"
    assert denied[0].subject == f"/people/{serbian.id}"
    # Nor can they add someone to another country.
    response = client.post("/people/new", data=_form(session, country_id=str(country_id(session, "RS"))))
    assert response.status_code == 400


def test_coordinator_grants_only_the_roles_below_theirs(client, make_user, session, audit_rows) -> None:
    coordinator = make_user("koordinator@example.org", roles={Role.COORDINATOR: "MK"}, country="MK")
    person = make_user(name="Горан Стојановски", country="MK")
    login_as(client, coordinator)
    mk = str(country_id(session, "MK"))
    ok = client.post(f"/people/{person.id}/roles", data={"role_trainer": "y", "scope_trainer": mk, "role_trainee": "y"})
    assert ok.status_code == 302
    grants = {g.role: g.country_id for g in session.scalars(sa.select(RoleGrant).where(RoleGrant.user_id == person.id))}
    assert grants == {Role.TRAINER: int(mk), Role.TRAINEE: None}
    assert {e.action for e in audit_rows()} >= {Action.ROLE_GRANTED}
    # A regional trainer role, or admin, is beyond a country coordinator.
    regional = client.post(f"/people/{person.id}/roles", data={"role_trainer": "y", "scope_trainer": ""})
    assert regional.status_code == 400
    session.expire_all()
    assert session.scalar(
        sa.select(RoleGrant.country_id).where(RoleGrant.user_id == person.id, RoleGrant.role == Role.TRAINER)
    ) == int(mk)
    client.post(f"/people/{person.id}/roles", data={"role_admin": "y"})
    assert session.scalar(sa.select(RoleGrant).where(RoleGrant.role == Role.ADMIN)) is None


def test_admin_grants_and_revokes_roles(client, make_user, session, audit_rows) -> None:
    admin = make_user("admin@example.org", roles=[Role.ADMIN])
    person = make_user(name="Милош Николић", roles=[Role.TRAINEE])
    login_as(client, admin)
    client.post(
        f"/people/{person.id}/roles",
        data={"role_coordinator": "y", "scope_coordinator": str(country_id(session, "RS"))},
    )
    grants = {g.role: g.country_id for g in session.scalars(sa.select(RoleGrant).where(RoleGrant.user_id == person.id))}
    assert grants == {Role.COORDINATOR: country_id(session, "RS")}
    actions = [e.action for e in audit_rows() if e.target_id == str(person.id)]
    assert Action.ROLE_GRANTED in actions and Action.ROLE_REVOKED in actions


def test_admin_cannot_remove_their_own_admin_role_or_disable_themselves(client, make_user, session) -> None:
    admin = make_user("admin@example.org", roles=[Role.ADMIN])
    login_as(client, admin)
    client.post(f"/people/{admin.id}/roles", data={})
    assert session.scalar(sa.select(RoleGrant).where(RoleGrant.role == Role.ADMIN)) is not None
    client.post(f"/people/{admin.id}/active", data={"active": "0"})
    session.expire_all()
    assert session.get(User, admin.id).is_active


def test_editing_details_cannot_change_roles_or_login(client, make_user, session) -> None:
    admin = make_user("admin@example.org", roles=[Role.ADMIN])
    person = make_user("trainee@example.org", roles=[Role.TRAINEE], password=False)
    login_as(client, admin)
    data = _form(session, email="trainee@example.org", role_admin="y", password_hash="x", is_active="0")
    assert client.post(f"/people/{person.id}/edit", data=data).status_code == 302
    session.expire_all()
    edited = session.get(User, person.id)
    assert edited.full_name == "Љубица Стојановска"
    assert edited.roles == {Role.TRAINEE}
    assert edited.password_hash is None and edited.is_active


def test_invitation_link_for_a_roster_person(app, client, make_user, audit_rows) -> None:
    admin = make_user("admin@example.org", roles=[Role.ADMIN])
    person = make_user("roster@example.org", password=False)
    login_as(client, admin)
    # The link is built from the platform's public address, not from the request.
    page = client.post(f"/people/{person.id}/link", headers={"X-Forwarded-Host": "evil.example"}).get_data(as_text=True)
    public = app.config["PUBLIC_URL"]
    link = re.search(rf'value="({re.escape(public)}/auth/activate/[^"]+)"', page).group(1)
    assert client.get(link.replace(public, "")).status_code == 200
    assert len(audit_rows(Action.LINK_CREATED)) == 1


def test_malformed_and_unknown_ids_are_404(client, make_user) -> None:
    admin = make_user("admin@example.org", roles=[Role.ADMIN])
    login_as(client, admin)
    for url in [
        "/people/0",
        "/people/-1",
        "/people/abc",
        "/people/99999",
        "/people/2147483648",
        "/people/1e3",
        "/people/%00",
    ]:
        assert client.get(url).status_code == 404, url
