"""Evidence for and against two descriptions being one person. Pure.

Identifiers say who *might* be speaking; traits say whether it *can* be them. Before the
resolver attaches an event to a profile, or merges two profiles, it compares what both sides
say: names, date of birth, postal code, national id numbers, and whether the same source
already gave the profile a different e-mail or mobile. Each comparison adds a weight in the
spirit of Fellegi-Sunter match weights (roughly log2 of how much likelier the observation is
for one person than for two people who share a phone or an address); silence adds nothing.
The resolver declines a link whose evidence is at or below ``decline_at`` (ADR 0013).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from functools import lru_cache
from typing import Any

import phonenumbers
from rapidfuzz.distance import DamerauLevenshtein
from stdnum.es import dni, nie

from circulo.identity import names
from circulo.identity.names import Level as NameLevel

# Traits read as evidence; the values are checked and bounded where they are compared.
NAME_TRAITS = ("name", "first_name", "last_name", "preferred_name")
MAX_NAMES = 6  # name variants kept per side within a batch

NAME_WEIGHTS: dict[NameLevel, float] = {
    NameLevel.EXACT: 4.0,
    NameLevel.COMPATIBLE: 2.0,
    NameLevel.INITIALS: 1.0,
    NameLevel.GIVEN_ONLY: 1.0,
    NameLevel.SILENT: 0.0,
    NameLevel.SURNAME_PARTIAL: -2.0,
    NameLevel.SURNAME_DIFFERS: -4.0,
    NameLevel.INITIAL_DIFFERS: -4.0,
    NameLevel.GIVEN_DIFFERS: -8.0,
}


LANDLINE_ONLY = -1.0  # a link through a landline alone: households and offices share them
POSTAL_AGREES = 1.0
THROUGH_AT_MOST = POSTAL_AGREES - LANDLINE_ONLY  # how much ``through`` can lower a score


class Level(StrEnum):
    AGREE = "agree"
    NEAR = "near"  # a likely typo: one digit, or day and month swapped
    DIFFERS = "differs"


WEIGHTS: dict[str, dict[Level, float]] = {
    "birthday": {Level.AGREE: 3.0, Level.NEAR: 0.0, Level.DIFFERS: -6.0},
    "postal_code": {Level.AGREE: POSTAL_AGREES, Level.DIFFERS: -1.0},
    "national_id": {Level.AGREE: 8.0, Level.DIFFERS: -10.0},
    "social_security": {Level.AGREE: 6.0, Level.NEAR: 0.0, Level.DIFFERS: -8.0},
    # The same system already gave this person another e-mail (or mobile): people do change
    # them, so alone this never declines; with a name that disagrees, it does.
    "email": {Level.DIFFERS: -3.0},
    "mobile": {Level.DIFFERS: -3.0},
}


@dataclass(frozen=True, slots=True)
class Sourced:
    value: str
    source: str


@dataclass(frozen=True, slots=True)
class NameVariant:
    """A name as one source wrote it: a full string, or first and last names."""

    full: str | None
    first: str | None
    last: str | None
    source: str

    @property
    def display(self) -> str:
        if self.first or self.last:
            return " ".join(p for p in (self.first, self.last) if p)
        return self.full or ""


@dataclass(slots=True)
class Facts:
    """What one side (an event, or a profile) says about who the person is."""

    names: list[NameVariant] = field(default_factory=list)
    birthday: Sourced | None = None
    postal_code: Sourced | None = None
    national_id: Sourced | None = None
    social_security: Sourced | None = None
    emails: dict[str, set[str]] = field(default_factory=dict)  # source -> addresses
    phones: dict[str, set[str]] = field(default_factory=dict)  # source -> E.164 numbers

    def has_traits(self) -> bool:
        return bool(self.names or self.birthday or self.postal_code or self.national_id
                    or self.social_security)

    def add_contact(self, kind: str, value: str, source: str) -> None:
        target = self.emails if kind == "email" else self.phones
        target.setdefault(source, set()).add(value)

    def add_contacts(self, contacts: Iterable[tuple[str, str, str]]) -> None:
        """Contacts as (source, kind, value)."""
        for source, kind, value in contacts:
            self.add_contact(kind, value, source)

    def absorb(self, other: Facts) -> None:
        """Add what ``other`` says (a new event, a merged profile); own values come first."""
        for name in other.names:
            if name not in self.names and len(self.names) < MAX_NAMES:
                self.names.append(name)
        self.birthday = self.birthday or other.birthday
        self.postal_code = self.postal_code or other.postal_code
        self.national_id = self.national_id or other.national_id
        self.social_security = self.social_security or other.social_security
        for source, values in other.emails.items():
            self.emails.setdefault(source, set()).update(values)
        for source, values in other.phones.items():
            self.phones.setdefault(source, set()).update(values)


@dataclass(frozen=True, slots=True)
class FieldEvidence:
    field: str
    level: str
    weight: float
    left: str | None
    left_source: str | None
    right: str | None
    right_source: str | None

    def as_dict(self) -> dict[str, Any]:
        return {"field": self.field, "level": self.level, "weight": self.weight,
                "left": {"value": self.left, "source": self.left_source},
                "right": {"value": self.right, "source": self.right_source}}


@dataclass(frozen=True, slots=True)
class Evidence:
    score: float
    fields: tuple[FieldEvidence, ...]

    def declines(self, decline_at: float) -> bool:
        return self.score <= decline_at


NO_EVIDENCE = Evidence(0.0, ())


def text_value(value: Any, limit: int = names.MAX_NAME_CHARS) -> str | None:
    """A trait as text (numbers too, nothing else), trimmed and bounded; None if empty."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        return None
    value = value.strip()[:limit]
    return value or None


