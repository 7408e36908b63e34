"""PII redaction (issue 17): each kind masked only when its check holds, nothing else
touched, spans never overlapping, hostile input bounded. Pure: no database."""

from __future__ import annotations

import itertools
import time

import pytest

from circulo.text.redaction import LIMIT, redact


@pytest.mark.parametrize(("text", "expected", "kinds"), [
    ("Mi tarjeta es 4111 1111 1111 1111, caduca en 12/28",
     "Mi tarjeta es [CARD], caduca en 12/28", ("card",)),
    ("card 4111-1111-1111-1111 please", "card [CARD] please", ("card",)),
    # the same digits with a wrong check digit are an order number, kept as written
    ("pedido 4111 1111 1111 1112", "pedido 4111 1111 1111 1112", ()),
    ("IBAN ES91 2100 0418 4502 0005 1332 para la devolución",
     "IBAN [IBAN] para la devolución", ("iban",)),
    ("iban es9121000418450200051332", "iban [IBAN]", ("iban",)),
    ("ES91 2100 0418 4502 0005 1333 (mal copiado)", "ES91 2100 0418 4502 0005 1333 (mal copiado)",
     ()),
    ("DNI 12345678Z", "DNI [DNI]", ("dni",)),
    ("DNI 12345678-z", "DNI [DNI]", ("dni",)),
    ("ref 12345678A", "ref 12345678A", ()),  # wrong check letter: not a DNI
    ("NIE X1234567L", "NIE [NIE]", ("nie",)),
    ("NIE X1234567A", "NIE X1234567A", ()),
    ("escríbeme a maria.lopez+pedidos@example.com ya",
     "escríbeme a [EMAIL] ya", ("email",)),
    ("llámame al 600 123 456 o al +34 911 22 33 44",
     "llámame al [PHONE] o al [PHONE]", ("phone",)),
    ("call me on 0034 600 12 34 56", "call me on [PHONE]", ("phone",)),
    ("call +44 20 7946 0958 tomorrow", "call [PHONE] tomorrow", ("phone",)),
    ("total 129,90 EUR, pedido 2026-11-24, ticket #88231",
     "total 129,90 EUR, pedido 2026-11-24, ticket #88231", ()),
    ("", "", ()),
    ("😡😡😡", "😡😡😡", ()),
])
def test_each_kind_is_masked_only_when_its_check_holds(text: str, expected: str,
                                                       kinds: tuple[str, ...]) -> None:
    result = redact(text)
    assert result.text == expected
    assert result.kinds == kinds


def test_findings_say_where_each_was_and_never_overlap() -> None:
    text = "Soy 12345678Z, tel 600123456, mail a@b.es, tarjeta 4111111111111111"
    result = redact(text)
    assert [(f.kind, text[f.start:f.end]) for f in result.findings] == [
        ("dni", "12345678Z"), ("phone", "600123456"), ("email", "a@b.es"),
        ("card", "4111111111111111")]
    spans = [(f.start, f.end) for f in result.findings]
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(spans))
    assert result.text == "Soy [DNI], tel [PHONE], mail [EMAIL], tarjeta [CARD]"


def test_a_phone_number_inside_an_email_is_the_email() -> None:
    assert redact("600123456@example.com").text == "[EMAIL]"


def test_hostile_input_is_bounded_and_linear() -> None:
    """100 KB of digits and separators, and a long run of would-be e-mail characters: the
    patterns have no nested repetition, so this takes milliseconds (asserted loosely: a
    backtracking pattern takes seconds to minutes here)."""
    hostile = ("1 " * 50_000) + ("a." * 50_000) + "@"
    started = time.perf_counter()
    result = redact(hostile)
    assert time.perf_counter() - started < 5
    assert len(result.text) <= LIMIT
    assert len(redact("x" * (LIMIT * 2)).text) == LIMIT
