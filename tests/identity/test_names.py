"""Names as Spanish and English speakers write them, compared without a database."""

from __future__ import annotations

import pytest

from circulo.identity.names import Level, compare, equivalent_given, parse


def level(a: str, b: str) -> Level:
    left, right = parse(a), parse(b)
    assert left is not None and right is not None
    return compare(left, right)


@pytest.mark.parametrize(("a", "b", "expected"), [
    # The issue's own pair, and the family that shares the landline.
    ("Jordi Pujol Riera", "J. Pujol", Level.INITIALS),
    ("Montserrat Riera", "Jordi Pujol Riera", Level.GIVEN_DIFFERS),
    # Case, accents, titles, order, commas, particles, hyphens.
    ("JORDI PUJOL RIERA", "jordi pujol riera", Level.EXACT),
    ("PUJOL RIERA, JORDI", "Jordi Pujol Riera", Level.EXACT),
    ("PUJOL JORDI", "Jordi Pujol Riera", Level.COMPATIBLE),
    ("Sr. D. Antonio Ruiz", "antonio ruiz", Level.EXACT),
    ("Jordi Pujol i Soley", "Jordi Pujol Soley", Level.EXACT),
    ("García-Lorca, Federico", "Federico García Lorca", Level.EXACT),
    ("José Ángel Núñez", "Jose Angel Nunez", Level.EXACT),
    # Abbreviations and compound given names.
    ("Mª José García", "María José García López", Level.COMPATIBLE),
    ("M.ª Luisa Gil", "María Luisa Gil", Level.EXACT),
    ("Fco. Fdez.", "Francisco Fernández", Level.EXACT),
    ("Juan Carlos López", "Carlos López", Level.COMPATIBLE),
    # Nicknames and language variants (Spanish table, English from `nicknames`).
    ("Pepe García", "José García López", Level.COMPATIBLE),
    ("Chema Ruiz", "José María Ruiz", Level.COMPATIBLE),
    ("Montse Riera", "Montserrat Riera", Level.COMPATIBLE),
    ("Jordi Vidal", "Jorge Vidal", Level.COMPATIBLE),
    ("Bob Smith", "Robert Smith", Level.COMPATIBLE),
    # Two short forms of one long name are often two people: Chris and Tina (Christina).
    ("Chris Smith", "Tina Smith", Level.GIVEN_DIFFERS),
    ("Al Jones", "Fred Jones", Level.GIVEN_DIFFERS),
    # Compound given names: the second name tells two people apart.
    ("María Isabel Álvarez Núñez", "María Luisa Álvarez Núñez", Level.GIVEN_DIFFERS),
    ("Juan Carlos Ruiz", "Juan Manuel Ruiz", Level.GIVEN_DIFFERS),
    ("María Isabel Álvarez", "María Álvarez Núñez", Level.COMPATIBLE),
    ("Liz Taylor", "Elizabeth Taylor", Level.COMPATIBLE),
    # Typos, but not another name one letter away.
    ("Jrodi Pujol", "Jordi Pujol", Level.COMPATIBLE),
    ("Jordi Pujoll", "Jordi Pujol", Level.COMPATIBLE),
    ("Mario López", "María López", Level.GIVEN_DIFFERS),
    ("Daniel Ruiz", "Daniela Ruiz", Level.GIVEN_DIFFERS),
    ("Ana Martín", "Ana Martínez", Level.SURNAME_DIFFERS),
    ("Tommy Gre ne", "Tommy Green", Level.COMPATIBLE),
    ("Jamie Wardl", "Jamie Wardle", Level.COMPATIBLE),
    # Surnames: shared in part (father and son), or not at all.
    ("Jordi Pujol Soley", "Jordi Pujol Ferrusola", Level.SURNAME_PARTIAL),
    ("María Gómez", "María López", Level.SURNAME_DIFFERS),
    ("I. Pujol", "Marta Pujol", Level.INITIAL_DIFFERS),
    ("Jordi P.", "Jordi Pujol", Level.INITIALS),
    # One word: a given name or a surname, nobody knows.
    ("Jordi", "Jordi Pujol", Level.GIVEN_ONLY),
    ("Riera", "Montse Riera", Level.SILENT),
    ("Jordi", "Montse Riera", Level.SURNAME_DIFFERS),
    # Seen in the generated benchmark set (bench/identity_data.py).
    ("Ma Isabel Perez Moreno", "María Isabel Pérez", Level.COMPATIBLE),
    ("Maribel Mora", "Mª Isabel Mora Díaz", Level.COMPATIBLE),
    ("Mannu Castiñeira", "Manuel Castiñeira Rey", Level.COMPATIBLE),
    ("Juan Carlos Crz", "Juan Carlos Cruz Gómez", Level.COMPATIBLE),
    ("M. D. Fernández", "Dolores Fernandez Guerrero", Level.INITIALS),
    ("M. D. Fernández", "Josefa Fernández", Level.INITIAL_DIFFERS),
    ("Ma Yun", "Jack Ma", Level.GIVEN_DIFFERS),
    ("Ruth Morgan", "M. Armstrong", Level.INITIAL_DIFFERS),
    ("Francisca Álvarez", "Curro Álvarez García", Level.GIVEN_DIFFERS),
    ("Ana Díaz", "Ana Díez", Level.SURNAME_DIFFERS),
    # Nothing to compare.
    ("J. P.", "Jordi Pujol", Level.SILENT),
    ("Владимир Путин", "Vladimir Putin", Level.SILENT),
    ("Владимир Путин", "владимир путин", Level.EXACT),
    ("李小龙", "Bruce Lee", Level.SILENT),
])
def test_names_compare(a: str, b: str, expected: Level) -> None:
    assert level(a, b) == expected
    assert level(b, a) == expected  # symmetric


