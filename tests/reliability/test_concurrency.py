"""Sixteen people saving at once: no "database is locked", no duplicates (SECURITY.md, finding 3)."""

import threading

import sqlalchemy as sa

from lms.models import Role, User
from tests.conftest import country_id, login_as

WRITERS = 16
ROUNDS = 12


def test_sixteen_concurrent_writers_neither_fail_nor_duplicate(app, make_user, session) -> None:
    admin_id = make_user("admin@example.org", roles=[Role.ADMIN]).id
    country = str(country_id(session, "BA"))
    session.rollback()  # the threads must not touch the test's own session
    statuses: list[int] = []
    errors: list[BaseException] = []
    start = threading.Barrier(WRITERS)

    def writer(number: int) -> None:
        client = app.test_client()
        login_as(client, admin_id)
        start.wait()
        for round_ in range(ROUNDS):
            # Every writer tries the same emails: exactly one of them may create each person.
            data = {
                "full_name": f"Osoba {round_}",
                "email": f"osoba{round_}@example.org",
                "sex": "female",
                "country_id": country,
            }
            try:
                statuses.append(client.post("/people/new", data=data).status_code)
                if number % 4 == 0:
                    statuses.append(client.get("/people/").status_code)
            except BaseException as error:
                errors.append(error)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert not errors, errors[:3]
    assert 500 not in statuses
    assert statuses.count(302) == ROUNDS  # one success per email
    created = session.scalar(sa.select(sa.func.count()).select_from(User).where(User.email.like("osoba%")))
    assert created == ROUNDS
