"""Names of four countries: transliteration, search folding and alphabetical order."""

import pytest

from lms.text import (
    clean_line,
    cyrillic_to_latin,
    find_forbidden_character,
    fold_for_search,
    invisible_characters,
    latin_to_cyrillic,
    sort_key,
)


@pytest.mark.parametrize(
    ("cyrillic", "latin", "language"),
    [
        ("Ђорђе Јовановић", "Đorđe Jovanović", "sr"),
        ("Љубица Стојановић", "Ljubica Stojanović", "sr"),
        ("Џаковић Његош", "Džaković Njegoš", "sr"),
        ("ЉУБИЦА", "LJUBICA", "sr"),
        ("Ѓорѓи Ќосевски", "Gjorgji Kjosevski", "mk"),
        ("Ѕвонко", "Dzvonko", "mk"),
    ],
)
def test_cyrillic_to_latin(cyrillic: str, latin: str, language: str) -> None:
    assert cyrillic_to_latin(cyrillic, language) == latin


@pytest.mark.parametrize(
    ("latin", "cyrillic", "language"),
    [
        ("Đorđe Jovanović", "Ђорђе Јовановић", "sr"),
        ("Ljiljana Đukanović", "Љиљана Ђукановић", "sr"),
        ("Džaković Njegoš", "Џаковић Његош", "sr"),
        ("LJUBICA", "ЉУБИЦА", "sr"),
        ("Ljubica Stojanovska", "Љубица Стојановска", "mk"),
        ("Gjorgji Kjosevski", "Ѓорѓи Ќосевски", "mk"),
    ],
)
def test_latin_to_cyrillic(latin: str, cyrillic: str, language: str) -> None:
    assert latin_to_cyrillic(latin, language) == cyrillic


def test_search_folding_ignores_case_diacritics_and_script() -> None:
    folded = {fold_for_search(name) for name in ["Đukanović", "DJUKANOVIC", "dukanovic", "Ђукановић"]}
    assert folded == {"dukanovic"}
    assert fold_for_search("Arbër  Çela") == "arber cela"


def test_sort_follows_the_regional_alphabets() -> None:
    names = [
        "Žarko",
        "Zorić",
        "Šarić",
        "Sava",
        "Ljubić",
        "Lukić",
        "Đukić",
        "Džajić",
        "Dukić",
        "Ćosić",
        "Čolić",
        "Cvijić",
    ]
    expected = [
        "Cvijić",
        "Čolić",
        "Ćosić",
        "Dukić",
        "Džajić",
        "Đukić",
        "Lukić",
        "Ljubić",
        "Sava",
        "Šarić",
        "Zorić",
        "Žarko",
    ]
    assert sorted(names, key=sort_key) == expected


def test_sort_cyrillic_in_its_own_order_and_prefixes_first() -> None:
    names = ["Ћирић", "Цвијић", "Чолић", "Ђукић", "Дукић", "Ана Марија", "Ана"]
    assert sorted(names, key=sort_key) == ["Ана", "Ана Марија", "Дукић", "Ђукић", "Ћирић", "Цвијић", "Чолић"]


def test_sort_is_case_insensitive_and_total() -> None:
    assert sorted(["ana", "Ana", "ANA"], key=sort_key) == sorted(["ANA", "Ana", "ana"], key=sort_key)
    assert sort_key("ana") != sort_key("Ana")


@pytest.mark.parametrize("bad", ["a\x00b", "tab\there", "\u202eevil", "bell\x07"])
def test_forbidden_characters_in_one_line(bad: str) -> None:
    assert find_forbidden_character(bad) is not None


def test_newlines_allowed_only_in_multiline_text() -> None:
    assert find_forbidden_character("two\nlines") == "\n"
    assert find_forbidden_character("two\nlines", multiline=True) is None
    assert find_forbidden_character("Љубица Ђорђевић, Arbër Çela") is None


def test_clean_line_normalises_to_nfc_and_collapses_spaces() -> None:
    decomposed = "C\u030colic\u0301"  # Č and ć as base letter + combining mark
    assert clean_line(f"  {decomposed}   x ") == "Čolić x"


@pytest.mark.parametrize(
    "char",
    [
        "\u200b",  # zero-width space
        "\u200c",  # zero-width non-joiner
        "\u200d",  # zero-width joiner
        "\u2060",  # word joiner
        "\ufeff",  # zero-width no-break space (BOM)
        "\u180e",  # Mongolian vowel separator
        "\u200e",  # left-to-right mark
        "\u200f",  # right-to-left mark
        "\u202a",  # left-to-right embedding
        "\u202b",
        "\u202c",
        "\u202d",
        "\u202e",  # right-to-left override
        "\u2066",  # left-to-right isolate
        "\u2067",
        "\u2068",
        "\u2069",  # pop directional isolate
        "\u061c",  # Arabic letter mark
        "\u00ad",  # soft hyphen
        "\u2063",  # invisible separator (another format character)
        "\U000e0041",  # tag letter
        "\x00",
        "\x1b",
        "\x7f",
        "\x85",  # control characters
        "\u034f",  # combining grapheme joiner
        "\u3164",  # Hangul filler
        "\ufe0f",  # variation selector
    ],
)
def test_invisible_characters_are_found_anywhere_in_a_name(char: str) -> None:
    for name in (f"Ana{char}Petrović", f"{char}Ana Petrović", f"Ana Petrović{char}"):
        assert invisible_characters(name) == [char]


@pytest.mark.parametrize(
    "name",
    [
        "Đorđe Šćekić",
        "Čedomir Žižić",
        "Ђорђе Јовановић",
        "Љубица Џајић Њешковић",
        "Ѓорѓи Ќосев",
        "Ѕвонко Јанев",
        "Arbër Çela",
        "Ana-Marija O'Brien",
        "C\u030cedomir Z\u030ciz\u030cic\u0301",  # letters as base + combining mark (NFD)
    ],
)
def test_names_of_the_region_have_no_invisible_characters(name: str) -> None:
    assert invisible_characters(name) == []


def test_each_invisible_character_is_listed_once_in_order() -> None:
    assert invisible_characters("\u202eAna\u200b\u200bPetro\u202ević\u00ad") == ["\u202e", "\u200b", "\u00ad"]
