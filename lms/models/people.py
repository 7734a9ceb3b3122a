"""People, their accounts and roles, and the countries and institutions they belong to."""

from __future__ import annotations

import enum
import secrets
from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy import event, orm
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.db import Base, UTCDateTime, binary_sorted_string, enum_column, utcnow
from lms.text import SORT_KEY_LENGTH, fold_for_search, sort_key

NAME_MAX = 200
EMAIL_MAX = 254
RANK_MAX = 80
SEARCH_TEXT_MAX = 2 * NAME_MAX + EMAIL_MAX + 2


class Sex(enum.StrEnum):
    """Recorded for sex-disaggregated statistics; never guessed."""

    FEMALE = "female"
    MALE = "male"
    NOT_RECORDED = "not_recorded"


class Category(enum.StrEnum):
    CADET = "cadet"
    COMMANDER = "commander"
    MILITARY_STAFF = "military_staff"
    CIVILIAN_STAFF = "civilian_staff"


class Role(enum.StrEnum):
    ADMIN = "admin"
    COORDINATOR = "coordinator"
    TRAINER = "trainer"
    COACH = "coach"
    TRAINEE = "trainee"


#: Roles that are either regional or limited to one country.
SCOPED_ROLES = frozenset({Role.COORDINATOR, Role.TRAINER})


class InstitutionKind(enum.StrEnum):
    MINISTRY = "ministry"
    ARMED_FORCES = "armed_forces"
    ACADEMY = "academy"
    OTHER = "other"


class Country(Base):
    """A country of the programme, or the pseudo-country "Regional" (code ``REG``)."""

    __tablename__ = "countries"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(3), unique=True)
    name: Mapped[str] = mapped_column(sa.String(100), unique=True)
    position: Mapped[int] = mapped_column(default=0)

    institutions: Mapped[list[Institution]] = relationship(back_populates="country", order_by="Institution.position")

    def __repr__(self) -> str:
        return f"<Country {self.code}>"


