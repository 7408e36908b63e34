"""Reading and comparing people's names, in Spanish and English. Pure.

A name arrives as one string ("Jordi Pujol Riera", "PUJOL RIERA, JORDI", "Mª José García",
"J. Pujol") or as first and last names. It is normalised (case, accents, titles, particles,
"Mª", "Fco.", "Fdez."), split into readings (which tokens are the given name and which the
surnames: a lone string is ambiguous, so every plausible split is kept), and two names are
compared reading against reading. String similarity is ``rapidfuzz``'s; equivalent given
names (Pepe and José, Jordi and Jorge, Bob and Robert) come from ``given_names_es.csv`` and
the ``nicknames`` package.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from pathlib import Path

from nicknames import NickNamer
from rapidfuzz.distance import DamerauLevenshtein

MAX_NAME_CHARS = 200  # longer values are cut: a name, not a document
MAX_TOKENS = 8

_MARIA = re.compile(r"\bm\s*\.?\s*ª\s*\.?", re.IGNORECASE)  # Mª, M.ª, M ª.
_ABBREVIATIONS = {
    "fco": "francisco", "fca": "francisca", "jm": "jose maria",
    "fdez": "fernandez", "fndez": "fernandez", "glez": "gonzalez", "gzlez": "gonzalez",
    "rguez": "rodriguez", "rdguez": "rodriguez", "rdz": "rodriguez", "hdez": "hernandez",
    "hndez": "hernandez", "mtnez": "martinez", "mtez": "martinez", "mnez": "martinez",
    "gcia": "garcia", "sanchz": "sanchez", "glz": "gonzalez",
}
_TITLES = frozenset({
    "sr", "sra", "srta", "senor", "senora", "senorita", "don", "dona", "dna", "dn",
    "mr", "mrs", "ms", "miss", "mx", "dr", "dra", "prof", "sir", "madam", "mme",
})
_PARTICLES = frozenset({
    "de", "del", "la", "las", "los", "y", "i", "e", "da", "das", "do", "dos", "van", "von",
    "der", "den", "di", "du", "le",
})
_GENDER_ENDINGS = "aoe"
# What systems write when they have no name: no evidence at all.
PLACEHOLDERS = frozenset({
    "unknown", "desconocido", "desconocida", "anonimo", "anonima", "anonymous", "n a", "na",
    "none", "null", "nil", "undefined", "test", "x", "xx", "xxx", "cliente", "customer",
    "sin nombre", "no name", "nombre", "name", "asdf", "prueba", "usuario", "user", "nn",
})


class Level(StrEnum):
    """How two names compare, best agreement first."""

    EXACT = "exact"                  # the same tokens (any order)
    COMPATIBLE = "compatible"        # same given name; surnames one within the other
    INITIALS = "initials"            # an initial that fits, surnames that fit ("J. Pujol")
    GIVEN_ONLY = "given_only"        # same given name, no surname on one side
    SILENT = "silent"                # nothing comparable (missing, initials only, scripts)
    SURNAME_PARTIAL = "surname_partial"  # same given name, surnames only partly shared
    SURNAME_DIFFERS = "surname_differs"  # same given name, no surname in common
    INITIAL_DIFFERS = "initial_differs"  # an initial that does not fit the other given name
    GIVEN_DIFFERS = "given_differs"  # different given names: two people


@dataclass(frozen=True, slots=True)
class Reading:
    given: str  # "jordi", "jose maria", "j", or "" when only surnames are known
    surnames: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Name:
    tokens: tuple[str, ...]
    readings: tuple[Reading, ...]  # given name first: how people write their names
    reversed: tuple[Reading, ...]  # surnames first ("PUJOL RIERA JORDI"): may only agree
    latin: bool
    given: tuple[str, ...] = ()  # the given names when known: ("maria", "isabel")

    @property
    def usable(self) -> bool:
        """At least one token longer than an initial."""
        return any(len(t) > 1 for t in self.tokens)


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def _is_latin(text: str) -> bool:
    return all(ord(c) < 0x250 for c in text if c.isalpha())


def tokens(raw: str) -> list[str]:
    """Normalised words of a name: folded case and accents, no titles or particles."""
    text = _MARIA.sub(" maria ", raw[:MAX_NAME_CHARS])
    text = _fold(text).replace("'", "").replace("’", "")
    cleaned = "".join(c if c.isalpha() else " " for c in text)
    out: list[str] = []
    for token in cleaned.split():
        if token in _TITLES or (len(token) > 2 and len(set(token)) == 1):  # "xxxx", "aaa"
            continue
        out.extend(_ABBREVIATIONS.get(token, token).split())
    # Particles are dropped except in first place, where "I." or "E." is an initial.
    words = [t for i, t in enumerate(out) if i == 0 or t not in _PARTICLES][:MAX_TOKENS]
    if " ".join(words) in PLACEHOLDERS:
        return []
    if len(words) >= 3 and words[0] == "ma":  # "Ma Isabel Pérez": Mª without its ª
        words[0] = "maria"
    return words


def _split_readings(tokens: list[str]) -> tuple[tuple[Reading, ...], tuple[Reading, ...]]:
    natural = [Reading(tokens[0], tuple(tokens[1:]))]
    flipped: list[Reading] = []
    if len(tokens) >= 2:
        natural.append(Reading(" ".join(tokens[:2]), tuple(tokens[2:])))
        flipped.append(Reading(tokens[-1], tuple(tokens[:-1])))
    if len(tokens) >= 3:
        flipped.append(Reading(" ".join(tokens[-2:]), tuple(tokens[:-2])))
    return tuple(natural), tuple(flipped)


def parse(full: str | None = None, first: str | None = None, last: str | None = None
          ) -> Name | None:
    """A name from a full string, or from first and last names (preferred when given)."""
    raw_parts = [p for p in (first, last, full) if isinstance(p, str)]
    latin = all(_is_latin(p) for p in raw_parts)
    if isinstance(first, str) or isinstance(last, str):
        given = tokens(first) if isinstance(first, str) else []
        family = tokens(last) if isinstance(last, str) else []
        if not given and not family:
            return None
        readings = [Reading(given[0] if given else "", tuple(family))]
        if len(given) >= 2:
            readings.append(Reading(" ".join(given), tuple(family)))
        return Name(tuple(given + family), tuple(readings), (), latin, tuple(given))
    if not isinstance(full, str):
        return None
    if "," in full:  # "Pujol Riera, Jordi": surnames, then the given name
        family_part, _, given_part = full.partition(",")
        return parse(first=given_part, last=family_part)
    words = tokens(full)
    if not words:
        return None
    natural, flipped = _split_readings(words)
    # "María Isabel Álvarez": a second word that is a given name is part of the given name.
    first_names = words[:2] if len(words) >= 3 and is_given_name(words[1]) else words[:1]
    return Name(tuple(words), natural, flipped, latin, tuple(first_names))


@lru_cache(maxsize=1)
def _spanish_groups() -> dict[str, frozenset[int]]:
    """Each name's groups (a line of the table is a group)."""
    path = Path(__file__).with_name("given_names_es.csv")
    groups: dict[str, set[int]] = {}
    with path.open(encoding="utf-8") as handle:
        rows = [r for r in csv.reader(handle) if r and not r[0].startswith("#")]
    for number, row in enumerate(rows):
        for name in row:
            groups.setdefault(" ".join(tokens(name)), set()).add(number)
    return {k: frozenset(v) for k, v in groups.items()}


