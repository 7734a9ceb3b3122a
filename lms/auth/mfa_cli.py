"""``flask --app app lms mfa-reset EMAIL``: the administrator's reset, from the shell."""

from __future__ import annotations

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from lms import db
from lms.auth import mfa
from lms.models import User


@click.command("mfa-reset")
@click.argument("email")
@with_appcontext
def mfa_reset_command(email: str) -> None:
    """Remove the second factor of the person with EMAIL and end their sessions.

    For when nobody who could do it on the person's page can log in, such as the only
    administrator with a lost phone and lost recovery codes. Audited; the person gets the
    full grace period again to set up a new one.
    """
    with db.new_session() as session:
        person = session.scalar(sa.select(User).where(User.email == email.strip().lower()))
        if person is None:
            raise click.ClickException(f"Nobody has the email address {email!r}.")
        mfa.reset(session, person, actor=None)
        session.commit()
    click.echo(
        f"The second factor of {person.email} is reset; they can log in with their password and set it up again."
    )
