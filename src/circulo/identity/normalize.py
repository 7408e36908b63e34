"""Identifier normalisation: the same person's number or address always becomes one key.

Pure functions. Phones become E.164 (``phonenumbers``, with a default region for national
formats), emails are validated and lower-cased (``email-validator``), external ids are
namespaced ``source:id``. Junk values ("0", "anonymous", "test@test.com"...) are recognised
so that they never link two people.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from enum import StrEnum
from functools import lru_cache

import phonenumbers
from email_validator import EmailNotValidError, validate_email


class Kind(StrEnum):
    PHONE = "phone"
    EMAIL = "email"
    EXTERNAL_ID = "external_id"
    ACCOUNT = "account"
    CUSTOMER_ID = "customer_id"
    ANONYMOUS_ID = "anonymous_id"


# Kinds of which a real person holds at most one value per namespace: two different CRM ids
# mean two different people, so they never merge.
UNIQUE_PER_NAMESPACE = frozenset({Kind.EXTERNAL_ID})


@dataclass(frozen=True, slots=True)
class Identifier:
    kind: Kind
    value: str
    key: str = dataclass_field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        # Computed once: the key is used many times per event on the ingest path.
        object.__setattr__(self, "key", f"{self.kind.value}:{self.value}")

    @property
    def namespace(self) -> str | None:
        return self.value.split(":", 1)[0] if self.kind == Kind.EXTERNAL_ID else None


class InvalidIdentifier(ValueError):
    def __init__(self, field: str, code: str, detail: str) -> None:
        super().__init__(detail)
        self.field = field
        self.code = code
        self.detail = detail


class JunkIdentifier(ValueError):
    """A placeholder value: ignored, never linked, reported as a warning."""


_NAMESPACE_RE = re.compile(r"^[a-z0-9][a-z0-9_.\-]{0,39}$")
# Plain ASCII dot-atom addresses that email-validator accepts as they are; anything else (or
# a special-use domain) goes through email-validator itself. A speed path, not a new rule.
_ATOM = r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_SIMPLE_EMAIL_RE = re.compile(rf"^{_ATOM}(?:\.{_ATOM})*@(?:{_LABEL}\.)+[a-z]{{2,63}}$")
_SPECIAL_USE_TLDS = frozenset({"arpa", "invalid", "local", "localhost", "onion", "test"})
_DIGITS_RE = re.compile(r"\D")


def masked(raw: str) -> str:
    """What an error may say of a personal value it refuses: its last two characters and its
    length. Errors reach logs, stored answers and outbox payloads; the value must not."""
    return f"'…{raw[-2:]}' ({len(raw)} characters)"


def _email_reason(raw: str, exc: EmailNotValidError) -> str:
    """The validator's reason, with any piece of the address it quotes taken out."""
    reason = str(exc)
    for part in sorted({raw, *re.split(r"[@\s]+", raw)}, key=len, reverse=True):
        if len(part) > 1:
            reason = reason.replace(part, "…")
    return reason


def _is_junk(raw: str, junk: frozenset[str]) -> bool:
    cleaned = raw.strip().lower()
    return cleaned in junk or cleaned == ""


@lru_cache(maxsize=200_000)
def normalize_phone(raw: str, region: str) -> str:
    """E.164, or ``InvalidIdentifier``/``JunkIdentifier``. Cached: numbers repeat a lot."""
    digits = _DIGITS_RE.sub("", raw)
    if not digits and any(ch.isalpha() for ch in raw):
        # Words are not a placeholder number ("-", "000"): known words are in the junk list.
        raise InvalidIdentifier("phone", "invalid_phone", f"{masked(raw)} is not a phone number")
    if not digits or len(set(digits)) == 1:
        raise JunkIdentifier(raw)
    text = raw.strip()
    # International prefix written as 00 (Spain, most of Europe and Latin America).
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidIdentifier("phone", "invalid_phone",
                                f"{masked(raw)} is not a phone number: {exc}") from exc
    if not phonenumbers.is_possible_number(parsed):
        raise InvalidIdentifier(
            "phone", "invalid_phone", f"{masked(raw)} is not a possible phone number in {region}"
        )
    national = str(parsed.national_number)
    if len(set(national)) == 1:
        raise JunkIdentifier(raw)
    return str(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))


