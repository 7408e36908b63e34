"""The default text engine (issue 17): what each rule does, ES and EN, and that no input makes
it raise. Pure: no database."""

from __future__ import annotations

import time

import pytest

from circulo.text import intents
from circulo.text.engine import default_analyzer
from circulo.text.language import detect
from circulo.text.model import URGENCY_REASONS
from circulo.text.prep import MAX_CHARS, html_to_text, prepare

CATALOGUE = intents.load()
ANALYZER = default_analyzer(CATALOGUE)


def analyze(text: str, language: str | None = None):  # type: ignore[no-untyped-def]
    return ANALYZER.analyze(text, language=language)


def test_the_engine_is_named_and_answers_the_public_shape() -> None:
    result = analyze("hola, ¿dónde está mi pedido?").as_dict()
    assert result["engine"] == "lexicon-1"
    assert set(result) >= {"language", "sentiment", "urgency", "intent", "redacted"}
    assert set(result["sentiment"]) == {"label", "score"}
    assert set(result["urgency"]) == {"urgent", "reasons"}


@pytest.mark.parametrize(("text", "label"), [
    ("Estoy muy contento con el servicio, gracias", "positive"),
    ("No estoy nada contento con el servicio", "negative"),
    ("Thank you, the delivery was perfect", "positive"),
    ("Not bad at all, the fitter was quick", "positive"),
    ("It was not good, the sofa came damaged", "negative"),
    ("Genial, otra semana sin lavadora", "negative"),  # sarcasm
    ("Great, another week without my sofa", "negative"),
])
def test_sentiment_reads_negation_and_sarcasm(text: str, label: str) -> None:
    result = analyze(text)
    assert result.sentiment.label == label, result
    assert (result.sentiment.score > 0) == (label == "positive")


def test_a_neutral_request_is_neutral() -> None:
    for text in ("Buenos días, ¿me podéis enviar la factura del pedido 4821?",
                 "Hi, could you send me the invoice for order 4821?"):
        assert analyze(text).sentiment.label == "neutral", text


@pytest.mark.parametrize(("reason", "spanish", "english"), [
    ("churn_threat", "Si no me lo solucionáis me doy de baja",
     "Fix it or I'll take my business elsewhere"),
    ("legal_threat", "Voy a poner una hoja de reclamaciones y hablar con mi abogado",
     "I will be contacting my lawyer about this"),
    ("fraud", "Tengo un cargo que no he hecho, creo que me han clonado la tarjeta",
     "There is a charge I didn't make, I think my card was cloned"),
    ("safety", "La lavadora echa humo y chispas", "The oven is giving off sparks and smoke"),
    ("shouting", "QUIERO QUE ME DEVOLVÁIS EL DINERO YA", "I WANT MY MONEY BACK RIGHT NOW"),
    ("repetition", "Es la tercera vez que os escribo por lo mismo",
     "This is the third time I write about this"),
    ("insult", "Sois unos ladrones y unos incompetentes", "You are useless idiots"),
])
def test_each_urgency_reason_in_both_languages(reason: str, spanish: str,
                                               english: str) -> None:
    for text in (spanish, english):
        urgency = analyze(text).urgency
        assert urgency.urgent and reason in urgency.reasons, (text, urgency)


def test_reasons_come_in_their_fixed_order_and_calm_text_is_not_urgent() -> None:
    result = analyze("ES LA TERCERA VEZ, SOIS UNOS LADRONES, ME DOY DE BAJA!!!")
    assert result.urgency.reasons == tuple(
        code for code in URGENCY_REASONS if code in {"churn_threat", "shouting", "repetition",
                                                     "insult"})
    calm = analyze("Hola, quería saber si el sofá se puede montar el sábado. Gracias")
    assert not calm.urgency.urgent and calm.urgency.reasons == ()


def test_shouting_needs_mostly_capitals_not_one_word() -> None:
    assert "shouting" not in analyze("Mi pedido de IKEA y el de AURORA no llegan").urgency.reasons
    assert "shouting" in analyze("¿¿dónde está mi pedido???").urgency.reasons


def test_the_s11_phrase_is_card_limit_with_its_queue() -> None:
    result = analyze("quisiera aumentar el límite de mi tarjeta de crédito")
    expected = CATALOGUE.by_name["card_limit"]
    assert result.intent.name == "card_limit"
    assert result.intent.confidence >= CATALOGUE.threshold
    assert (result.intent.queue, result.intent.skill) == (expected.queue, expected.skill)
    assert expected.queue


def test_a_greeting_has_no_intent() -> None:
    for text in ("hola buenas tardes", "thanks a lot, have a nice day"):
        assert analyze(text).intent.name is None, text


def test_no_catalogue_means_no_intent() -> None:
    result = default_analyzer().analyze("quisiera aumentar el límite de mi tarjeta")
    assert result.intent.name is None


