"""Names with invisible characters (zero-width, direction marks) are refused with a clear
message, on the forms and in the service the shell and rosters call; the region's letters
are not."""

from __future__ import annotations

import html

import pytest
import sqlalchemy as sa

from lms.models import Role, User
from lms.people import service as people
from tests.conftest import country_id, login_as

MESSAGE = "Names cannot contain invisible characters (such as zero-width spaces or direction marks). Retype the name."

INVISIBLE_NAMES = [
    "Ana\u200bPetrović",  # zero-width space
    "\u202ećivorteP anA",  # right-to-left override: shows as "Ana Petrović" reversed
    "Ana\u2066 Petrović\u2069",  # isolates
    "Ana Petro\u00advić",  # soft hyphen
    "Ana\u200dPetrović",  # zero-width joiner
]
NAMES_OF_THE_REGION = ["Đorđe Šćekić", "Јован Јовановић", "Ѓорѓи Ќосев", "Arbër Çela"]


def _form(session, **overrides):
    data = {
        "full_name": "Ana Petrović",
        "full_name_alt": "",
        "email": "ana.petrovic@mod.gov.rs",
        "sex": "female",
        "country_id": str(country_id(session, "RS")),
        "institution_id": "",
        "category": "military_staff",
        "rank": "",
        "preferred_language": "sr-Latn",
    }
    data.update(overrides)
    return data


def _people(session) -> int:
    session.rollback()
    return session.scalar(sa.select(sa.func.count()).select_from(User))


def _error_of(page: str, field: str) -> str:
    """The text of the error shown next to ``field``."""
    start = page.index(f'id="{field}-error"')
    return html.unescape(page[start : page.index("</", start)])


@pytest.mark.parametrize("name", INVISIBLE_NAMES)
@pytest.mark.parametrize("field", ["full_name", "full_name_alt"])
def test_a_new_person_with_an_invisible_character_in_a_name_is_refused(client, make_user, session, field, name) -> None:
    login_as(client, make_user("admin@example.org", roles=[Role.ADMIN]))
    response = client.post("/people/new", data=_form(session, **{field: name}))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert MESSAGE in _error_of(page, field)
    assert "not allowed (U+" not in page  # one clear message, not the generic one besides
    assert _people(session) == 1


def test_editing_a_name_to_one_with_a_zero_width_space_is_refused(client, make_user, session) -> None:
    login_as(client, make_user("admin@example.org", roles=[Role.ADMIN]))
    person = make_user("ana.petrovic@mod.gov.rs", name="Ana Petrović", country="RS")
    response = client.post(f"/people/{person.id}/edit", data=_form(session, full_name="Ana\u200bPetrović"))
    assert response.status_code == 400
    assert MESSAGE in _error_of(response.get_data(as_text=True), "full_name")
    session.rollback()
    assert session.get(User, person.id).full_name == "Ana Petrović"


@pytest.mark.parametrize("name", NAMES_OF_THE_REGION)
def test_names_of_the_region_are_accepted(client, make_user, session, name) -> None:
    login_as(client, make_user("admin@example.org", roles=[Role.ADMIN]))
    response = client.post("/people/new", data=_form(session, full_name=name))
    assert response.status_code == 302
    session.rollback()
    assert session.scalar(sa.select(User.full_name).where(User.email == "ana.petrovic@mod.gov.rs")) == name


def test_a_signatory_name_with_a_direction_mark_is_refused(client, make_user, session) -> None:
    login_as(client, make_user("coordinator@example.org", roles={Role.COORDINATOR: None}, country="REG"))
    data = {"name": "Mira\u200f Marić", "function": "Head of Office", "country_id": "0", "position": "0"}
    response = client.post("/certificates/signatories", data=data)
    assert response.status_code == 400
    assert MESSAGE in _error_of(response.get_data(as_text=True), "name")


@pytest.mark.parametrize(("field", "name"), [("full_name", "Ana\u200bPetrović"), ("full_name_alt", "\u202eАна")])
def test_the_service_refuses_them_too(app, session, field, name) -> None:
    data = people.PersonData(
        full_name="Ana Petrović", email="ana.petrovic@mod.gov.rs", country_id=country_id(session, "RS")
    )
    setattr(data, field, name)
    with app.test_request_context(), pytest.raises(people.PeopleError) as refused:
        people.create_person(session, data, actor=None)
    assert refused.value.field == field
    assert refused.value.message == MESSAGE
