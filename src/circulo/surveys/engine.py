"""The survey rules, pure: signed links, reading answers, what counts as a low score, and
the CSAT and NPS of summed answers.

A link's token is ``<invitation id>.<nonce>.<signature>``: the signature (HMAC-SHA256 with
the installation's key) lets a tampered or invented token be refused without touching the
database; only the token's SHA-256 is stored, compared in constant time, so a copy of the
database cannot be turned into working links (ADR 0026).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from circulo.surveys.definition import RANGES, LowScore, Survey

MAX_TOKEN = 160
_TOKEN = re.compile(r"^(svi_[A-Za-z0-9]{1,40})\.([A-Za-z0-9_-]{16,64})\.([A-Za-z0-9_-]{22,64})$")
_CONTROL = {"Cc", "Cf", "Cs", "Co", "Cn"}


def _sign(key: bytes, body: str) -> str:
    mac = hmac.new(key, b"survey-link\x00" + body.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def make_token(key: bytes, invitation_id: str, nonce: str) -> str:
    body = f"{invitation_id}.{nonce}"
    return f"{body}.{_sign(key, body)}"


def read_token(key: bytes, token: str) -> str | None:
    """The invitation a well-formed, correctly signed token names; None otherwise."""
    if len(token) > MAX_TOKEN:
        return None
    match = _TOKEN.match(token)
    if match is None:
        return None
    invitation_id, nonce, signature = match.groups()
    expected = _sign(key, f"{invitation_id}.{nonce}")
    if not hmac.compare_digest(signature.encode(), expected.encode()):
        return None
    return invitation_id


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def same_token(token: str, stored_hash: str | None) -> bool:
    return stored_hash is not None and hmac.compare_digest(token_hash(token), stored_hash)


# -- answers ----------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Answers:
    csat: int | None
    nps: int | None
    comment: str | None


@dataclass(frozen=True, slots=True)
class Problem:
    """One answer refused: the question's id and why (``missing``, ``not_a_number``,
    ``out_of_range``, ``too_long``, ``unknown_question``)."""

    field: str
    code: str
    detail: str


def _score(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit() \
            and len(value.strip()) <= 3:
        return int(value.strip())
    return None


def clean_text(value: str) -> str:
    """A comment as stored: NFC, control characters (but line breaks) dropped, trimmed."""
    text = unicodedata.normalize("NFC", value)
    text = "".join(c for c in text if c in "\n\t" or unicodedata.category(c) not in _CONTROL)
    return text.strip()


def read_answers(survey: Survey, raw: Mapping[str, Any], *, strict: bool = False
                 ) -> Answers | list[Problem]:
    """The answers to ``survey`` in ``raw`` (question id → value: text from a form, digits
    from a keypad, numbers from JSON), or every problem found. ``strict``: an answer to a
    question the survey does not ask is a problem too (the API); a form just ignores it."""
    problems: list[Problem] = []
    found: dict[str, Any] = {"csat": None, "nps": None, "text": None}
    if strict:
        known = {q.id for q in survey.questions}
        problems += [Problem(str(k)[:64], "unknown_question", "this survey asks no such "
                             "question") for k in raw if k not in known]
    for q in survey.questions:
        value = raw.get(q.id)
        empty = value is None or (isinstance(value, str) and not value.strip())
        if empty:
            if q.required:
                problems.append(Problem(q.id, "missing", "an answer is required"))
            continue
        if q.kind == "text":
            if not isinstance(value, str):
                problems.append(Problem(q.id, "not_text", "expected text"))
                continue
            text = clean_text(value)
            if len(text) > q.max_length:
                problems.append(Problem(q.id, "too_long",
                                        f"at most {q.max_length} characters"))
            elif text:
                found["text"] = text
            elif q.required:
                problems.append(Problem(q.id, "missing", "an answer is required"))
            continue
        low, high = RANGES[q.kind]
        score = _score(value)
        if score is None:
            problems.append(Problem(q.id, "not_a_number", f"expected a whole number "
                                    f"{low}–{high}"))
        elif not low <= score <= high:
            problems.append(Problem(q.id, "out_of_range", f"must be between {low} and {high}"))
        else:
            found[q.kind] = score
    if problems:
        return problems
    return Answers(found["csat"], found["nps"], found["text"])


def is_low(answers: Answers, rule: LowScore) -> bool:
    """A score that asks for a rescue: CSAT or NPS at or under the configured limits."""
    return ((answers.csat is not None and answers.csat <= rule.csat_at_most)
            or (answers.nps is not None and answers.nps <= rule.nps_at_most))
