"""Identifier normalisation (pure): one person's number or address always becomes one key,
bad values are rejected with the field that holds them, placeholders are ignored."""

from __future__ import annotations

from typing import Any

import pytest

from circulo.config import Settings
from circulo.identity.normalize import (
    Identifier,
    InvalidIdentifier,
    JunkIdentifier,
    Kind,
    normalize_email,
    normalize_external_id,
    normalize_identifiers,
    normalize_phone,
)

JUNK = Settings().all_junk_values


def norm(raw: dict[str, object], region: str = "ES") -> tuple[list[Identifier], list[str]]:
    result = normalize_identifiers(raw, region=region, junk=JUNK)
    return result.identifiers, result.warnings


# --- phones ---------------------------------------------------------------------------------

@pytest.mark.parametrize("raw", ["600 123 456", "+34600123456", "0034 600 12 34 56",
                                 "600-12-34-56", " +34 600 12 34 56 ", "(+34) 600123456"])
def test_spanish_formats_become_one_e164_number(raw: str) -> None:
    assert normalize_phone(raw, "ES") == "+34600123456"


def test_spanish_formats_give_one_identifier_through_the_event_object() -> None:
    idents, warnings = norm({"phones": ["600 123 456", "+34600123456", "0034 600 12 34 56"]})
    assert idents == [Identifier(Kind.PHONE, "+34600123456")]
    assert warnings == []


@pytest.mark.parametrize(("raw", "region", "expected"), [
    ("07700 900123", "GB", "+447700900123"),
    ("020 7946 0958", "GB", "+442079460958"),
    ("+44 20 7946 0958", "ES", "+442079460958"),
    ("0044 7700 900123", "ES", "+447700900123"),
    ("(202) 555-0143", "US", "+12025550143"),
    ("202.555.0143", "US", "+12025550143"),
    ("+1 202-555-0143", "ES", "+12025550143"),
])
def test_uk_and_us_numbers(raw: str, region: str, expected: str) -> None:
    assert normalize_phone(raw, region) == expected


def test_national_format_is_read_in_the_configured_region() -> None:
    # The same digits mean different numbers in different regions.
    assert normalize_phone("202 555 0143", "US") == "+12025550143"
    idents, _ = norm({"phone": "07700 900123"}, region="GB")
    assert idents == [Identifier(Kind.PHONE, "+447700900123")]


@pytest.mark.parametrize("raw", ["12", "+34 12", "600 12 34 56 78 90 12 34"])
def test_impossible_numbers_are_invalid(raw: str) -> None:
    with pytest.raises(InvalidIdentifier) as info:
        normalize_phone(raw, "ES")
    assert info.value.code == "invalid_phone"


@pytest.mark.parametrize("field", ["phone", "phones"])
def test_invalid_phone_names_its_field(field: str) -> None:
    value: object = "12" if field == "phone" else ["600123456", "12"]
    with pytest.raises(InvalidIdentifier) as info:
        norm({field: value})
    assert info.value.field == f"identifiers.{field}"
    assert info.value.code == "invalid_phone"
    assert "12" in info.value.detail


def test_invalid_phone_field_is_set_on_every_call() -> None:
    # normalize_phone is cached; the error of a second bad event must still name its field.
    for field in ("phones", "phone"):
        with pytest.raises(InvalidIdentifier) as info:
            norm({field: ["+34 12"]} if field == "phones" else {field: "+34 12"})
        assert info.value.field == f"identifiers.{field}"


@pytest.mark.parametrize(("raw", "normalize"), [
    ("+999 612 345 678", normalize_phone),      # no such country code: unparseable
    ("+34 612 345 678 901 234", normalize_phone),  # not a possible number
    ("llámame al móvil", normalize_phone),
    ("ana.ruiz@@example.es", normalize_email),
    ("ana.ruiz@exa mple.es", normalize_email),
])
def test_an_invalid_value_is_never_repeated_in_the_error(raw: str, normalize: Any) -> None:
    """The error's text reaches logs (Twilio, outbox status events) and stored answers: it
    shows the value's last two characters and length, never the value or a part of it."""
    args = (raw, "ES") if normalize is normalize_phone else (raw,)
    with pytest.raises(InvalidIdentifier) as info:
        normalize(*args)
    text = str(info.value)
    assert raw not in text
    assert not any(part in text for part in raw.replace("@", " ").replace(".", " ").split()
                   if len(part) > 3)
    assert f"…{raw[-2:]}" in text and f"{len(raw)} characters" in text


@pytest.mark.parametrize("raw", ["abc-not-a-phone", "call me"])
def test_words_that_are_not_a_known_placeholder_are_an_invalid_phone(raw: str) -> None:
    with pytest.raises(InvalidIdentifier) as info:
        norm({"phone": raw})
    assert info.value.field == "identifiers.phone"
    assert info.value.code == "invalid_phone"


@pytest.mark.parametrize("raw", ["111111111", "666 666 666", "+34 666666666", "0000", "---"])
def test_all_same_digit_numbers_are_junk(raw: str) -> None:
    with pytest.raises(JunkIdentifier):
        normalize_phone(raw, "ES")


@pytest.mark.parametrize("raw", ["0", "000000000", "anonymous", "Anonymous", " unknown ",
                                 "111111111", "+34 666 666 666", "n/a", ""])
