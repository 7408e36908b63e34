"""Checks the labelled set of customer messages (messages-train.jsonl, messages-test.jsonl)
and prints its counts per language and label, the table GUIDE.md carries.

    PYTHONPATH=src python bench/data/text/check.py

Exits 1 and lists every problem when a line breaks the schema: unknown channel, sentiment,
urgency code or intent (intents come from examples/text/intents.yaml), ``urgent`` not matching
its reasons, duplicate ids or texts, a text present in both splits, or a phrase of the intents
file reused verbatim in a message. tests/text/test_labelled_set.py runs the same checks.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import unicodedata
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from circulo.text.model import LANGUAGES, SENTIMENT_LABELS, URGENCY_REASONS

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
SPLITS = {"train": HERE / "messages-train.jsonl", "test": HERE / "messages-test.jsonl"}
INTENTS_FILE = ROOT / "examples" / "text" / "intents.yaml"
CHANNELS = ("email", "chat", "sms", "transcript", "survey")
FIELDS = ("id", "language", "channel", "text", "sentiment", "urgent", "urgency_reasons", "intent")
ID = re.compile(r"^(es|en)-\d{4}$")
MAX_TEXT = 5000  # characters: the set holds messages, not documents


@dataclass(frozen=True, slots=True)
class Message:
    id: str
    split: str
    language: str
    channel: str
    text: str
    sentiment: str
    urgent: bool
    urgency_reasons: tuple[str, ...]
    intent: str | None


def intent_catalogue(path: Path = INTENTS_FILE) -> dict[str, Any]:
    """name -> the reason's entry in the intents file."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return {entry["name"]: entry for entry in data["intents"]}


def _normal(text: str) -> str:
    """Lower case, accents and punctuation dropped, spaces collapsed: how "the same text" is
    compared (so "¿Dónde está?" and "donde esta" are one text)."""
    text = unicodedata.normalize("NFKD", text.lower())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    words = " ".join(re.findall(r"\w+", text))
    return words or text.strip()  # "??" or emoji only: the symbols are the text


def parse_line(raw: str, split: str, where: str, intents: set[str]) -> tuple[Message | None,
                                                                            list[str]]:
    """One JSON line -> the message, or None and what is wrong with it."""
    try:
        obj = json.loads(raw)
    except json.JSONDecodeError as exc:
        return None, [f"{where}: not JSON ({exc.msg})"]
    if not isinstance(obj, dict):
        return None, [f"{where}: not a JSON object"]
    errors: list[str] = []
    missing = [f for f in FIELDS if f not in obj]
    extra = sorted(set(obj) - set(FIELDS))
    if missing or extra:
        return None, [f"{where}: fields missing {missing} or unknown {extra}"]
    ident = obj["id"]
    if not isinstance(ident, str) or not ID.match(ident):
        errors.append(f"{where}: id {ident!r} is not like es-0001")
    elif obj["language"] in LANGUAGES and ident[:2] != obj["language"]:
        errors.append(f"{where}: id {ident} does not start with its language")
    if obj["language"] not in LANGUAGES:
        errors.append(f"{where}: language {obj['language']!r} not in {LANGUAGES}")
    if obj["channel"] not in CHANNELS:
        errors.append(f"{where}: channel {obj['channel']!r} not in {CHANNELS}")
    text = obj["text"]
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_TEXT:
        errors.append(f"{where}: text must be a non-empty string of at most {MAX_TEXT} chars")
    if obj["sentiment"] not in SENTIMENT_LABELS:
        errors.append(f"{where}: sentiment {obj['sentiment']!r} not in {SENTIMENT_LABELS}")
    reasons = obj["urgency_reasons"]
    if not isinstance(reasons, list) or any(r not in URGENCY_REASONS for r in reasons):
        errors.append(f"{where}: urgency_reasons {reasons!r} must be codes of {URGENCY_REASONS}")
    elif len(set(reasons)) != len(reasons):
        errors.append(f"{where}: urgency_reasons {reasons!r} repeat a code")
    elif not isinstance(obj["urgent"], bool) or obj["urgent"] != bool(reasons):
        errors.append(f"{where}: urgent must be true exactly when there are urgency_reasons")
    if obj["intent"] is not None and obj["intent"] not in intents:
        errors.append(f"{where}: intent {obj['intent']!r} is not a reason of the intents file")
    if errors:
        return None, errors
    return Message(id=ident, split=split, language=obj["language"], channel=obj["channel"],
                   text=text, sentiment=obj["sentiment"], urgent=obj["urgent"],
                   urgency_reasons=tuple(reasons), intent=obj["intent"]), []


