"""The secrets of multi-factor sign-in, and how they are kept so that a copy of the
database (a leaked backup, say) lets nobody past the second step.

- The authenticator (TOTP) key is encrypted with a key derived from ``SECRET_KEY``. If
  that secret is ever changed, the stored keys can no longer be read: recovery codes
  still work, and an administrator's reset (or ``flask lms mfa-reset``) lets people set
  up their app again.
- Recovery codes and remembered-device tokens are random, high-entropy values of which
  only a SHA-256 hash is stored.

Functions only flush; the caller commits.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import secrets
from datetime import timedelta

import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app
from sqlalchemy.orm import Session

from lms import db
from lms.models import MfaDevice, MfaRecoveryCode, User

RECOVERY_CODE_COUNT = 10
# No 0/o or 1/l/i: the codes are printed or written down and typed back.
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
# About 79 bits each: a stored hash cannot be reversed by trying codes.
_RECOVERY_LENGTH = 16


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


# --- The authenticator key ---------------------------------------------------------------


@functools.lru_cache(maxsize=4)
def _fernet(secret_key: str) -> Fernet:
    # A key of its own for this one purpose, derived from the app's secret.
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"lms mfa totp secret").derive(secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(key))


def encrypt_key(key: str) -> str:
    return _fernet(current_app.config["SECRET_KEY"]).encrypt(key.encode()).decode()


def decrypt_key(token: str | None) -> str | None:
    """The authenticator key, or ``None`` when there is none or it cannot be read."""
    if not token:
        return None
    try:
        return _fernet(current_app.config["SECRET_KEY"]).decrypt(token.encode()).decode()
    except InvalidToken:
        current_app.logger.error("an MFA key cannot be decrypted: was LMS_SECRET_KEY changed?")
        return None


# --- Recovery codes ----------------------------------------------------------------------


def new_recovery_codes(session: Session, user: User) -> list[str]:
    """Replace ``user``'s recovery codes with new ones, returned once and stored hashed."""
    delete_recovery_codes(session, user)
    codes = [
        "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(_RECOVERY_LENGTH)) for _ in range(RECOVERY_CODE_COUNT)
    ]
    session.add_all(MfaRecoveryCode(user_id=user.id, code_hash=_hash(code)) for code in codes)
    session.flush()
    return ["-".join(code[i : i + 4] for i in range(0, _RECOVERY_LENGTH, 4)) for code in codes]


def _normal_recovery_code(code: str) -> str | None:
    # As typed back from paper: any case, with or without the dashes, spaces anywhere.
    value = "".join(code.split()).replace("-", "").lower()
    if len(value) != _RECOVERY_LENGTH or any(char not in _RECOVERY_ALPHABET for char in value):
        return None
    return value


def use_recovery_code(session: Session, user: User, code: str) -> bool:
    """Whether ``code`` is an unused recovery code of ``user``; it is then used up."""
    value = _normal_recovery_code(code)
    if value is None:
        return False
    # Conditional, so two requests racing with one code cannot both succeed.
    claimed = session.execute(
        sa.update(MfaRecoveryCode)
        .where(
            MfaRecoveryCode.user_id == user.id,
            MfaRecoveryCode.code_hash == _hash(value),
            MfaRecoveryCode.used_at.is_(None),
        )
        .values(used_at=db.utcnow())
        .execution_options(synchronize_session=False)
    )
    return claimed.rowcount == 1


def recovery_codes_left(session: Session, user: User) -> int:
    query = sa.select(sa.func.count(MfaRecoveryCode.id)).where(
        MfaRecoveryCode.user_id == user.id, MfaRecoveryCode.used_at.is_(None)
    )
    return session.scalar(query) or 0


def delete_recovery_codes(session: Session, user: User) -> None:
    session.execute(sa.delete(MfaRecoveryCode).where(MfaRecoveryCode.user_id == user.id))


# --- Remembered devices ------------------------------------------------------------------


def _password_marker(user: User) -> str:
    # Every new password gets a new salted hash, so any change of password forgets devices.
    return _hash(user.password_hash or "")


def remember_device(session: Session, user: User) -> str | None:
    """A token for this browser to skip the code until it expires; ``None`` when the
    configuration turns remembering off. Only the token's hash is stored."""
    days = current_app.config["MFA_REMEMBER_DAYS"]
    if days <= 0:
        return None
    now = db.utcnow()
    session.execute(sa.delete(MfaDevice).where(MfaDevice.user_id == user.id, MfaDevice.expires_at <= now))
    token = secrets.token_urlsafe(32)
    session.add(
        MfaDevice(
            user_id=user.id,
            token_hash=_hash(token),
            password_marker=_password_marker(user),
            created_at=now,
            expires_at=now + timedelta(days=days),
        )
    )
    session.flush()
    return token


def use_remembered_device(session: Session, user: User, token: str) -> bool:
    """Whether ``token`` is a remembered device of ``user``, unexpired, from the current password."""
    if not token or len(token) > 100:
        return False
    device = session.scalar(
        sa.select(MfaDevice).where(MfaDevice.token_hash == _hash(token), MfaDevice.user_id == user.id)
    )
    now = db.utcnow()
    if device is None or device.expires_at <= now:
        return False
    if not hmac.compare_digest(device.password_marker, _password_marker(user)):
        return False
    device.last_used_at = now
    return True


def forget_devices(session: Session, user: User) -> None:
    session.execute(sa.delete(MfaDevice).where(MfaDevice.user_id == user.id))