def facts_from_traits(traits: Mapping[str, Any], source_of: Mapping[str, str] | str
                      ) -> Facts:
    """The evidence in a set of traits; ``source_of`` is one source for all, or per trait."""

    def source(trait: str) -> str:
        return source_of if isinstance(source_of, str) else source_of.get(trait, "")

    facts = Facts()
    first, last, full = (text_value(traits.get(k)) for k in ("first_name", "last_name", "name"))
    if first or last:
        facts.names.append(NameVariant(None, first, last,
                                       source("first_name" if first else "last_name")))
    if full:
        facts.names.append(NameVariant(full, None, None, source("name")))
    preferred = text_value(traits.get("preferred_name"))
    if preferred:
        facts.names.append(NameVariant(preferred, None, None, source("preferred_name")))
    for trait in ("birthday", "postal_code", "national_id", "social_security"):
        value = text_value(traits.get(trait), 40)
        if value:
            setattr(facts, trait, Sourced(value, source(trait)))
    return facts


def profile_facts(traits: Mapping[str, Any], meta: Mapping[str, Any],
                  contacts: Iterable[tuple[str, str, str]]) -> Facts:
    """What a stored profile says: its traits, each from the source the provenance names,
    and the e-mails and phones each source stated."""
    sources = {k: str(v.get("source", "")) for k, v in meta.items() if isinstance(v, dict)}
    facts = facts_from_traits(traits, sources)
    facts.add_contacts(contacts)
    return facts


def _parsed(variant: NameVariant) -> names.Name | None:
    return _parse(variant.full, variant.first, variant.last)


@lru_cache(maxsize=50_000)
def _parse(full: str | None, first: str | None, last: str | None) -> names.Name | None:
    if first or last:
        return names.parse(first=first, last=last)
    return names.parse(full)


def _names(left: list[NameVariant], right: list[NameVariant]) -> FieldEvidence | None:
    best: tuple[float, NameVariant, NameVariant, NameLevel] | None = None
    for a in left:
        parsed_a = _parsed(a)
        if parsed_a is None:
            continue
        for b in right:
            parsed_b = _parsed(b)
            if parsed_b is None:
                continue
            level = names.compare(parsed_a, parsed_b)
            weight = NAME_WEIGHTS[level]
            if best is None or weight > best[0]:
                best = (weight, a, b, level)
    if best is None or best[3] == NameLevel.SILENT:
        return None
    weight, a, b, level = best
    return FieldEvidence("name", level.value, weight, a.display, a.source, b.display,
                         b.source)


_DATE_PATTERNS = (
    (re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ].*)?$"), (1, 2, 3)),
    (re.compile(r"^(\d{4})(\d{2})(\d{2})$"), (1, 2, 3)),
    (re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$"), (1, 2, 3)),
    (re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})$"), (3, 2, 1)),
)


@lru_cache(maxsize=20_000)
def parse_date(raw: str) -> date | None:
    """ISO dates, YYYYMMDD, and day-first dates as written in Spain (15/03/1980); a US
    month-first date is read as such only when the day-first reading is impossible."""
    for pattern, (y, m, d) in _DATE_PATTERNS:
        match = pattern.match(raw.strip())
        if not match:
            continue
        year, month, day = int(match.group(y)), int(match.group(m)), int(match.group(d))
        if month > 12 and day <= 12 and (y, m, d) == (3, 2, 1):
            month, day = day, month
        try:
            return date(year, month, day)
        except ValueError:
            return None
    return None


def _dates(a: Sourced, b: Sourced) -> Level | None:
    da, db = parse_date(a.value), parse_date(b.value)
    if da is None or db is None:
        return None
    if da == db:
        return Level.AGREE
    swapped = da.day <= 12 and (da.year, da.day, da.month) == (db.year, db.month, db.day)
    if swapped or DamerauLevenshtein.distance(da.strftime("%Y%m%d"),
                                              db.strftime("%Y%m%d")) == 1:
        return Level.NEAR
    return Level.DIFFERS


