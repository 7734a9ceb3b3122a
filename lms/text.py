"""Text rules for people of four countries: cleaning, transliteration, search and sorting.

Names arrive in Latin with č ć đ š ž, in Serbian and Macedonian Cyrillic and in Albanian
(ë ç). They are stored NFC-normalised, searched without regard to case, diacritics or
script, and sorted by the alphabets of the region rather than by code point (where
"Č" would follow "Z").
"""

from __future__ import annotations

import unicodedata

# Bidirectional embedding, override and isolate controls can make a name display as
# something else (e.g. U+202E reverses the text that follows); they have no place in data.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f")
_ALLOWED_MULTILINE_CONTROLS = frozenset("\n\r\t")


def find_forbidden_character(value: str, *, multiline: bool = False) -> str | None:
    """Return the first character not allowed in stored text, or ``None``.

    Forbidden: NUL and other control characters (except newlines and tabs in multi-line
    text), bidirectional overrides, unassigned code points and lone surrogates.
    """
    for char in value:
        category = unicodedata.category(char)
        if category == "Cc":
            if multiline and char in _ALLOWED_MULTILINE_CONTROLS:
                continue
            return char
        if char in _BIDI_CONTROLS or category in {"Cs", "Cn", "Co"}:
            return char
    return None


# Characters that show nothing, yet make two names that look alike differ (and so slip
# past duplicate checks and search) or reorder what follows them. Format characters
# (category Cf: zero-width space, joiners, soft hyphen, word joiner, BOM, direction marks
# and overrides, tags) and control characters (Cc) are refused by category; these are
# the invisible ones of other categories. Combining marks in general are not among them:
# "č" may arrive as "c" and U+030C.
_INVISIBLE_OTHERS = frozenset(
    "\u034f"  # combining grapheme joiner
    "\u115f\u1160\u3164\uffa0"  # Hangul fillers
    "\u17b4\u17b5"  # Khmer inherent vowels, invisible on their own
    "\u2028\u2029"  # line and paragraph separators
    "\ufe00\ufe01\ufe02\ufe03\ufe04\ufe05\ufe06\ufe07"
    "\ufe08\ufe09\ufe0a\ufe0b\ufe0c\ufe0d\ufe0e\ufe0f"  # variation selectors
)
_INVISIBLE_CATEGORIES = frozenset({"Cf", "Cc"})


def invisible_characters(value: str) -> list[str]:
    """The invisible characters in ``value`` (each once, in order of appearance).

    Zero-width characters (U+200B-U+200D, U+2060, U+FEFF, U+180E), bidirectional marks,
    embeddings, overrides and isolates (U+200E, U+200F, U+202A-U+202E, U+2066-U+2069,
    U+061C), the soft hyphen and every other format or control character, and a few
    blank letters and selectors. Letters and combining marks of the region's alphabets
    are not invisible. For names, where none of these has a place.
    """
    found: list[str] = []
    for char in value:
        if char not in found and _is_invisible(char):
            found.append(char)
    return found


def _is_invisible(char: str) -> bool:
    if unicodedata.category(char) in _INVISIBLE_CATEGORIES or char in _INVISIBLE_OTHERS:
        return True
    return "\U000e0100" <= char <= "\U000e01ef"  # variation selectors supplement


def clean_line(value: str | None) -> str:
    """Normalise one line of user text: NFC, surrounding and repeated spaces removed."""
    if value is None:
        return ""
    return " ".join(unicodedata.normalize("NFC", value).split())


# --- Transliteration -------------------------------------------------------------------

_SR_CYRL_TO_LATN = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "ђ": "đ", "е": "e", "ж": "ž",
    "з": "z", "и": "i", "ј": "j", "к": "k", "л": "l", "љ": "lj", "м": "m", "н": "n",
    "њ": "nj", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t", "ћ": "ć", "у": "u",
    "ф": "f", "х": "h", "ц": "c", "ч": "č", "џ": "dž", "ш": "š",
}  # fmt: skip
# Macedonian letters absent from Serbian, romanised as in the official Macedonian system.
_MK_CYRL_TO_LATN = {**_SR_CYRL_TO_LATN, "ѓ": "gj", "ќ": "kj", "ѕ": "dz"}

_SR_LATN_DIGRAPHS = {"dž": "џ", "lj": "љ", "nj": "њ"}
_SR_LATN_TO_CYRL = {latin: cyrillic for cyrillic, latin in _SR_CYRL_TO_LATN.items() if len(latin) == 1}
_MK_LATN_DIGRAPHS = {**_SR_LATN_DIGRAPHS, "gj": "ѓ", "kj": "ќ", "dz": "ѕ"}
_MK_LATN_TO_CYRL = {**_SR_LATN_TO_CYRL, "đ": "ѓ", "ć": "ќ"}


def _match_case(source: str, target: str) -> str:
    if source.isupper() and len(source) > 1:
        return target.upper()
    if source[:1].isupper():
        return target[:1].upper() + target[1:]
    return target


def cyrillic_to_latin(value: str, language: str = "sr") -> str:
    """Transliterate Serbian (``sr``) or Macedonian (``mk``) Cyrillic to Latin."""
    table = _MK_CYRL_TO_LATN if language == "mk" else _SR_CYRL_TO_LATN
    out = []
    for index, char in enumerate(value):
        latin = table.get(char.lower())
        if latin is None:
            out.append(char)
            continue
        if char.isupper():
            # "Љубица" -> "Ljubica", but "ЉУБИЦА" -> "LJUBICA".
            neighbour = value[index + 1 : index + 2]
            latin = latin.upper() if neighbour.isupper() else latin[:1].upper() + latin[1:]
        out.append(latin)
    return "".join(out)