class Institution(Base):
    __tablename__ = "institutions"
    __table_args__ = (sa.UniqueConstraint("country_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    country_id: Mapped[int] = mapped_column(sa.ForeignKey("countries.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    short_name: Mapped[str | None] = mapped_column(sa.String(40))
    kind: Mapped[InstitutionKind] = mapped_column(enum_column(InstitutionKind, "institution_kind"))
    position: Mapped[int] = mapped_column(default=0)

    country: Mapped[Country] = relationship(back_populates="institutions")

    def __repr__(self) -> str:
        return f"<Institution {self.id} {self.name!r}>"


def new_session_nonce() -> str:
    return secrets.token_urlsafe(24)


class User(UserMixin, Base):
    """A person: on a roster, and optionally with a login.

    ``sort_name`` and ``search_text`` are derived from the name and email whenever they
    change (see :func:`_derive_name_columns`), so lists can sort and search in SQL.
    """

    __tablename__ = "users"
    __table_args__ = (sa.CheckConstraint("length(full_name) > 0", name="full_name_not_empty"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    full_name: Mapped[str] = mapped_column(sa.String(NAME_MAX))
    # The same name in the other script (Serbian and Macedonian names in Latin and Cyrillic).
    full_name_alt: Mapped[str | None] = mapped_column(sa.String(NAME_MAX))
    # Stored lower-cased so that the unique constraint is case-insensitive on every engine.
    email: Mapped[str] = mapped_column(sa.String(EMAIL_MAX), unique=True)
    sex: Mapped[Sex] = mapped_column(enum_column(Sex, "sex"), default=Sex.NOT_RECORDED)
    country_id: Mapped[int] = mapped_column(sa.ForeignKey("countries.id"), index=True)
    institution_id: Mapped[int | None] = mapped_column(sa.ForeignKey("institutions.id"), index=True)
    category: Mapped[Category | None] = mapped_column(enum_column(Category, "category"))
    rank: Mapped[str | None] = mapped_column(sa.String(RANK_MAX))
    preferred_language: Mapped[str] = mapped_column(sa.String(16), default="en")

    password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    # Named as flask-login expects; a disabled account cannot log in and loses its sessions.
    is_active: Mapped[bool] = mapped_column(default=True)
    # Part of the session identity: changing it ends every session of this user.
    session_nonce: Mapped[str] = mapped_column(sa.String(64), default=new_session_nonce)
    # Part of the secret address of the personal calendar feed; None until one is made.
    calendar_nonce: Mapped[str | None] = mapped_column(sa.String(32))

    sort_name: Mapped[str] = mapped_column(binary_sorted_string(SORT_KEY_LENGTH), index=True)
    search_text: Mapped[str] = mapped_column(sa.String(SEARCH_TEXT_MAX))

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    country: Mapped[Country] = relationship(lazy="joined", innerjoin=True)
    institution: Mapped[Institution | None] = relationship(lazy="joined")
    role_grants: Mapped[list[RoleGrant]] = relationship(
        back_populates="user",
        cascade="all, delete-orphan",
        lazy="selectin",
        foreign_keys="RoleGrant.user_id",
    )

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"

    # --- flask-login -----------------------------------------------------------------
    def get_id(self) -> str:
        # The nonce makes the session identity revocable on the server (ASVS 7.4.1).
        return f"{self.id}:{self.session_nonce}"

    @property
    def has_login(self) -> bool:
        return self.password_hash is not None

    # --- roles -----------------------------------------------------------------------
    @property
    def roles(self) -> frozenset[Role]:
        return frozenset(grant.role for grant in self.role_grants)

    def has_role(self, *roles: Role) -> bool:
        return any(grant.role in roles for grant in self.role_grants)

    def grant_for(self, role: Role) -> RoleGrant | None:
        return next((grant for grant in self.role_grants if grant.role == role), None)

    def display_name(self, prefer_cyrillic: bool = False) -> str:
        """The name in the script asked for, when both are recorded."""
        from lms.text import is_cyrillic

        if self.full_name_alt and is_cyrillic(self.full_name) != prefer_cyrillic:
            return self.full_name_alt
        return self.full_name


class RoleGrant(Base):
    """A role held by a person; coordinators and trainers may be limited to one country."""

    __tablename__ = "role_grants"
    # Grants are deleted when revoked; AUTOINCREMENT stops SQLite from reusing their ids
    # (PostgreSQL sequences never do), so an id in the audit log names one grant forever.
    __table_args__ = (sa.UniqueConstraint("user_id", "role"), {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[Role] = mapped_column(enum_column(Role, "role"))
    # NULL: regional (all countries). Only coordinators and trainers are ever scoped.
    country_id: Mapped[int | None] = mapped_column(sa.ForeignKey("countries.id"), index=True)
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    granted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    user: Mapped[User] = relationship(back_populates="role_grants", foreign_keys=[user_id])
    country: Mapped[Country | None] = relationship(lazy="joined")

    def __repr__(self) -> str:
        return f"<RoleGrant {self.role} user={self.user_id} country={self.country_id}>"


class AccountToken(Base):
    """A single-use link to set a password: an invitation or a reset. Only its hash is kept."""

    __tablename__ = "account_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    user: Mapped[User] = relationship(foreign_keys=[user_id])


def derived_name_columns(full_name: str, full_name_alt: str | None, email: str) -> dict[str, str]:
    """The sort key and search text for a person (also used by bulk inserts)."""
    search = " ".join(fold_for_search(part) for part in (full_name, full_name_alt or "", email))
    return {"sort_name": sort_key(full_name), "search_text": search[:SEARCH_TEXT_MAX]}


@event.listens_for(User, "before_insert")
@event.listens_for(User, "before_update")
def _derive_name_columns(_mapper: orm.Mapper[User], _conn: sa.Connection, user: User) -> None:
    for key, value in derived_name_columns(user.full_name, user.full_name_alt, user.email).items():
        setattr(user, key, value)
