"""Recorded calls: accepted for a customer (through ingest, which resolves who it is), queued
for transcription, transcribed into a ``call.transcribed`` event (through ingest again, so the
analysis worker, journeys and webhooks see it), searched, and erased with the customer."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import event as orm_event
from sqlalchemy.orm import Session

from circulo.config import Settings
from circulo.customers import service as customers
from circulo.customers.service import Policies
from circulo.errors import NotFound, ValidationFailed
from circulo.ingest import service as ingest
from circulo.ingest.schemas import MAX_PROPERTIES_BYTES, IngestResult
from circulo.speech import repository as repo
from circulo.speech.model import Transcript
from circulo.speech.models import FAILED, PENDING, PROCESSING, TRANSCRIBED, Recording

SOURCE = "circulo-speech"  # the source of the events this package ingests
RECORDED, TRANSCRIBED_EVENT = "call.recorded", "call.transcribed"
MAX_ATTEMPTS = 3  # an unexpected error is retried this many times, then the recording fails
MAX_PAGE = 100


@dataclass(frozen=True, slots=True)
class NewRecording:
    """What a client says about a recording it uploads (checked by the API)."""

    language: str
    identifiers: Mapping[str, Any]  # ingest's identifiers: customer_id, phone, email...
    call_id: str | None = None
    occurred_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Job:
    """A recording claimed for transcription."""

    recording_id: str
    path: Path
    language: str
    attempts: int


@dataclass(frozen=True, slots=True)
class AnalysisSummary:
    """What the text analysis of a transcript concluded (its ``text.analyzed`` event)."""

    sentiment: str | None
    score: float | None
    urgent: bool
    reasons: tuple[str, ...]
    intent: str | None

    def as_json(self) -> dict[str, Any]:
        return {"sentiment": self.sentiment, "score": self.score, "urgent": self.urgent,
                "reasons": list(self.reasons), "intent": self.intent}


def folder(settings: Settings) -> Path:
    """Where recordings are kept: ``<data_dir>/recordings``, readable by this user only."""
    path = (settings.data_dir / "recordings").resolve()
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def _ingested(result: IngestResult, what: str) -> str:
    """The customer an ingested event went to; ValidationFailed naming the fields."""
    if result.errors:
        raise ValidationFailed(f"the {what} was refused; see errors",
                               errors=result.problem_items())
    outcome = result.results[0]
    if outcome.status == "suppressed":
        raise ValidationFailed(
            "the customer's identifiers belong to an erased person: the recording is not "
            "kept", errors=[{"field": "identifiers", "code": "erased_identifier",
                             "detail": "an identifier of an erased person"}])
    if outcome.customer_id is None:  # a shared identifier only: whose call is it?
        raise ValidationFailed(
            "the identifiers match several customers (or none that can be told apart): "
            "name the customer with customer_id", errors=[{
                "field": "identifiers", "code": "ambiguous_customer",
                "detail": "a shared identifier alone; add customer_id or another identifier"}])
    return outcome.customer_id


def accept(session: Session, new: NewRecording, *, recording_id: str, path: Path, size: int,
           content_type: str, settings: Settings, policies: Policies, now: datetime,
           actor: str) -> Recording:
    """The recording's row, pending, for the customer the identifiers resolve to; a
    ``call.recorded`` event on their timeline. The file is already at ``path``."""
    properties: dict[str, Any] = {"recording_id": recording_id, "language": new.language,
                                  "bytes": size}
    if new.call_id:
        properties["call_id"] = new.call_id
    recorded = {"type": RECORDED, "source": SOURCE, "id": f"recording:{recording_id}",
                "channel": "voice", "identifiers": dict(new.identifiers),
                "properties": properties}
    if new.occurred_at is not None:
        recorded["occurred_at"] = new.occurred_at.isoformat()
    result = ingest.ingest(session, recorded, settings=settings, policies=policies, now=now,
                           actor=actor)
    customer_id = _ingested(result, "customer")
    recording = Recording(
        id=recording_id, customer_id=customer_id, call_id=new.call_id, language=new.language,
        path=str(path), content_type=content_type, size=size, status=PENDING, attempts=0,
        recorded_event_id=result.results[0].event_id, created_at=now, updated_at=now)
    repo.add(session, recording)
    return recording


def any_due(session: Session, now: datetime) -> bool:
    return repo.any_due(session, now)


def claim(session: Session, now: datetime, lease: timedelta) -> Job | Recording | None:
    """The next recording to transcribe, marked processing until ``now + lease``; or, when
    it was already tried ``MAX_ATTEMPTS`` times, the recording, marked failed."""
    recording = repo.next_due(session, now)
    if recording is None:
        return None
    if recording.attempts >= MAX_ATTEMPTS:
        _mark_failed(recording, "attempts", f"gave up after {recording.attempts} attempts",
                     now)
        return recording
    recording.status = PROCESSING
    recording.attempts += 1
    recording.lease_until = now + lease
    recording.updated_at = now
    return Job(recording.id, Path(recording.path), recording.language, recording.attempts)


def _mark_failed(recording: Recording, reason: str, detail: str, now: datetime) -> None:
    recording.status = FAILED
    recording.reason = reason[:32]
    recording.detail = detail[:500]
    recording.lease_until = None
    recording.updated_at = now


def fail(session: Session, recording_id: str, reason: str, detail: str, now: datetime
         ) -> None:
    recording = repo.get(session, recording_id)
    if recording is not None:  # erased meanwhile: nothing to mark
        _mark_failed(recording, reason, detail, now)


def retry_later(session: Session, recording_id: str, now: datetime) -> None:
    """After an unexpected error: pending again (``claim`` gives up after MAX_ATTEMPTS)."""
    recording = repo.get(session, recording_id)
    if recording is not None and recording.status == PROCESSING:
        recording.status = PENDING
        recording.lease_until = None
        recording.updated_at = now


def complete(session: Session, recording_id: str, transcript: Transcript, *,
             settings: Settings, policies: Policies, now: datetime) -> str | None:
    """Store the transcript and ingest ``call.transcribed`` for the recording's customer;
    the event id, or None when the recording was erased meanwhile."""
    recording = repo.get(session, recording_id)
    if recording is None:
        return None
    segments = transcript.segments_as_dicts()
    properties: dict[str, Any] = {
        "text": transcript.text, "segments": segments, "recording_id": recording.id,
        "language": transcript.language, "duration": transcript.duration,
        "engine": transcript.engine}
    if recording.call_id:
        properties["call_id"] = recording.call_id
    properties = bounded(properties, MAX_PROPERTIES_BYTES - 1024)
    result = ingest.ingest(session, {
        "type": TRANSCRIBED_EVENT, "source": SOURCE, "id": f"transcript:{recording.id}",
        "channel": "voice", "identifiers": {"customer_id": recording.customer_id},
        "properties": properties}, settings=settings, policies=policies, now=now,
        actor="speech")
    try:
        _ingested(result, "transcript")
    except ValidationFailed as exc:
        _mark_failed(recording, "not_ingested", exc.detail, now)
        return None
    recording.status = TRANSCRIBED
    recording.reason = recording.detail = None
    recording.lease_until = None
    recording.transcript = transcript.text
    recording.segments = segments
    recording.duration = transcript.duration
    recording.engine = transcript.engine
    recording.event_id = result.results[0].event_id
    recording.updated_at = now
    return recording.event_id


def bounded(properties: dict[str, Any], limit: int) -> dict[str, Any]:
    """The event's properties within ingest's size limit: a long call's segments (then, if
    need be, the end of its text) are left out, with ``truncated: true``; the recording
    keeps the whole transcript. The text comes first: it is what the analysis reads."""
    if len(orjson.dumps(properties)) <= limit:
        return properties
    base = {k: v for k, v in properties.items() if k not in ("text", "segments")}
    base["truncated"] = True
    room = limit - len(orjson.dumps({**base, "text": "", "segments": []}))
    text = str(properties["text"])
    encoded = orjson.dumps(text)
    if len(encoded) > room:  # cut by encoded size (escapes count), then check
        cut = text[:room]
        while len(orjson.dumps(cut)) > room:
            cut = cut[:len(cut) * 9 // 10]
        return {**base, "text": cut, "segments": []}
    room -= len(encoded)
    kept: list[Any] = []
    for segment in properties["segments"]:
        size = len(orjson.dumps(segment)) + 1
        if size > room:
            break
        kept.append(segment)
        room -= size
    return {**base, "text": text, "segments": kept}


def search(session: Session, *, text: str | None = None, customer_id: str | None = None,
           status: str | None = None, limit: int = 20, offset: int = 0
           ) -> tuple[list[Recording], int]:
    """Recordings newest first (a page of them, and how many match), by words said in them
    and by customer (with every profile merged into it)."""
    ids = customers.cluster_of(session, customers.active_root(session, customer_id).id) \
        if customer_id else None
    return repo.search(session, text=text.strip() if text else None, customer_ids=ids,
                       status=status, limit=min(limit, MAX_PAGE), offset=offset)


def get(session: Session, recording_id: str) -> Recording:
    recording = repo.get(session, recording_id)
    if recording is None:
        raise NotFound(f"recording '{recording_id}' does not exist", field="recording_id")
    return recording


def analysis_of(session: Session, recording: Recording) -> AnalysisSummary | None:
    """The analysis of the recording's transcript, once the analysis worker has made it:
    the customer's ``text.analyzed`` event that names the ``call.transcribed`` event."""
    if recording.event_id is None:
        return None
    try:
        root = customers.active_root(session, recording.customer_id).id
    except NotFound:
        return None
    for event in reversed(repo.analysis_events(session, customers.cluster_of(session, root),
                                               recording.created_at)):
        properties = event.properties or {}
        if recording.event_id in {str(v) for v in properties.values()
                                  if isinstance(v, str)}:
            return summarise(properties)
    return None