@lru_cache(maxsize=1)
def _nick_namer() -> NickNamer:
    return NickNamer()


@lru_cache(maxsize=20_000)
def _english_forms(name: str) -> frozenset[str]:
    namer = _nick_namer()
    return frozenset(namer.nicknames_of(name) | namer.canonicals_of(name))


def given_groups(name: str) -> tuple[str, ...]:
    """The Spanish groups of a given name, as keys ("#12"): two names are variants of one
    another when their groups meet (a set form of ``equivalent_given``, for SQL)."""
    return tuple(f"#{n}" for n in sorted(_spanish_groups().get(name, ())))


def english_forms(name: str) -> tuple[str, ...]:
    """English nicknames and formal names of a given name (Bob: robert, bobby...)."""
    return tuple(sorted(_english_forms(name))) if " " not in name else ()


def equivalent_given(a: str, b: str) -> bool:
    """Same given name: equal, a known variant (Pepe/José, Jordi/Jorge, Bob/Robert)."""
    if a == b:
        return True
    groups = _spanish_groups()
    if groups.get(a, frozenset()) & groups.get(b, frozenset()):
        return True
    if " " in a or " " in b:
        return False
    # Only a name and its own forms: two short forms that share a long one are often two
    # people (Chris and Tina: Christina; Al and Fred: Alfred).
    return b in _english_forms(a) or a in _english_forms(b)