@pytest.mark.parametrize(("text", "language"), [
    ("¿Dónde está mi pedido? Lo hice hace una semana", "es"),
    ("donde esta mi pedido q no me a llegado", "es"),  # no accents, typos
    ("Where is my order? I placed it a week ago", "en"),
    ("", "und"), ("   ", "und"), ("😡😡😡", "und"), ("ok", "und"), ("12345", "und"),
])
def test_language_detection(text: str, language: str) -> None:
    assert detect(text) == language
    assert analyze(text).language == language


def test_a_forced_language_wins_and_a_bad_one_is_ignored_by_the_engine() -> None:
    assert analyze("ok", language="en").language == "en"
    assert analyze("hola, ¿dónde está mi pedido?", language="EN").language == "en"
    assert analyze("hola, ¿dónde está mi pedido?", language="fr").language == "es"


def test_mixed_languages_take_the_main_one_and_still_find_reasons() -> None:
    result = analyze("Hola, my order no ha llegado todavía y ya es la tercera vez que "
                     "escribo, estoy harto")
    assert result.language == "es"
    assert "repetition" in result.urgency.reasons
    assert result.sentiment.label == "negative"


def test_empty_and_emoji_only() -> None:
    empty = analyze("")
    assert (empty.language, empty.sentiment.label, empty.urgency.urgent,
            empty.intent.name, empty.redacted) == ("und", "neutral", False, None, "")
    angry = analyze("😡😡")
    assert angry.language == "und" and angry.sentiment.label == "negative"
    happy = analyze("👍😊")
    assert happy.sentiment.label == "positive"


def test_html_body_is_read_as_its_text() -> None:
    body = ("<html><head><style>p {color: red}</style><script>alert('x')</script></head>"
            "<body><p>Hola,</p><p>mi tarjeta 4111 1111 1111 1111 tiene un cargo que no he "
            "hecho&nbsp;&amp; quiero saber qu&eacute; pasa</p><br>Un saludo</body></html>")
    result = analyze(body)
    assert "<" not in result.redacted and "alert" not in result.redacted
    assert "color" not in result.redacted
    assert "[CARD]" in result.redacted and "4111" not in result.redacted
    assert "qué pasa" in result.redacted
    assert "fraud" in result.urgency.reasons
    assert result.language == "es"
    assert html_to_text("<p>a<b>b</p></div></div>") == "ab"  # unbalanced tags


def test_a_100_kb_email_is_bounded_and_fast() -> None:
    text = ("Hola, el sofá llegó roto y nadie me responde. " * 2300)[:100_000]
    start = time.perf_counter()
    result = analyze(text)
    elapsed = time.perf_counter() - start
    assert len(result.redacted) == MAX_CHARS
    assert prepare(text).truncated
    assert result.sentiment.label == "negative"
    assert elapsed < 1.0, elapsed
    hostile = analyze("<" * 100_000 + "4" * 100_000)
    assert len(hostile.redacted) <= MAX_CHARS


@pytest.mark.parametrize("text", [
    "\ud800", "hola \udfff mundo", "\udcff\udcfe" * 1000, "pedido \ud83d\ude00 ok",
    "\x00\x01 nul", "\ufffe\uffff", "a" * 25_000, "!" * 5000, "<p>" * 20_000,
])
def test_odd_text_never_raises(text: str) -> None:
    result = analyze(text)
    result.as_dict()
    result.redacted.encode("utf-8")  # storable: no lone surrogate survives


def test_surrogate_pairs_become_their_character() -> None:
    assert analyze("gracias \ud83d\ude00").redacted == "gracias 😀"
    assert analyze("hola \ud800").redacted == "hola \ufffd"


def test_personal_data_is_masked_before_it_is_returned() -> None:
    result = analyze("Mi DNI es 12345678Z y mi correo ana@example.com, llamadme al 612 345 678")
    assert "12345678Z" not in result.redacted and "ana@example.com" not in result.redacted
    assert "[DNI]" in result.redacted and "[EMAIL]" in result.redacted


def test_the_default_engine_is_fast() -> None:
    messages = ["hola, quisiera saber dónde está mi pedido, lo hice hace una semana",
                "my order has not arrived yet and I am really angry!!",
                "quisiera aumentar el límite de mi tarjeta de crédito"] * 100
    ANALYZER.analyze("warm up")
    start = time.perf_counter()
    for message in messages:
        ANALYZER.analyze(message)
    per_message = (time.perf_counter() - start) / len(messages)
    assert per_message < 0.005, per_message  # generous: the bench measures ~0.6 ms


def test_a_failing_part_gives_its_neutral_answer_not_an_exception(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from circulo.text import language, sentiment, urgency

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("injected fault")

    monkeypatch.setattr(language, "detect", broken)
    monkeypatch.setattr(urgency, "assess", broken)
    monkeypatch.setattr(sentiment, "classify", broken)
    monkeypatch.setattr(CATALOGUE, "classify", broken)
    result = analyze("Mi tarjeta 4111 1111 1111 1111 echa humo, sois unos ladrones")
    assert (result.language, result.sentiment.label, result.urgency.urgent,
            result.intent.name) == ("und", "neutral", False, None)
    assert "[CARD]" in result.redacted  # redaction still happened
