"""Serial numbers and verification codes.

A verification code is 80 random bits written in Crockford's base32: 16 characters
from an alphabet without I, L, O and U, shown in groups of four (``7K3M-Q9XD-2HFA-PV4N``).
People type it from paper, so reading it back forgives case, spaces, dashes and the
letters most often mistaken for digits.
"""

from __future__ import annotations

import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_BITS = 80
CODE_LENGTH = CODE_BITS // 5  # 16 characters
SERIAL_PREFIX = "RNGT"

_READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})
_IGNORED = str.maketrans("", "", " -\u2010\u2011\u2012\u2013\u2014\t")


def new_code() -> str:
    value = secrets.randbits(CODE_BITS)
    return "".join(ALPHABET[(value >> shift) & 31] for shift in range(CODE_BITS - 5, -1, -5))


def normalize_code(text: str) -> str | None:
    """The stored form of a typed code, or None when it cannot be a code."""
    if len(text) > 4 * CODE_LENGTH:
        return None
    code = text.translate(_IGNORED).upper().translate(_READ_AS)
    if len(code) != CODE_LENGTH or any(char not in ALPHABET for char in code):
        return None
    return code


def display_code(code: str) -> str:
    return "-".join(code[index : index + 4] for index in range(0, len(code), 4))


def format_serial(year: int, number: int) -> str:
    return f"{SERIAL_PREFIX}-{year}-{number:06d}"
