"""The labelled set of customer messages (bench/data/text) and the intents file it is labelled
against: valid, large and balanced enough to measure the analyser, the test split kept apart
from the training one; and the checker itself catches each kind of bad line."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from bench.data.text.check import INTENTS_FILE, SPLITS, Message, load, shares, table

from circulo.text.model import LANGUAGES, URGENCY_REASONS

REASONS = ("order_status", "return", "invoice", "unrecognised_charge", "address_change",
           "assembly", "financing", "warranty", "card_limit", "cancellation")


@pytest.fixture(scope="module")
def shipped() -> tuple[list[Message], list[str]]:
    return load()


def test_the_shipped_set_has_no_problems(shipped: tuple[list[Message], list[str]]) -> None:
    messages, problems = shipped
    assert problems == []
    assert "| messages |" in table(messages)


def test_the_intents_file_holds_the_ten_reasons_with_phrases_in_both_languages() -> None:
    import yaml

    entries = yaml.safe_load(INTENTS_FILE.read_text(encoding="utf-8"))["intents"]
    assert [e["name"] for e in entries] == list(REASONS)
    for e in entries:
        assert set(e["label"]) == {"es", "en"}
        assert e["queue"] == "atencion"
        assert e["skill"] in ("billing", "orders", "tech", "retention")
        for lang in LANGUAGES:
            assert 6 <= len(e["examples"][lang]) <= 10, (e["name"], lang)
            assert 4 <= len(e["keywords"][lang]) <= 8, (e["name"], lang)
    card = next(e for e in entries if e["name"] == "card_limit")
    assert "Quisiera aumentar el límite de mi tarjeta de crédito" in card["examples"]["es"]


def test_size_balance_and_split_per_language(shipped: tuple[list[Message], list[str]]) -> None:
    messages, _ = shipped
    for lang in LANGUAGES:
        mine = [m for m in messages if m.language == lang]
        assert len(mine) >= 360
        test_share = sum(m.split == "test" for m in mine) / len(mine)
        assert 0.35 <= test_share <= 0.45
        sentiments = Counter(m.sentiment for m in mine)
        assert 0.33 <= sentiments["negative"] / len(mine) <= 0.47
        assert 0.18 <= sentiments["positive"] / len(mine) <= 0.32
        assert 0.2 <= sum(m.urgent for m in mine) / len(mine) <= 0.35
        reasons = Counter(r for m in mine for r in m.urgency_reasons)
        assert all(reasons[r] >= 12 for r in URGENCY_REASONS), reasons
        intents = Counter(m.intent for m in mine)
        assert all(intents[name] >= 20 for name in REASONS), intents
        assert 0.07 <= intents[None] / len(mine) <= 0.13
        for split in SPLITS:  # every label can be measured on the test split and learnt
            part = [m for m in mine if m.split == split]
            assert {r for m in part for r in m.urgency_reasons} == set(URGENCY_REASONS)
            assert {m.intent for m in part} == {*REASONS, None}


def _write(tmp_path: Path, train: list[dict[str, object]], test: list[dict[str, object]],
           ) -> dict[str, Path]:
    paths = {"train": tmp_path / "train.jsonl", "test": tmp_path / "test.jsonl"}
    for split, rows in (("train", train), ("test", test)):
        paths[split].write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                                encoding="utf-8")
    return paths


def _msg(ident: str, text: str, **changes: object) -> dict[str, object]:
    row: dict[str, object] = {"id": ident, "language": ident[:2], "channel": "chat",
                              "text": text, "sentiment": "neutral", "urgent": False,
                              "urgency_reasons": [], "intent": "invoice"}
    row.update(changes)
    return row


def test_a_sound_tiny_set_passes(tmp_path: Path) -> None:
    paths = _write(tmp_path, [_msg("es-0001", "mandadme la factura porfa")],
                   [_msg("en-0001", "invoice pls", intent=None)])
    messages, problems = load(paths)
    assert problems == [] and len(messages) == 2


@pytest.mark.parametrize(("row", "complaint"), [
    (_msg("es-0001", "hola", urgency_reasons=["angry"], urgent=True), "urgency_reasons"),
    (_msg("es-0001", "hola", urgency_reasons=["fraud", "fraud"], urgent=True), "repeat a code"),
    (_msg("es-0001", "hola", urgency_reasons=["insult"]), "urgent must be true"),
    (_msg("es-0001", "hola", urgent=True), "urgent must be true"),
    (_msg("es-0001", "hola", sentiment="mixed"), "sentiment"),
    (_msg("es-0001", "hola", channel="fax"), "channel"),
    (_msg("es-0001", "hola", intent="refund"), "intent 'refund'"),
    (_msg("es-0001", "   "), "non-empty"),
    (_msg("es-0001", "x" * 6000), "non-empty"),
    (_msg("en-0001", "hola", language="es"), "does not start with its language"),
    (_msg("es-1", "hola"), "is not like es-0001"),
    (_msg("es-0001", "hola", language="fr"), "language 'fr'"),
    ({"id": "es-0001", "text": "hola"}, "fields missing"),
    ({**_msg("es-0001", "hola"), "score": 0.5}, "unknown ['score']"),
])
def test_each_kind_of_bad_line_is_named(tmp_path: Path, row: dict[str, object],
                                        complaint: str) -> None:
    paths = _write(tmp_path, [row], [])
    messages, problems = load(paths)
    assert messages == []
    assert len(problems) == 1 and complaint in problems[0], problems


def test_lines_that_are_not_json_objects(tmp_path: Path) -> None:
    paths = _write(tmp_path, [], [])
    paths["train"].write_text('{"id": "es-0001",\n[1, 2]\n\n', encoding="utf-8")
    _, problems = load(paths)
    assert [p.split(": ", 1)[1][:8] for p in problems] == ["not JSON", "not a JS"]


def test_duplicates_and_texts_shared_by_the_splits(tmp_path: Path) -> None:
    paths = _write(tmp_path,
                   [_msg("es-0001", "¿Dónde está la factura?"), _msg("es-0001", "otra cosa")],
                   [_msg("es-0002", "donde esta la FACTURA"), _msg("en-0001", "??"),
                    _msg("en-0002", "🙂🙂")])
    _, problems = load(paths)
    assert "id es-0001 used 2 times" in problems
    assert "text of es-0001 and es-0002 is the same, in both splits" in problems
    assert len(problems) == 2  # "??" and an emoji-only line are different texts


def test_a_catalogue_phrase_copied_into_a_message(tmp_path: Path) -> None:
    paths = _write(tmp_path,
                   [_msg("es-0001", "Buenas. Quisiera aumentar el límite de mi tarjeta de "
                                    "crédito, gracias", intent="card_limit"),
                    _msg("en-0001", "quisiera aumentar el limite de mi tarjeta de credito",
                         intent="card_limit")], [])
    _, problems = load(paths)
    # the Spanish phrase counts in Spanish messages only
    assert problems == ["es-0001 reuses the card_limit example "
                        "'Quisiera aumentar el límite de mi tarjeta de crédito'"]


def test_the_guide_carries_the_current_counts(shipped: tuple[list[Message], list[str]]) -> None:
    messages, _ = shipped
    guide = (SPLITS["train"].parent / "GUIDE.md").read_text(encoding="utf-8")
    assert table(messages) in guide, "re-run check.py and paste its output into GUIDE.md"
    assert shares(messages) in guide