def is_given_name(word: str) -> bool:
    """A given name we know (the Spanish table, the English nicknames data)."""
    return len(word) > 1 and (word in _spanish_groups() or bool(_english_forms(word)))



def _gender_pair(a: str, b: str) -> bool:
    """Mario/María, Daniel/Daniela, Julio/Julia: one letter apart, and two people."""
    return a.rstrip(_GENDER_ENDINGS) == b.rstrip(_GENDER_ENDINGS)


def _typo(a: str, b: str, *, given: bool = True) -> bool:
    """One slip of the keyboard (two in long words). In words under five letters one
    letter changed is usually another name (Juan, Joan; Díaz, Díez), so only two letters
    swapped (Eirc) or one dropped (Flix, Crz) count there. Given names one vowel apart at
    the end are the other sex's (Mario, María), wherever they stand; surnames are not (Wardl,
    Wardle)."""
    shortest = min(len(a), len(b))
    if shortest < 3 or (_gender_pair(a, b) and (given or (
            is_given_name(a) or is_given_name(b)))):
        return False
    if shortest < 5:
        return _swapped(a, b) or _dropped(a, b)
    allowed = 2 if shortest >= 8 else 1
    return DamerauLevenshtein.distance(a, b, score_cutoff=allowed) <= allowed


def _swapped(a: str, b: str) -> bool:
    if len(a) != len(b):
        return False
    diff = [i for i in range(len(a)) if a[i] != b[i]]
    return len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] \
        and a[diff[1]] == b[diff[0]]


def _dropped(a: str, b: str) -> bool:
    short, long = sorted((a, b), key=len)
    return len(long) == len(short) + 1 and any(
        long[:i] + long[i + 1:] == short for i in range(len(long)))


@lru_cache(maxsize=1)
def _members() -> dict[int, frozenset[str]]:
    """Each Spanish group's names."""
    members: dict[int, set[str]] = {}
    for name, numbers in _spanish_groups().items():
        for number in numbers:
            members.setdefault(number, set()).add(name)
    return {n: frozenset(v) for n, v in members.items()}


@lru_cache(maxsize=20_000)
def _variants(name: str) -> frozenset[str]:
    """A given name's known equivalents (Manuel: manolo, manu...)."""
    members = _members()
    found = {n for number in _spanish_groups().get(name, ()) for n in members[number]}
    return frozenset(found | set(_english_forms(name)) if " " not in name else found)


def _initials_only(name: str) -> bool:
    return all(len(part) == 1 for part in name.split(" "))


@lru_cache(maxsize=100_000)
def _given(a: str, b: str) -> str:
    if not a or not b:
        return "silent"
    if _initials_only(a) or _initials_only(b):
        # "M. D." fits María Dolores (in order), and Dolores alone (she goes by her second
        # name); "M." does not fit a compound "Ruth Morgan" read as one given name.
        initials, other = (a, b) if _initials_only(a) else (b, a)
        letters, words = initials.split(" "), other.split(" ")
        fits = words[0][0] in letters if len(words) == 1 else letters[0] == words[0][0]
        return "initial" if fits else "initial_differs"
    if equivalent_given(a, b):
        return "same"
    if (" " not in a and " " not in b and _typo(a, b)) or (
        " " not in a and any(_slip(a, v) for v in _variants(b))) or (
            " " not in b and any(_slip(b, v) for v in _variants(a))
    ):  # Jrodi for Jordi; Mannu for Manu (Manuel); Chemma for Chema (José María)
        return "same"
    return "differs"


def _slip(word: str, variant: str) -> bool:
    """One letter off a known variant of the other name (Mannu for Manu), never a variant
    of the other sex (Francisca is not a slip of Francisco's Catalan Francesc)."""
    if " " in variant or min(len(word), len(variant)) < 4 or _gender_pair(word, variant):
        return False
    return DamerauLevenshtein.distance(word, variant, score_cutoff=1) <= 1


def _same_surname(a: str, b: str) -> bool:
    if a == b:
        return True
    if len(a) == 1 or len(b) == 1:
        return a[0] == b[0]
    if (a.startswith(b) or b.startswith(a)) and abs(len(a) - len(b)) > 1:
        return False  # Martín / Martínez: two surnames (Wardl for Wardle is a slip)
    return _typo(a, b, given=False)