_ALNUM = re.compile(r"[^0-9A-Za-z]")


def compact(value: str) -> str:
    """Letters and digits only, upper case: 12.345.678-z is 12345678Z, b15 5bq is B155BQ."""
    return _ALNUM.sub("", value).upper()


def _national_ids(a: Sourced, b: Sourced) -> Level | None:
    ca, cb = compact(a.value), compact(b.value)
    if not ca or not cb:
        return None
    if ca == cb:
        return Level.AGREE

    def valid(v: str) -> bool:
        return bool(dni.is_valid(v) or nie.is_valid(v))

    # Two valid numbers are two people; an invalid one is more likely a typo than a person.
    return Level.DIFFERS if valid(ca) and valid(cb) else None


def _social_security(a: Sourced, b: Sourced) -> Level | None:
    ca, cb = re.sub(r"\D", "", a.value), re.sub(r"\D", "", b.value)
    if len(ca) < 6 or len(cb) < 6:
        return None
    if ca == cb:
        return Level.AGREE
    # One digit typed wrong, or two swapped: a slip, not another person.
    return Level.NEAR if DamerauLevenshtein.distance(ca, cb) <= 1 else Level.DIFFERS


def _postal(a: Sourced, b: Sourced) -> Level | None:
    ca, cb = compact(a.value), compact(b.value)
    if not ca or not cb:
        return None
    return Level.AGREE if ca == cb else Level.DIFFERS


_PERSONAL = frozenset({phonenumbers.PhoneNumberType.MOBILE,
                       # North America: a mobile cannot be told from a landline
                       phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE})


@lru_cache(maxsize=200_000)
def is_mobile(e164: str) -> bool:
    """A number one person carries (a mobile, or one that may be: North America)."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.number_type(number) in _PERSONAL


def _other_contact(kind: str, left: dict[str, set[str]], right: dict[str, set[str]],
                   keep: Any) -> FieldEvidence | None:
    """The same source gave each side a value the other lacks: another contact, or the
    same person's new address (values they share, a family landline say, do not count)."""
    for source, values in left.items():
        theirs = right.get(source)
        if not theirs or values == theirs:
            continue
        # Only what differs is looked at (telling a mobile from a landline costs a parse).
        mine_only = {v for v in values - theirs if keep(v)}
        theirs_only = {v for v in theirs - values if keep(v)} if mine_only else set()
        if mine_only and theirs_only:
            return FieldEvidence(kind, Level.DIFFERS.value, WEIGHTS[kind][Level.DIFFERS],
                                 min(mine_only), source, min(theirs_only), source)
    return None


def through(weighed: Evidence, links: Iterable[tuple[str, str]]) -> Evidence:
    """The evidence of a link made only through landlines, that households and offices
    share: a little against it (``LANDLINE_ONLY``), shown with the rest; and a postal code
    in common says nothing then (a household shares both)."""
    links = list(links)
    if not links or any(kind != "phone" or is_mobile(value) for kind, value in links):
        return weighed
    value = min(v for _, v in links)
    fields = [FieldEvidence(f.field, "agree_household", 0.0, f.left, f.left_source, f.right,
                            f.right_source)
              if f.field == "postal_code" and f.weight > 0 else f for f in weighed.fields]
    fields.append(FieldEvidence("link", "landline_only", LANDLINE_ONLY, value, None, value,
                                None))
    return Evidence(sum(f.weight for f in fields), tuple(fields))


def _always(_: str) -> bool:
    return True


def compare(left: Facts, right: Facts) -> Evidence:
    """The evidence that ``left`` and ``right`` describe one person (pure)."""
    found: list[FieldEvidence] = []
    if left.has_traits() and right.has_traits():
        if left.names and right.names:
            name = _names(left.names, right.names)
            if name is not None:
                found.append(name)
        checks = (("birthday", _dates), ("national_id", _national_ids),
                  ("social_security", _social_security), ("postal_code", _postal))
        for trait, check in checks:
            a, b = getattr(left, trait), getattr(right, trait)
            if a is None or b is None:
                continue
            level = check(a, b)
            if level is not None:
                found.append(FieldEvidence(trait, level.value, WEIGHTS[trait][level],
                                           a.value, a.source, b.value, b.source))
    if left.emails and right.emails:
        email = _other_contact("email", left.emails, right.emails, _always)
        if email is not None:
            found.append(email)
    if left.phones and right.phones:
        mobile = _other_contact("mobile", left.phones, right.phones, is_mobile)
        if mobile is not None:
            found.append(mobile)
    if not found:
        return NO_EVIDENCE
    return Evidence(sum(f.weight for f in found), tuple(found))
