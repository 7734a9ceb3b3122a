"""Multi-factor sign-in: an authenticator app (TOTP), recovery codes and remembered devices.

Nothing here can be used to sign in if the database leaks: the TOTP secret is stored
encrypted with a key derived from the app's secret key, and recovery codes and device
tokens only as SHA-256 hashes of high-entropy random values.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from lms.db import Base, UTCDateTime, utcnow


class MfaState(Base):
    """A person's second factor, and since when their roles have required one."""

    __tablename__ = "mfa_states"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    # Set when enrolment starts; the factor counts only once ``enrolled_at`` is set.
    secret_encrypted: Mapped[str | None] = mapped_column(sa.String(255))
    enrolled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The time step of the last accepted code: it and every earlier one are refused, so a
    # code seen over someone's shoulder cannot be used again (RFC 6238, section 5.2).
    last_step: Mapped[int | None] = mapped_column(sa.BigInteger)
    last_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The first sign-in in production while holding a role that requires a second factor:
    # the grace period to set one up is counted from here.
    required_since: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def enrolled(self) -> bool:
        return self.enrolled_at is not None and self.secret_encrypted is not None


class MfaRecoveryCode(Base):
    """A single-use code for signing in without the authenticator. Only its hash is kept."""

    __tablename__ = "mfa_recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class MfaDevice(Base):
    """A browser where the person chose not to be asked for a code again, for a while.

    The browser keeps a random token in an HttpOnly cookie; only its hash is stored.
    ``password_marker`` ties the device to the password it was remembered under, so any
    change of password forgets every device.
    """

    __tablename__ = "mfa_devices"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    password_marker: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
