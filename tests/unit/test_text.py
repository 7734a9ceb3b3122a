"""Names of four countries: transliteration, search folding and alphabetical order."""

import pytest

from lms.text import (
    clean_line,
    cyrillic_to_latin,
    find_forbidden_character,
    fold_for_search,
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
