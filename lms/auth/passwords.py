"""Password hashing (Argon2id) and the password policy (ASVS 6.2)."""

from __future__ import annotations

import functools
import gzip
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask_babel import lazy_gettext as _l

MIN_LENGTH = 12
# Long passphrases are welcome; the cap only stops hashing megabytes of input.
MAX_LENGTH = 256

_hasher = PasswordHasher()
_COMMON_PASSWORDS = Path(__file__).with_name("data") / "common-passwords.txt.gz"


@functools.cache
def _common_passwords() -> frozenset[str]:
    with gzip.open(_COMMON_PASSWORDS, "rt", encoding="utf-8") as handle:
        return frozenset(line.strip() for line in handle if line.strip())


@functools.cache
def _dummy_hash() -> str:
    return _hasher.hash("a password nobody has")


def hash_password(password: str) -> str:
    """An Argon2id hash of ``password`` (salted; the text itself is never stored)."""
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches. Takes as long when there is no hash to compare with."""
    try:
        return _hasher.verify(password_hash or _dummy_hash(), password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def password_problems(password: str, *, email: str = "", full_name: str = "") -> list[str]:
    """What is wrong with ``password`` under the policy; empty when it is acceptable."""
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(str(_l("Use at least %(count)d characters.", count=MIN_LENGTH)))
    if len(password) > MAX_LENGTH:
        problems.append(str(_l("Use at most %(count)d characters.", count=MAX_LENGTH)))
    lowered = password.lower()
    if lowered in _common_passwords():
        problems.append(str(_l("This password is too common.")))
    personal = {email.lower(), email.lower().split("@")[0], full_name.lower().replace(" ", "")}
    if lowered.replace(" ", "") in {item for item in personal if item}:
        problems.append(str(_l("Do not use your name or email address as your password.")))
    return problems