def test_junk_phones_are_ignored_with_a_warning(raw: str) -> None:
    idents, warnings = norm({"phone": raw, "email": "ana@example.es"})
    assert idents == [Identifier(Kind.EMAIL, "ana@example.es")]
    assert len(warnings) == 1
    assert warnings[0].startswith("identifiers.phone: ignored placeholder value")


def test_junk_in_a_list_keeps_the_good_values() -> None:
    idents, warnings = norm({"phones": ["000000000", "600 123 456", "anonymous"]})
    assert idents == [Identifier(Kind.PHONE, "+34600123456")]
    assert len(warnings) == 2
    assert all(w.startswith("identifiers.phones:") for w in warnings)


# --- emails ---------------------------------------------------------------------------------

@pytest.mark.parametrize("raw", ["Maria.Lopez@Example.ES", " maria.lopez@example.es ",
                                 "MARIA.LOPEZ@EXAMPLE.ES"])
def test_emails_are_lower_cased_and_trimmed(raw: str) -> None:
    assert normalize_email(raw) == "maria.lopez@example.es"


def test_email_variants_give_one_identifier() -> None:
    idents, warnings = norm({"email": "Maria.Lopez@Example.ES",
                             "emails": ["maria.lopez@example.es", "otra@example.com"]})
    assert idents == [Identifier(Kind.EMAIL, "maria.lopez@example.es"),
                      Identifier(Kind.EMAIL, "otra@example.com")]
    assert warnings == []


@pytest.mark.parametrize("raw", ["test@test.com", "TEST@test.com", " Test@Test.com ",
                                 "anonymous", "none", "a@a.com"])
def test_junk_emails_are_ignored_with_a_warning(raw: str) -> None:
    idents, warnings = norm({"email": raw, "phone": "600123456"})
    assert idents == [Identifier(Kind.PHONE, "+34600123456")]
    assert len(warnings) == 1
    assert warnings[0].startswith("identifiers.email: ignored placeholder value")


@pytest.mark.parametrize(("field", "value"), [("email", "not-an-email"),
                                              ("emails", ["ok@example.com", "a@@b"])])
def test_invalid_email_names_its_field(field: str, value: object) -> None:
    with pytest.raises(InvalidIdentifier) as info:
        norm({field: value})
    assert info.value.field == f"identifiers.{field}"
    assert info.value.code == "invalid_email"


def test_extra_junk_values_from_settings_are_honoured() -> None:
    junk = Settings(extra_junk_values=["Sin.Correo@Empresa.es"]).all_junk_values
    result = normalize_identifiers({"email": "sin.correo@empresa.es"}, region="ES", junk=junk)
    assert result.identifiers == []
    assert len(result.warnings) == 1


# --- external ids, accounts -----------------------------------------------------------------

def test_external_ids_are_namespaced() -> None:
    idents, _ = norm({"external_ids": {"crm": "C-1", "Shop": " 42 "}})
    assert idents == [Identifier(Kind.EXTERNAL_ID, "crm:C-1"),
                      Identifier(Kind.EXTERNAL_ID, "shop:42")]
    assert idents[0].namespace == "crm"
    assert idents[0].key == "external_id:crm:C-1"
    assert normalize_external_id("CRM", "C-1") == "crm:C-1"


def test_external_id_values_keep_their_case() -> None:
    # Ids in other systems may be case-sensitive: only the namespace is lower-cased.
    assert normalize_external_id("crm", "AbC-9") == "crm:AbC-9"
    assert normalize_external_id("crm", "AbC-9") != normalize_external_id("crm", "abc-9")


def test_numeric_external_id() -> None:
    idents, _ = norm({"external_ids": {"erp": 1234}})
    assert idents == [Identifier(Kind.EXTERNAL_ID, "erp:1234")]


@pytest.mark.parametrize("namespace", ["bad ns", "crm!", "", "-crm", "x" * 41, "crm:sub"])
def test_invalid_namespace_is_rejected(namespace: str) -> None:
    with pytest.raises(InvalidIdentifier) as info:
        norm({"external_ids": {namespace: "C-1"}})
    assert info.value.code == "invalid_namespace"
    assert info.value.field == f"identifiers.external_ids.{namespace}"


def test_too_long_external_id_is_rejected() -> None:
    with pytest.raises(InvalidIdentifier) as info:
        norm({"external_ids": {"crm": "x" * 201}})
    assert info.value.code == "invalid_external_id"
    assert info.value.field == "identifiers.external_ids.crm"


def test_junk_external_id_is_ignored_with_a_warning() -> None:
    idents, warnings = norm({"external_ids": {"crm": "unknown", "shop": "S-1"}})
    assert idents == [Identifier(Kind.EXTERNAL_ID, "shop:S-1")]
    assert warnings == ["identifiers.external_ids.crm: ignored placeholder value"]


def test_accounts_lose_spaces_and_dashes() -> None:
    idents, _ = norm({"account": ["es12-3456 7890", "ES1234567890"]})
    assert idents == [Identifier(Kind.ACCOUNT, "ES1234567890")]


def test_customer_id_and_anonymous_id_are_kept() -> None:
    idents, _ = norm({"customer_id": " abc ", "anonymous_id": "cookie-1"})
    assert Identifier(Kind.CUSTOMER_ID, "abc") in idents
    assert Identifier(Kind.ANONYMOUS_ID, "cookie-1") in idents


def test_empty_object_gives_nothing() -> None:
    assert norm({}) == ([], [])