@lru_cache(maxsize=200_000)
def normalize_email(raw: str) -> str:
    simple = raw.strip().lower()
    if (_SIMPLE_EMAIL_RE.match(simple) and len(simple) <= 254
            and len(simple.partition("@")[0]) <= 64
            and simple.rsplit(".", 1)[-1] not in _SPECIAL_USE_TLDS
            and "--" not in simple.partition("@")[2]):
        return simple
    try:
        result = validate_email(raw.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidIdentifier("email", "invalid_email", f"{masked(raw)} is not an email: "
                                f"{_email_reason(raw, exc)}") from exc
    return str(result.normalized).lower()


def normalize_external_id(namespace: str, raw: str) -> str:
    ns = namespace.strip().lower()
    if not _NAMESPACE_RE.match(ns):
        raise InvalidIdentifier(
            "external_ids", "invalid_namespace",
            f"'{namespace}' is not a valid source namespace (a-z, 0-9, _ . -; up to 40)",
        )
    value = raw.strip()
    if not value or len(value) > 200:
        raise InvalidIdentifier("external_ids", "invalid_external_id",
                                f"external id for '{ns}' must be 1-200 characters")
    return f"{ns}:{value}"


def normalize_account(raw: str) -> str:
    value = re.sub(r"[\s\-]", "", raw.strip()).upper()
    if not value or len(value) > 64:
        raise InvalidIdentifier("account", "invalid_account", "account must be 1-64 characters")
    return value


@dataclass(slots=True)
class Normalized:
    identifiers: list[Identifier]
    warnings: list[str]


def normalize_identifiers(
    raw: dict[str, object], *, region: str, junk: frozenset[str]
) -> Normalized:
    """Normalise an event's ``identifiers`` object. Raises ``InvalidIdentifier`` on bad values."""
    found: dict[str, Identifier] = {}
    warnings: list[str] = []

    def add(ident: Identifier) -> None:
        found.setdefault(ident.key, ident)

    def values(field: str) -> list[str]:
        value = raw.get(field)
        if value is None:
            return []
        return [value] if isinstance(value, str) else [str(v) for v in value]  # type: ignore[attr-defined]

    for field in ("phone", "phones"):
        for item in values(field):
            if _is_junk(item, junk):
                warnings.append(f"identifiers.{field}: ignored placeholder value '{item}'")
                continue
            try:
                add(Identifier(Kind.PHONE, normalize_phone(item, region)))
            except JunkIdentifier:
                warnings.append(f"identifiers.{field}: ignored placeholder value '{item}'")
            except InvalidIdentifier as exc:
                exc.field = f"identifiers.{field}"
                raise
    for field in ("email", "emails"):
        for item in values(field):
            if _is_junk(item, junk):
                warnings.append(f"identifiers.{field}: ignored placeholder value '{item}'")
                continue
            try:
                email = normalize_email(item)
            except InvalidIdentifier as exc:
                exc.field = f"identifiers.{field}"
                raise
            if email in junk:
                warnings.append(f"identifiers.{field}: ignored placeholder value '{item}'")
                continue
            add(Identifier(Kind.EMAIL, email))
    external = raw.get("external_ids") or {}
    if isinstance(external, dict):
        for ns, value in external.items():
            if value is None or _is_junk(str(value), junk):
                warnings.append(f"identifiers.external_ids.{ns}: ignored placeholder value")
                continue
            try:
                add(Identifier(Kind.EXTERNAL_ID, normalize_external_id(str(ns), str(value))))
            except InvalidIdentifier as exc:
                exc.field = f"identifiers.external_ids.{ns}"
                raise
    for item in values("account"):
        if _is_junk(item, junk):
            warnings.append(f"identifiers.account: ignored placeholder value '{item}'")
            continue
        add(Identifier(Kind.ACCOUNT, normalize_account(item)))
    for item in values("anonymous_id"):
        if not _is_junk(item, junk):
            add(Identifier(Kind.ANONYMOUS_ID, item.strip()[:200]))
    for item in values("customer_id"):
        add(Identifier(Kind.CUSTOMER_ID, item.strip()))
    return Normalized(list(found.values()), warnings)


def is_role_email(address: str, mailboxes: frozenset[str]) -> bool:
    """``info@acme.es``, ``Pedidos+web@acme.es``: a role's mailbox, not a person's."""
    local = address.split("@", 1)[0].split("+", 1)[0].replace(".", "").replace("_", "")
    return local in mailboxes