def load(splits: dict[str, Path] = SPLITS, intents_file: Path = INTENTS_FILE,
         ) -> tuple[list[Message], list[str]]:
    """Every message of both splits and every problem found (empty when the set is sound)."""
    catalogue = intent_catalogue(intents_file)
    messages: list[Message] = []
    problems: list[str] = []
    for split, path in splits.items():
        for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not raw.strip():
                continue
            message, errors = parse_line(raw, split, f"{path.name}:{number}", set(catalogue))
            problems += errors
            if message is not None:
                messages.append(message)
    problems += cross_checks(messages, catalogue)
    return messages, problems


def cross_checks(messages: list[Message], catalogue: dict[str, Any]) -> list[str]:
    """What no single line shows: duplicate ids and texts, texts in both splits, phrases of
    the intents file copied into messages."""
    problems: list[str] = []
    for ident, n in Counter(m.id for m in messages).items():
        if n > 1:
            problems.append(f"id {ident} used {n} times")
    seen: dict[str, Message] = {}
    for m in messages:
        key = _normal(m.text)
        other = seen.get(key)
        if other is not None:
            where = "in both splits" if other.split != m.split else f"twice in {m.split}"
            problems.append(f"text of {other.id} and {m.id} is the same, {where}")
        else:
            seen[key] = m
    for name, entry in catalogue.items():
        for language, phrases in entry["examples"].items():
            for phrase in phrases:
                needle = f" {_normal(phrase)} "
                for m in messages:
                    if m.language == language and needle in f" {_normal(m.text)} ":
                        problems.append(f"{m.id} reuses the {name} example {phrase!r}")
    return problems


def counts(messages: list[Message]) -> list[tuple[str, dict[str, int]]]:
    """Rows (label, count per column) for the table: columns es/en × train/test and totals."""
    columns = [f"{lang} {split}" for lang in LANGUAGES for split in SPLITS] + list(LANGUAGES)

    def row(pred: Any) -> dict[str, int]:
        out = {}
        for lang in LANGUAGES:
            for split in SPLITS:
                out[f"{lang} {split}"] = sum(
                    1 for m in messages if m.language == lang and m.split == split and pred(m))
            out[lang] = out[f"{lang} train"] + out[f"{lang} test"]
        return {c: out[c] for c in columns}

    rows: list[tuple[str, dict[str, int]]] = [("messages", row(lambda m: True))]
    rows += [(f"sentiment {s}", row(lambda m, s=s: m.sentiment == s)) for s in SENTIMENT_LABELS]
    rows.append(("urgent", row(lambda m: m.urgent)))
    rows += [(f"urgency {r}", row(lambda m, r=r: r in m.urgency_reasons))
             for r in URGENCY_REASONS]
    names = sorted({m.intent for m in messages if m.intent is not None})
    rows += [(f"intent {n}", row(lambda m, n=n: m.intent == n)) for n in names]
    rows.append(("intent none (null)", row(lambda m: m.intent is None)))
    rows += [(f"channel {c}", row(lambda m, c=c: m.channel == c)) for c in CHANNELS]
    return rows


def table(messages: list[Message]) -> str:
    """The counts as a Markdown table."""
    rows = counts(messages)
    columns = list(rows[0][1])
    lines = ["| label | " + " | ".join(columns) + " |",
             "|---|" + "---:|" * len(columns)]
    lines += [f"| {label} | " + " | ".join(str(v[c]) for c in columns) + " |"
              for label, v in rows]
    return "\n".join(lines)


def shares(messages: list[Message]) -> str:
    """Per language: the sentiment, urgency, null-intent and test-split shares, in percent."""
    lines = []
    for lang in LANGUAGES:
        mine = [m for m in messages if m.language == lang]

        def pct(n: int, total: int = len(mine)) -> int:
            return round(100 * n / total) if total else 0

        sentiment = ", ".join(f"{pct(sum(m.sentiment == s for m in mine))} % {s}"
                              for s in SENTIMENT_LABELS)
        lines.append(f"- `{lang}`: {sentiment}; {pct(sum(m.urgent for m in mine))} % urgent; "
                     f"{pct(sum(m.intent is None for m in mine))} % `null` intent; "
                     f"test split {pct(sum(m.split == 'test' for m in mine))} %.")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.parse_args()
    messages, problems = load()
    print(table(messages))
    print()
    print(shares(messages))
    for problem in problems:
        print("PROBLEM:", problem, file=sys.stderr)
    print(f"\n{len(messages)} messages, {len(problems)} problems", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
