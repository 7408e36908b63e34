"""The pure survey rules: definitions, links, answers, low scores, figures."""

from __future__ import annotations

from pathlib import Path

import pytest

from circulo.surveys import definition, engine, figures
from circulo.surveys.definition import LowScore, SurveyConfigError
from circulo.surveys.engine import Answers

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "surveys" / "surveys.yaml"
KEY = b"k" * 32
MINIMAL = """
surveys:
  quick:
    title: {es: "Encuesta", en: "Survey"}
    send_by: [sms]
    questions:
      - {id: csat, kind: csat, text: {es: "¿Satisfecho?", en: "Satisfied?"}}
"""


def survey() -> definition.Survey:
    return definition.load(EXAMPLE).surveys[0]


def test_the_example_file_loads() -> None:
    catalogue = definition.load(EXAMPLE)
    [first] = catalogue.surveys
    assert first.send_by == ("sms", "email") and first.delay == 300 and first.lifetime == 259200
    assert [q.kind for q in first.questions] == ["csat", "nps", "text"]
    assert catalogue.following("atencion", "voice") is first
    assert catalogue.following("atencion", "whatsapp") is None
    assert catalogue.low_score == LowScore(2, 6)


@pytest.mark.parametrize(("change", "reason"), [
    ("    send_by: [sms]\n", "send_by"),  # removed below: no channel
    ("    kind_of: x\n", "kind_of"),
])
def test_misspelt_or_missing_fields_name_their_line(change: str, reason: str) -> None:
    text = MINIMAL.replace("    send_by: [sms]\n", "") if reason == "send_by" \
        else MINIMAL.replace("    send_by: [sms]\n", "    send_by: [sms]\n" + change)
    with pytest.raises(SurveyConfigError, match=rf"line \d+.*{reason}"):
        definition.parse(text, "surveys.yaml")


@pytest.mark.parametrize(("text", "reason"), [
    (MINIMAL.replace("send_by: [sms]", "send_by: [fax]"), "send_by"),
    (MINIMAL.replace("send_by: [sms]", "send_by: [ivr, sms]"), "ivr"),
    (MINIMAL.replace("kind: csat", "kind: stars"), "kind"),
    (MINIMAL + "      - {id: csat, kind: nps, text: {es: a, en: b}}\n", "unique"),
    (MINIMAL + "      - {id: other, kind: csat, text: {es: a, en: b}}\n", "at most one csat"),
    (MINIMAL.replace("send_by: [sms]", "send_by: [sms]\n    invite: {es: hola, en: hi}"),
     "link"),
    (MINIMAL.replace('en: "Survey"', 'en: ""'), "title"),
    (MINIMAL.replace("send_by: [sms]", "send_by: [sms]\n    delay: -5m"), "delay"),
    ("surveys:\n  a: &x {}\n", "alias"),
    ("surveys: []\n", "surveys"),
    (MINIMAL + "low_score: {csat_at_most: 7}\n", "csat_at_most"),
])
def test_bad_definitions_are_refused(text: str, reason: str) -> None:
    with pytest.raises(SurveyConfigError, match=reason):
        definition.parse(text, "surveys.yaml")


def test_a_token_is_signed_and_tampering_is_caught() -> None:
    token = engine.make_token(KEY, "svi_abc123", "n" * 32)
    assert engine.read_token(KEY, token) == "svi_abc123"
    assert engine.read_token(b"x" * 32, token) is None  # another installation's key
    ident, nonce, signature = token.split(".")
    assert engine.read_token(KEY, f"svi_abc124.{nonce}.{signature}") is None
    assert engine.read_token(KEY, f"{ident}.{'m' * 32}.{signature}") is None
    assert engine.read_token(KEY, token + "A") is None
    assert engine.read_token(KEY, "") is None
    assert engine.read_token(KEY, "x" * 10_000) is None
    stored = engine.token_hash(token)
    assert stored != token and len(stored) == 64
    assert engine.same_token(token, stored) and not engine.same_token(token + "x", stored)
    assert not engine.same_token(token, None)


@pytest.mark.parametrize(("raw", "expected"), [
    ({"csat": "5", "nps": "10", "comment": "  Genial \x00\u200b "}, Answers(5, 10, "Genial")),
    ({"csat": 1, "nps": 0}, Answers(1, 0, None)),
    ({"csat": " 3 ", "nps": "07", "comment": ""}, Answers(3, 7, None)),
])
def test_answers_read(raw: dict[str, object], expected: Answers) -> None:
    assert engine.read_answers(survey(), raw) == expected


@pytest.mark.parametrize(("raw", "field", "code"), [
    ({"csat": "6", "nps": "9"}, "csat", "out_of_range"),
    ({"csat": "0", "nps": "9"}, "csat", "out_of_range"),
    ({"csat": "4", "nps": "11"}, "nps", "out_of_range"),
    ({"csat": "4", "nps": -1}, "nps", "out_of_range"),
    ({"csat": "4.5", "nps": "9"}, "csat", "not_a_number"),
    ({"csat": True, "nps": "9"}, "csat", "not_a_number"),
    ({"csat": "٣", "nps": "9"}, "csat", "not_a_number"),  # Arabic-Indic digit
    ({"csat": "4"}, "nps", "missing"),
    ({"csat": "4", "nps": "9", "comment": "x" * 1001}, "comment", "too_long"),
    ({"csat": "4", "nps": "9", "comment": 5}, "comment", "not_text"),
])
def test_bad_answers(raw: dict[str, object], field: str, code: str) -> None:
    problems = engine.read_answers(survey(), raw)
    assert isinstance(problems, list)
    assert (field, code) in [(p.field, p.code) for p in problems]


def test_unknown_questions_only_matter_when_strict() -> None:
    raw = {"csat": "4", "nps": "9", "q9": "1"}
    assert engine.read_answers(survey(), raw) == Answers(4, 9, None)
    problems = engine.read_answers(survey(), raw, strict=True)
    assert isinstance(problems, list) and problems[0].code == "unknown_question"


@pytest.mark.parametrize(("answers", "low"), [
    (Answers(2, None, None), True), (Answers(3, None, None), False),
    (Answers(None, 6, None), True), (Answers(5, 7, None), False), (Answers(4, 0, None), True),
    (Answers(None, None, "x"), False),
])
def test_low_scores(answers: Answers, low: bool) -> None:
    assert engine.is_low(answers, LowScore(2, 6)) is low


def test_figures_use_the_reports_formulas() -> None:
    # CSAT answers 5, 4, 2, 1 → 2 of 4 satisfied (50 %), mean 3.0; NPS 10, 9, 7, 3, 0 →
    # 2 promoters and 2 detractors of 5 → 0
    sums = figures.Sums("lucia", 4, 12, 2, 5, 2, 2)
    got = figures.figures(sums)
    assert (got.csat_satisfied, got.csat_average, got.nps) == (50.0, 3.0, 0.0)
    only_promoters = figures.figures(figures.Sums("x", 0, 0, 0, 3, 3, 0))
    assert only_promoters.nps == 100.0 and only_promoters.csat_satisfied is None
    both = figures.total([sums, figures.Sums("tom", 1, 5, 1, 1, 0, 1)])
    assert (both.csat_count, both.satisfied, both.nps_count, both.detractors) == (5, 3, 6, 3)
