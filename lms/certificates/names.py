"""The holder's name in the script of a certificate's language.

A name is printed as recorded when it is already in the right script, else as its
recorded form in the other script, else transliterated: Cyrillic to Latin always (Serbian
or Macedonian rules by the holder's country), Latin to Cyrillic only when the name is
written with the Serbian/Macedonian Latin alphabet (an Albanian name such as "Arbër
Çela" stays as it is: Cyrillic spelling of it would be an invention).
"""

from __future__ import annotations

import unicodedata

from lms.text import cyrillic_to_latin, is_cyrillic, latin_to_cyrillic

CYRILLIC_LANGUAGES = frozenset({"mk", "sr-Cyrl"})
_TRANSLITERABLE = frozenset("abcdefghijklmnoprstuvzčćđšž")


def _rules(language: str | None, country_code: str) -> str:
    if language == "mk" or (language is None and country_code == "MK"):
        return "mk"
    return "sr"


def _transliterable_to_cyrillic(name: str) -> bool:
    letters = [char for char in unicodedata.normalize("NFC", name).lower() if char.isalpha()]
    return bool(letters) and all(char in _TRANSLITERABLE for char in letters)


def latin_form(name: str, alt: str | None, country_code: str) -> str:
    if not is_cyrillic(name):
        return name
    if alt and not is_cyrillic(alt):
        return alt
    return cyrillic_to_latin(name, _rules(None, country_code))


def cyrillic_form(name: str, alt: str | None, language: str, country_code: str) -> str:
    if is_cyrillic(name):
        return name
    if alt and is_cyrillic(alt):
        return alt
    if _transliterable_to_cyrillic(name):
        return latin_to_cyrillic(name, _rules(language, country_code))
    return name


def printed_names(name: str, alt: str | None, language: str | None, country_code: str) -> tuple[str, str | None]:
    """The main name of the certificate and, on a Cyrillic certificate, the Latin form
    below it (for the English text) when it differs."""
    latin = latin_form(name, alt, country_code)
    if language in CYRILLIC_LANGUAGES:
        cyrillic = cyrillic_form(name, alt, language, country_code)
        return cyrillic, (latin if latin != cyrillic else None)
    return latin, None
