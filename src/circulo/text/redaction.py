"""PII redaction before text is stored for analysis (issue 17, scope 1): payment card
numbers (only those passing the Luhn check), IBANs (ISO 13616 mod-97), Spanish DNI and NIE
(their check letter), e-mail addresses and phone numbers.

Pure: no database, no network. The checks come from well-kept libraries rather than our own
regular expressions: ``python-stdnum`` validates cards, IBANs, DNI and NIE, and Google's
``phonenumbers`` finds phone numbers in running text (``PhoneNumberMatcher``, which only
accepts numbers valid for their country, so an order number or an amount is not a phone).
Our patterns only *propose* candidates; a candidate failing its check is left as written —
``pedido 4111 1111 1111 1112`` keeps its number, ``tarjeta 4111 1111 1111 1111`` does not.

Spans never overlap: the kinds are tried in order (e-mail, IBAN, card, DNI/NIE, phone) and
a later candidate touching an earlier span is dropped. The patterns are linear (no nested
repetition), and the input is bounded by ``LIMIT`` characters, so a hostile 100 KB e-mail
costs milliseconds, not a regex explosion.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import phonenumbers
from stdnum import iban, luhn
from stdnum.es import dni, nie

LIMIT = 200_000  # characters read; anything beyond is dropped, not analysed
KINDS = ("email", "iban", "card", "dni", "nie", "phone")
MASKS = {"email": "[EMAIL]", "iban": "[IBAN]", "card": "[CARD]", "dni": "[DNI]",
         "nie": "[NIE]", "phone": "[PHONE]"}

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){1,8}")
# two letters, two check digits, then 11-30 letters or digits in groups of up to 4
_IBAN = re.compile(r"\b[A-Z]{2}[0-9]{2}(?:[ ]?[A-Z0-9]{1,4}){3,8}\b", re.IGNORECASE)
# 13-19 digits, optionally in groups split by one space or dash
_CARD = re.compile(r"(?<![0-9])[0-9](?:[ -]?[0-9]){12,18}(?![0-9])")
_DNI = re.compile(r"(?<![0-9A-Za-z])[0-9]{8}[ -]?[A-Za-z](?![0-9A-Za-z])")
_NIE = re.compile(r"(?<![0-9A-Za-z])[XYZxyz][ -]?[0-9]{7}[ -]?[A-Za-z](?![0-9A-Za-z])")


@dataclass(frozen=True, slots=True)
class Finding:
    kind: str  # one of KINDS
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Redacted:
    text: str  # the text with each finding replaced by its mask, e.g. "[CARD]"
    findings: tuple[Finding, ...]  # where they were in the input, in order

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(sorted({f.kind for f in self.findings}))


def _compact(value: str) -> str:
    return re.sub(r"[ -]", "", value)


def _iban_end(candidate: str) -> int:
    """How much of a candidate is a valid IBAN: the pattern may have swallowed a following
    short word ("… 1332 para"), so shorter prefixes, group by group, are tried too."""
    ends = [m.end() for m in re.finditer(r"[A-Za-z0-9]+", candidate)]
    for end in reversed(ends):
        if iban.is_valid(_compact(candidate[:end]).upper()):
            return end
    return 0


def _candidates(text: str, region: str) -> Iterator[Finding]:
    for match in _EMAIL.finditer(text):
        yield Finding("email", match.start(), match.end())
    for match in _IBAN.finditer(text):
        end = _iban_end(match.group())
        if end:
            yield Finding("iban", match.start(), match.start() + end)
    for match in _CARD.finditer(text):
        if luhn.is_valid(_compact(match.group())):
            yield Finding("card", match.start(), match.end())
    for match in _DNI.finditer(text):
        if dni.is_valid(_compact(match.group()).upper()):
            yield Finding("dni", match.start(), match.end())
    for match in _NIE.finditer(text):
        if nie.is_valid(_compact(match.group()).upper()):
            yield Finding("nie", match.start(), match.end())
    for found in phonenumbers.PhoneNumberMatcher(text, region):
        yield Finding("phone", found.start, found.end)


def redact(text: str, *, region: str = "ES") -> Redacted:
    """``text`` with its personal data masked. ``region`` is where a number written without
    its country code is read as a local phone number (ISO 3166 code, Spain by default)."""
    text = text[:LIMIT]
    taken: list[Finding] = []
    for finding in _candidates(text, region):
        if all(finding.end <= t.start or finding.start >= t.end for t in taken):
            taken.append(finding)
    taken.sort(key=lambda f: f.start)
    parts: list[str] = []
    at = 0
    for finding in taken:
        parts.append(text[at:finding.start])
        parts.append(MASKS[finding.kind])
        at = finding.end
    parts.append(text[at:])
    return Redacted("".join(parts), tuple(taken))
