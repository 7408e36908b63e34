"""What an analysed message leads to. Pure: the stored event and its ``Analysis`` in, the
derived ``text.analyzed`` event and the signal for the customer's waiting task out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from circulo.text.model import Analysis

DERIVED_TYPE = "text.analyzed"
DERIVED_SOURCE = "circulo"
# The channel a message came in on, when its sender did not say.
CHANNEL_OF_TYPE = {"chat": "chat", "email": "email", "sms": "sms", "call": "voice",
                   "whatsapp": "whatsapp", "survey": "other"}
WRITTEN = frozenset({"chat", "email", "sms", "whatsapp", "social"})  # a task can wait on these


@dataclass(frozen=True, slots=True)
class Message:
    """A stored event with text, as the worker read it."""

    event_id: str
    type: str
    channel: str | None
    customer_id: str | None
    occurred_at: datetime


@dataclass(frozen=True, slots=True)
class TaskSignal:
    """What the analysis tells routing about the customer's waiting task on ``channel``."""

    customer_id: str
    channel: str
    urgent: bool
    sentiment: str
    reasons: tuple[str, ...]
    intent: str | None
    queue: str | None  # move there (a confident intent of an e-mail), if the policy has it
    skill: str | None


def channel_of(message: Message) -> str:
    if message.channel:
        return message.channel
    return CHANNEL_OF_TYPE.get(message.type.split(".", 1)[0], "other")


def derived_event(message: Message, analysis: Analysis) -> dict[str, Any] | None:
    """The ``text.analyzed`` event for the customer (journeys, webhooks, indicators), with
    an id made from the source event's, so redoing a batch never records it twice."""
    if message.customer_id is None:
        return None
    return {
        "type": DERIVED_TYPE, "source": DERIVED_SOURCE, "id": f"text:{message.event_id}",
        "occurred_at": message.occurred_at.isoformat(), "channel": channel_of(message),
        "identifiers": {"customer_id": message.customer_id},
        "properties": properties(message, analysis),
    }


def properties(message: Message, analysis: Analysis) -> dict[str, Any]:
    return {
        "source_event_id": message.event_id, "source_event_type": message.type,
        "channel": channel_of(message), "language": analysis.language,
        # "sentiment" is the label: what the console's angry-customer alert reads
        "sentiment": analysis.sentiment.label,
        "sentiment_score": round(analysis.sentiment.score, 3),
        "urgent": analysis.urgency.urgent, "reasons": list(analysis.urgency.reasons),
        "intent": analysis.intent.name,
        "intent_confidence": round(analysis.intent.confidence, 3),
        "engine": analysis.engine,
    }


def task_signal(message: Message, analysis: Analysis, min_confidence: float
                ) -> TaskSignal | None:
    """The signal for a waiting task: only written channels (a call is over once its
    transcript exists). The intent moves only an e-mail, and only when confident."""
    channel = channel_of(message)
    if message.customer_id is None or channel not in WRITTEN:
        return None
    intent = analysis.intent
    confident = intent.name is not None and intent.confidence >= min_confidence
    steer = confident and channel == "email"
    return TaskSignal(
        customer_id=message.customer_id, channel=channel, urgent=analysis.urgency.urgent,
        sentiment=analysis.sentiment.label, reasons=analysis.urgency.reasons,
        intent=intent.name if confident else None,
        queue=intent.queue if steer else None, skill=intent.skill if steer else None)