def _surnames(a: tuple[str, ...], b: tuple[str, ...]) -> str:
    if not a or not b:
        return "silent"
    joined_a, joined_b = "".join(a), "".join(b)
    if len(a) != len(b) and (joined_a == joined_b or _typo(joined_a, joined_b, given=False)):
        return "agree"  # a space typed in the middle: "Gre ne" for Green
    small, large = (a, b) if len(a) <= len(b) else (b, a)
    found = [s for s in small if any(_same_surname(s, o) for o in large)]
    if len(found) == len(small):
        # "Jordi P." fits "Jordi Pujol", but an initial is weaker than a written surname.
        written = all(any(len(s) > 1 for s in side) for side in (a, b))
        return "agree" if written else "initial"
    return "partial" if found else "differs"


_BY_GIVEN = {
    ("same", "agree"): Level.COMPATIBLE, ("same", "silent"): Level.GIVEN_ONLY,
    ("same", "partial"): Level.SURNAME_PARTIAL, ("same", "differs"): Level.SURNAME_DIFFERS,
    ("initial", "agree"): Level.INITIALS, ("initial", "silent"): Level.SILENT,
    ("initial", "partial"): Level.SURNAME_PARTIAL, ("initial", "differs"): Level.SURNAME_DIFFERS,
    ("same", "initial"): Level.INITIALS, ("initial", "initial"): Level.SILENT,
    ("silent", "initial"): Level.SILENT,
    ("silent", "agree"): Level.SILENT, ("silent", "silent"): Level.SILENT,
    ("silent", "partial"): Level.SILENT, ("silent", "differs"): Level.SURNAME_DIFFERS,
}
ORDER = list(Level)


def _dropped_second(a: Reading, b: Reading) -> bool:
    """María Álvarez for María Isabel Álvarez: a second given name left out (both readings
    have surnames, so the second word is not one)."""
    if not a.surnames or not b.surnames:
        return False
    for compound, single in ((a.given, b.given), (b.given, a.given)):
        words = compound.split(" ")
        if len(words) == 2 and words[0] == single and is_given_name(words[1]):
            return True
    return False


def _reading_level(a: Reading, b: Reading) -> Level:
    given = _given(a.given, b.given)
    if given == "differs" and _dropped_second(a, b):
        given = "same"
    if given == "differs":
        return Level.GIVEN_DIFFERS
    if given == "initial_differs":
        return Level.INITIAL_DIFFERS
    return _BY_GIVEN[(given, _surnames(a.surnames, b.surnames))]


def _best(levels: list[Level]) -> Level:
    return min(levels, key=ORDER.index)


def _lone(lone: Name, other: Name) -> Level:
    """One word ("Jordi", or "Riera" from "Sra. Riera"): a given name or a surname, nobody
    knows which. Found in the other name it says little; absent, it weakly disagrees."""
    word = lone.tokens[0]
    if other.readings and _given(word, other.readings[0].given) == "same":
        return Level.GIVEN_ONLY
    if any(_same_surname(word, t) or equivalent_given(word, t) for t in other.tokens):
        return Level.SILENT
    return Level.SURNAME_DIFFERS


@lru_cache(maxsize=100_000)
def compare(a: Name, b: Name) -> Level:
    """How two names compare. Silence when either is unusable or they are written in
    different scripts (a transliteration would be a guess)."""
    if not a.usable or not b.usable or a.latin != b.latin:
        return Level.SILENT
    full_a = {t for t in a.tokens if len(t) > 1}
    full_b = {t for t in b.tokens if len(t) > 1}
    if len(full_a) >= 2 and full_a == full_b:
        return Level.EXACT
    if len(a.tokens) == 1 or len(b.tokens) == 1:
        return _lone(a, b) if len(a.tokens) == 1 else _lone(b, a)
    if (len(a.given) >= 2 and len(b.given) >= 2 and _given(a.given[0], b.given[0]) == "same"
            and _given(a.given[1], b.given[1]) == "differs"
            and not equivalent_given(" ".join(a.given), " ".join(b.given))):
        return Level.GIVEN_DIFFERS  # María Isabel and María Luisa; Juan Carlos, Juan Manuel
    best = _best([_reading_level(x, y) for x in a.readings for y in b.readings])
    # Surnames written first can only show agreement: a reordering never turns one
    # disagreement into a milder one ("Riera Montse" must not half-match "Jordi Riera").
    if a.reversed or b.reversed:
        flipped = _best([
            _reading_level(x, y)
            for x in (*a.readings, *a.reversed) for y in (*b.readings, *b.reversed)
        ])
        if ORDER.index(flipped) <= ORDER.index(Level.INITIALS):
            best = _best([best, flipped])
    return best