def test_surnames_written_first_never_soften_a_disagreement() -> None:
    # Read surname-first, "Riera Montse" would share a "given name" with "Riera, Jordi".
    assert level("Riera Montse", "Jordi Riera") == Level.GIVEN_DIFFERS


@pytest.mark.parametrize("raw", ["", "   ", "😀🎉", "...", "Sr.", "123 456", "unknown",
                                 "DESCONOCIDO", "N/A", "-", "Sin nombre", "xxxxxx", "AAAA"])
def test_names_without_letters_are_no_name(raw: str) -> None:
    assert parse(raw) is None


def test_emoji_and_digits_around_a_name_are_ignored() -> None:
    assert level("🌟 Jordi Pujol 🌟", "jordi pujol") == Level.EXACT


def test_structured_compound_given_names() -> None:
    isabel = parse(first="Mª Isabel", last="Álvarez Núñez")
    luisa = parse(first="Mª Luisa", last="Álvarez Núñez")
    assert isabel is not None and luisa is not None
    assert compare(isabel, luisa) == Level.GIVEN_DIFFERS
    maribel = parse("Maribel Álvarez")
    assert maribel is not None and compare(isabel, maribel) == Level.COMPATIBLE


def test_structured_names_use_the_split_they_were_given() -> None:
    first = parse(first="José María", last="Ruiz")
    assert first is not None
    other = parse("Chema Ruiz")
    assert other is not None
    assert compare(first, other) == Level.COMPATIBLE
    only_first = parse(first="Montse")
    jordi = parse(first="Jordi", last="Pujol")
    assert only_first is not None and jordi is not None
    assert compare(only_first, jordi) == Level.SURNAME_DIFFERS


def test_very_long_values_are_cut() -> None:
    name = parse("Jordi " + "Pujol " * 10_000)
    assert name is not None
    assert len(name.tokens) <= 8


def test_equivalent_given_names() -> None:
    assert equivalent_given("paco", "francisco")
    assert equivalent_given("fran", "francisca") and equivalent_given("fran", "francisco")
    assert not equivalent_given("francisco", "francisca")
    assert equivalent_given("william", "bill")
    assert not equivalent_given("jordi", "montserrat")