def latin_to_cyrillic(value: str, language: str = "sr") -> str:
    """Transliterate Serbian (``sr``) or Macedonian (``mk``) Latin to Cyrillic.

    Digraphs (dž, lj, nj; and gj, kj, dz in Macedonian) become single letters.
    """
    value = unicodedata.normalize("NFC", value)
    digraphs = _MK_LATN_DIGRAPHS if language == "mk" else _SR_LATN_DIGRAPHS
    singles = _MK_LATN_TO_CYRL if language == "mk" else _SR_LATN_TO_CYRL
    out = []
    index = 0
    while index < len(value):
        pair = value[index : index + 2]
        if pair.lower() in digraphs:
            out.append(_match_case(pair, digraphs[pair.lower()]))
            index += 2
            continue
        char = value[index]
        cyrillic = singles.get(char.lower())
        out.append(char if cyrillic is None else _match_case(char, cyrillic))
        index += 1
    return "".join(out)


def is_cyrillic(value: str) -> bool:
    """Whether ``value`` is written mostly in Cyrillic letters."""
    letters = [char for char in value if char.isalpha()]
    cyrillic = sum(1 for char in letters if "\u0400" <= char <= "\u04ff")
    return bool(letters) and cyrillic * 2 > len(letters)


# --- Search ----------------------------------------------------------------------------


# Lower-case Cyrillic to Latin in one C-level pass (the text is case-folded first).
_FOLD_CYRILLIC = str.maketrans(_MK_CYRL_TO_LATN)


def fold_for_search(value: str) -> str:
    """Fold text so that case, diacritics and script do not matter when searching.

    "Đukanović", "DJUKANOVIC", "dukanovic" and "Ђукановић" all fold to "dukanovic".
    """
    if not value:
        return ""
    text = value.casefold()
    if not text.isascii():
        text = unicodedata.normalize("NFC", text).translate(_FOLD_CYRILLIC).replace("đ", "d")
        decomposed = unicodedata.normalize("NFKD", text)
        text = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(text.replace("dj", "d").split())


def like_pattern(folded_query: str) -> str:
    """A ``LIKE ... ESCAPE '\\'`` pattern matching ``folded_query`` anywhere."""
    escaped = folded_query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


# --- Sorting ---------------------------------------------------------------------------

# The Latin alphabets of the region, merged: Bosnian, Croatian, Montenegrin and Serbian
# (č ć after c, dž đ after d, lj after l, nj after n, š after s, ž after z) and the
# Albanian letters ç and ë. Then Serbian and Macedonian Cyrillic, merged: the letters
# that differ (ђ ћ and ѓ ѕ ќ) never meet in one language, so each keeps its own order.
_LATIN_ORDER = [
    "a", "b", "c", "ç", "č", "ć", "d", "dž", "đ", "e", "ë", "f", "g", "h", "i", "j", "k", "l",
    "lj", "m", "n", "nj", "o", "p", "q", "r", "s", "ś", "š", "t", "u", "v", "w", "x", "y", "z",
    "ź", "ž",
]  # fmt: skip
_CYRILLIC_ORDER = [
    "а", "б", "в", "г", "д", "ѓ", "ђ", "е", "ж", "з", "ѕ", "и", "ј", "к", "л", "љ", "м", "н",
    "њ", "о", "п", "р", "с", "т", "ќ", "ћ", "у", "ф", "х", "ц", "ч", "џ", "ш",
]  # fmt: skip
_RANK = {letter: 100 + index for index, letter in enumerate(_LATIN_ORDER)}
_RANK.update({letter: 400 + index for index, letter in enumerate(_CYRILLIC_ORDER)})
_SORT_DIGRAPHS = frozenset(letter for letter in _RANK if len(letter) == 2)
_SPACE_RANK = 1


def _rank_other(char: str) -> int:
    """A rank for characters outside the tables: digits first, other letters after."""
    if char.isdigit():
        return 10 + int(unicodedata.digit(char, 0))
    base = unicodedata.normalize("NFKD", char)[:1]
    if base in _RANK:
        return _RANK[base]
    return 1000 + min(ord(char), 0xFFFF - 1000)


def sort_key(value: str) -> str:
    """A string whose plain byte order is the regional alphabetical order of ``value``.

    Stored beside names so that both SQLite and PostgreSQL can ``ORDER BY`` it. Letters
    compare first (a name that is a prefix of another sorts first, since "!" precedes
    every hex digit); ties break on the exact text so the order is total.
    """
    text = unicodedata.normalize("NFC", value).casefold()
    ranks: list[int] = []
    index = 0
    while index < len(text):
        pair = text[index : index + 2]
        if pair in _SORT_DIGRAPHS:
            ranks.append(_RANK[pair])
            index += 2
            continue
        char = text[index]
        if char.isspace():
            if ranks and ranks[-1] != _SPACE_RANK:
                ranks.append(_SPACE_RANK)
        elif char.isalnum():
            ranks.append(_RANK.get(char) or _rank_other(char))
        index += 1
    primary = "".join(f"{rank:04x}" for rank in ranks)
    tie_break = "".join(f"{ord(char):05x}" for char in value[:60])
    return f"{primary}!{tie_break}"


SORT_KEY_LENGTH = 4 * 200 + 1 + 5 * 60