def summarise(properties: Mapping[str, Any]) -> AnalysisSummary:
    """Read the analysis wherever its event puts it: flat (``sentiment``, ``score``,
    ``urgent``, ``reasons``, ``intent``) or nested as ``Analysis.as_dict()``."""
    sentiment: Any = properties.get("sentiment")
    score = properties.get("sentiment_score", properties.get("score"))
    if isinstance(sentiment, Mapping):
        score = sentiment.get("score", score)
        sentiment = sentiment.get("label")
    urgency = properties.get("urgency")
    urgent = properties.get("urgent")
    reasons = properties.get("reasons")
    if isinstance(urgency, Mapping):
        urgent, reasons = urgency.get("urgent", urgent), urgency.get("reasons", reasons)
    intent = properties.get("intent", properties.get("intent_name"))
    if isinstance(intent, Mapping):
        intent = intent.get("name")
    return AnalysisSummary(
        sentiment=str(sentiment) if sentiment is not None else None,
        score=float(score) if isinstance(score, int | float) else None,
        urgent=bool(urgent),
        reasons=tuple(str(r) for r in reasons) if isinstance(reasons, list) else (),
        intent=str(intent) if intent is not None else None)


def export_of(session: Session, customer_ids: Sequence[str]) -> list[dict[str, Any]]:
    """A person's recordings for their data export (the audio is fetched by its URL)."""
    rows, _ = repo.search(session, text=None, customer_ids=customer_ids, status=None,
                          limit=100_000, offset=0)
    return [{"id": r.id, "call_id": r.call_id, "language": r.language, "status": r.status,
             "created_at": r.created_at.isoformat(), "duration": r.duration,
             "transcript": r.transcript, "segments": r.segments,
             "audio_url": f"/v1/recordings/{r.id}/audio"} for r in rows]


def erase(session: Session, customer_ids: Sequence[str], now: datetime) -> dict[str, int]:
    """Erasure: the customers' recordings and transcripts deleted; their audio files are
    removed once the transaction commits (a rolled-back erasure keeps them)."""
    paths = repo.delete_of(session, customer_ids)
    if paths:
        orm_event.listen(session, "after_commit", lambda _: remove_files(paths), once=True)
    return {"recordings": len(paths)}


def remove_files(paths: Sequence[str]) -> None:
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            os.remove(path)
