"""Recorded calls through the API and the worker: uploaded (credentials before the body, a
size cap, streamed to disk), transcribed into a ``call.transcribed`` event on the customer's
timeline, searchable, failed with a reason on bad audio, erased with the customer."""

from __future__ import annotations

import io
import wave
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from circulo.speech import service
from circulo.speech.model import Transcript
from circulo.speech.worker import JOB_LEASE, SpeechWorker
from tests.conftest import assert_problem, make_key, ok
from tests.speech.audio import needs_espeak, spoken, wer
from tests.speech.conftest import Speech
from tests.speech.fake_whisper import fake_whisper

SAID = "Hello, I want to cancel my contract because the router keeps failing."
PHONE = "+34600111222"
WAV = {"Content-Type": "audio/wav"}


def upload(speech: Speech, audio: bytes, *, status: int = 202, **query: Any) -> Any:
    params = {"language": "en", "phone": PHONE, "call_id": "CALL-1", **query}
    response = speech.api.post("/v1/recordings", params=params, content=audio, headers=WAV)
    return ok(response, status) if status < 400 else response


def silent_wav(frames: int = 0) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(16000)
        wav.writeframes(b"\x00\x00" * frames)
    return out.getvalue()


def timeline(speech: Speech, customer_id: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = ok(speech.api.get(
        f"/v1/customers/{customer_id}/timeline"))["events"]
    return events


@needs_espeak
def test_a_recorded_call_becomes_a_transcribed_event_and_is_searchable(speech: Speech
                                                                        ) -> None:
    created = upload(speech, spoken(SAID))
    assert created["status"] == "pending" and created["call_id"] == "CALL-1"
    customer = created["customer_id"]
    recorded = timeline(speech, customer)
    assert [e["type"] for e in recorded] == ["call.recorded"]
    assert recorded[0]["properties"]["recording_id"] == created["id"]
    assert speech.files() == [created["id"]]

    assert speech.run() == 1
    recording = ok(speech.api.get(f"/v1/recordings/{created['id']}"))
    assert recording["status"] == "transcribed" and recording["engine"] == \
        "faster-whisper:tiny.en"
    assert wer(SAID, recording["transcript"]) <= 0.25, recording["transcript"]
    starts = [s["start"] for s in recording["segments"]]
    assert starts and starts == sorted(starts)

    events = timeline(speech, customer)
    transcribed = next(e for e in events if e["type"] == "call.transcribed")
    properties = transcribed["properties"]
    assert properties["recording_id"] == created["id"]
    assert properties["text"] == recording["transcript"]
    assert properties["segments"] == recording["segments"]
    assert properties["language"] == "en" and properties["duration"] > 2
    assert properties["engine"] == "faster-whisper:tiny.en"

    found = ok(speech.api.get("/v1/recordings", params={"q": "CONTRACT"}))
    assert found["total"] == 1 and found["items"][0]["id"] == created["id"]
    assert ok(speech.api.get("/v1/recordings", params={"q": "refund"}))["total"] == 0
    assert ok(speech.api.get("/v1/recordings", params={"q": "%"}))["total"] == 0
    mine = ok(speech.api.get("/v1/recordings", params={"customer_id": customer}))
    assert mine["total"] == 1


def test_credentials_are_checked_before_the_body(make_speech: Any) -> None:
    speech = make_speech(speech_max_upload_bytes=2048)
    response = speech.api.client.post("/v1/recordings", params={"language": "en",
                                                                "phone": PHONE},
                                      content=b"x" * 100_000, headers=WAV)
    assert_problem(response, 401, "unauthorized")  # not 413: the body was never read
    wrong = speech.api.client.post(
        "/v1/recordings", params={"language": "en", "phone": PHONE}, content=b"x" * 10,
        headers={**WAV, "Authorization": "Bearer " + make_key(speech.ctx, ["read"])})
    assert_problem(wrong, 403, "forbidden")
    assert speech.files() == []


def test_too_large_a_recording_is_refused_declared_or_not(make_speech: Any) -> None:
    speech = make_speech(speech_max_upload_bytes=2048)
    assert_problem(upload(speech, b"x" * 4096, status=413), 413, "payload_too_large")

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        for _ in range(10):
            yield b"x" * 1024

    response = speech.api.post("/v1/recordings", params={"language": "en", "phone": PHONE},
                               content=chunks(), headers=WAV)
    assert_problem(response, 413, "payload_too_large")
    assert speech.files() == []  # nothing half-written is kept
    assert ok(speech.api.get("/v1/recordings"))["total"] == 0


@pytest.mark.parametrize(("query", "headers", "body", "field"), [
    ({"language": "en"}, WAV, b"RIFF", "identifiers"),
    ({"phone": PHONE}, WAV, b"RIFF", "language"),
    ({"phone": PHONE, "language": "English"}, WAV, b"RIFF", "language"),
    ({"phone": PHONE, "language": "en"}, {"Content-Type": "text/html"}, b"<b>", "content-type"),
    ({"phone": PHONE, "language": "en"}, WAV, b"", "body"),
    ({"external_id": "nocolon", "language": "en"}, WAV, b"RIFF", "external_id"),
])
def test_bad_uploads_name_the_field(speech: Speech, query: dict[str, str],
                                    headers: dict[str, str], body: bytes, field: str) -> None:
    response = speech.api.post("/v1/recordings", params=query, content=body, headers=headers)
    problem = assert_problem(response, 422, "validation_failed")
    assert field in {e["field"] for e in problem["errors"]}
    assert speech.files() == []


@pytest.mark.parametrize(("audio", "reason"), [
    (b"this is a text file, not audio" * 50, "bad_audio"),
    (silent_wav(0), "bad_audio"),
])
def test_bad_audio_fails_with_a_reason(speech: Speech, audio: bytes, reason: str) -> None:
    created = upload(speech, audio)
    assert speech.run() == 1
    recording = ok(speech.api.get(f"/v1/recordings/{created['id']}"))
    assert recording["status"] == "failed" and recording["reason"] == reason
    assert recording["detail"]
    assert [e["type"] for e in timeline(speech, created["customer_id"])] == ["call.recorded"]


def test_too_long_audio_fails(make_speech: Any) -> None:
    speech = make_speech(speech_max_seconds=2)
    created = upload(speech, silent_wav(16000 * 5))
    speech.run()
    recording = ok(speech.api.get(f"/v1/recordings/{created['id']}"))
    assert (recording["status"], recording["reason"]) == ("failed", "too_long")


def test_spanish_without_a_whisper_server_fails_naming_it(speech: Speech) -> None:
    created = upload(speech, silent_wav(16000), language="es")
    speech.run()
    recording = ok(speech.api.get(f"/v1/recordings/{created['id']}"))
    assert (recording["status"], recording["reason"]) == ("failed", "unsupported_language")
    assert "CIRCULO_SPEECH_HTTP_URL" in recording["detail"]


def test_spanish_through_the_whisper_server(make_speech: Any) -> None:
    with fake_whisper() as server:
        speech = make_speech(speech_http_url=server.url)
        created = upload(speech, silent_wav(16000), language="es")
        speech.run()
    recording = ok(speech.api.get(f"/v1/recordings/{created['id']}"))
    assert recording["status"] == "transcribed"
    assert recording["transcript"] == "Hola, quiero darme de baja."
    assert recording["engine"] == "http-whisper:whisper-1"
    assert server.forms[0]["file"] == silent_wav(16000)
    assert server.forms[0]["language"] == "es"


def test_a_refused_whisper_server_fails_the_recording(make_speech: Any) -> None:
    with fake_whisper() as server:
        speech = make_speech(speech_http_url=server.url, egress_allow=[])
        created = upload(speech, silent_wav(16000), language="es")
        speech.run()
        assert server.forms == []
    recording = ok(speech.api.get(f"/v1/recordings/{created['id']}"))
    assert (recording["status"], recording["reason"]) == ("failed", "unavailable")
    assert "CIRCULO_EGRESS_ALLOW" in recording["detail"]


class Broken:
    name = "broken"

    def transcribe(self, audio: Any, *, language: str) -> Transcript:
        raise RuntimeError("a bug in an engine")


def test_an_unexpected_error_is_retried_then_failed_never_stuck(speech: Speech) -> None:
    created = upload(speech, silent_wav(16000))
    worker = SpeechWorker(speech.ctx, transcribers=lambda settings, language: Broken())
    assert worker.run_until_idle() == service.MAX_ATTEMPTS + 1
    recording = ok(speech.api.get(f"/v1/recordings/{created['id']}"))
    assert (recording["status"], recording["reason"]) == ("failed", "attempts")
    worker.release()


@needs_espeak
def test_a_recording_abandoned_by_a_dead_worker_is_taken_again(speech: Speech) -> None:
    created = upload(speech, spoken("Thank you for your help."))
    with speech.ctx.db.unit_of_work() as session:  # a worker claims it, then dies
        assert isinstance(service.claim(session, speech.ctx.clock.now(), JOB_LEASE),
                          service.Job)
    assert speech.run() == 0  # its lease still holds
    speech.ctx.clock.advance(JOB_LEASE + timedelta(seconds=1))  # type: ignore[attr-defined]
    assert speech.run() == 1
    recording = ok(speech.api.get(f"/v1/recordings/{created['id']}"))
    assert recording["status"] == "transcribed" and "help" in recording["transcript"].lower()


@needs_espeak
def test_erasing_the_customer_removes_recordings_and_files(speech: Speech) -> None:
    created = upload(speech, spoken("Please call me back tomorrow."))
    other = upload(speech, silent_wav(16000), phone="+34600999888")
    speech.run()
    assert len(speech.files()) == 2
    erased = ok(speech.api.delete(f"/v1/customers/{created['customer_id']}"))
    assert erased["removed"]["recordings"] == 1
    assert speech.files() == [other["id"]]
    assert_problem(speech.api.get(f"/v1/recordings/{created['id']}"), 404, "not_found")
    assert ok(speech.api.get("/v1/recordings"))["total"] == 1
    # The erased person's phone no longer brings a recording in.
    refused = upload(speech, silent_wav(16000), status=422)
    assert refused.json()["errors"][0]["code"] == "erased_identifier"
    assert speech.files() == [other["id"]]


def test_the_audio_is_served_with_ranges_to_reviewers_only(speech: Speech) -> None:
    audio = silent_wav(16000)
    created = upload(speech, audio)
    whole = speech.api.get(f"/v1/recordings/{created['id']}/audio")
    assert whole.status_code == 200 and whole.content == audio
    assert whole.headers["content-type"] == "audio/wav"
    assert whole.headers["x-content-type-options"] == "nosniff"
    part = speech.api.get(f"/v1/recordings/{created['id']}/audio",
                          headers={"Range": "bytes=0-99"})
    assert part.status_code == 206 and part.content == audio[:100]
    ingest_only = {"Authorization": "Bearer " + make_key(speech.ctx, ["ingest"])}
    assert_problem(speech.api.client.get(f"/v1/recordings/{created['id']}/audio",
                                         headers=ingest_only), 403, "forbidden")
    assert_problem(speech.api.client.get(f"/v1/recordings/{created['id']}/audio"),
                   401, "unauthorized")
    assert_problem(speech.api.get("/v1/recordings/nope/audio"), 404, "not_found")


def test_the_list_is_paged_and_bounded(speech: Speech) -> None:
    for _ in range(3):
        upload(speech, silent_wav(100))
    page = ok(speech.api.get("/v1/recordings", params={"limit": 2, "offset": 1}))
    assert page["total"] == 3 and len(page["items"]) == 2
    assert_problem(speech.api.get("/v1/recordings", params={"limit": 1000}), 422,
                   "validation_failed")
    assert_problem(speech.api.get("/v1/recordings", params={"status": "lost"}), 422,
                   "validation_failed")


def test_the_customer_export_lists_their_recordings(speech: Speech) -> None:
    created = upload(speech, silent_wav(1600))
    upload(speech, silent_wav(1600), phone="+34600999888")
    exported = ok(speech.api.get(f"/v1/customers/{created['customer_id']}/export"))
    assert [r["id"] for r in exported["recordings"]] == [created["id"]]
    assert exported["recordings"][0]["audio_url"] == f"/v1/recordings/{created['id']}/audio"


def test_a_long_call_keeps_its_whole_transcript_and_sends_what_fits(make_speech: Any
                                                                    ) -> None:
    segments = [{"start": i * 2.0, "end": i * 2.0 + 2, "text": f" sentence number {i} said."}
                for i in range(1500)]
    with fake_whisper() as server:
        server.answer = {"duration": 10_000.0, "text": "", "segments": segments}
        speech = make_speech(speech_http_url=server.url, speech_max_seconds=20_000)
        created = upload(speech, silent_wav(1600), language="es")
        speech.run()
    recording = ok(speech.api.get(f"/v1/recordings/{created['id']}"))
    assert recording["status"] == "transcribed" and len(recording["segments"]) == 1500
    event = next(e for e in timeline(speech, created["customer_id"])
                 if e["type"] == "call.transcribed")["properties"]
    assert event["truncated"] is True
    assert event["text"] == recording["transcript"]  # the text whole: the analysis reads it
    assert 0 < len(event["segments"]) < 1500
    assert event["segments"] == recording["segments"][:len(event["segments"])]


@pytest.mark.parametrize("text", ["a" * 200_000, "é\n\"" * 60_000])
def test_a_transcript_longer_than_an_event_is_cut(text: str) -> None:
    import orjson

    properties = service.bounded({"text": text, "segments": [{"start": 0, "end": 1,
                                                              "text": text}],
                                  "recording_id": "r1"}, 60_000)
    assert len(orjson.dumps(properties)) <= 60_000
    assert properties["truncated"] is True and properties["segments"] == []
    assert text.startswith(properties["text"]) and len(properties["text"]) > 10_000
    small = {"text": "hi", "segments": [], "recording_id": "r1"}
    assert service.bounded(small, 60_000) is small


def test_a_shared_phone_alone_does_not_say_whose_call_it_is(speech: Speech) -> None:
    family = "+34934001122"
    for crm, email in (("C-1", "jordi@example.cat"), ("C-2", "montse@example.cat")):
        speech.api.send({"type": "customer.updated", "source": "crm", "id": crm,
                         "identifiers": {"phone": family, "email": email,
                                         "external_ids": {"crm": crm}}})
    refused = upload(speech, silent_wav(1600), status=422, phone=family)
    assert refused.json()["errors"][0]["code"] == "ambiguous_customer"
    assert speech.files() == []
    assert ok(speech.api.get("/v1/recordings"))["total"] == 0
    named = upload(speech, silent_wav(1600), phone=family, external_id="crm:C-2")
    assert named["status"] == "pending"


@pytest.mark.parametrize(("value", "status"), [
    ("bytes=abc", 400), ("bytes=", 400), ("bytes=5-1", 400), ("items=0-1", 400),
    ("bytes=0x10-", 400), ("bytes=-0", 416), ("bytes=99999999999999999999-", 416),
    ("bytes=40000-", 416)])
def test_a_bad_range_is_a_problem_not_plain_text(speech: Speech, value: str,
                                                 status: int) -> None:
    """Starlette answers a malformed or unsatisfiable Range in text/plain; the API's
    refusals are problem+json, and a 416 says the size (Content-Range: bytes */size)."""
    audio = silent_wav(16000)
    created = upload(speech, audio)
    refused = speech.api.get(f"/v1/recordings/{created['id']}/audio",
                             headers={"Range": value})
    assert_problem(refused, status, "invalid_range" if status == 400 else
                   "range_not_satisfiable")
    if status == 416:
        assert refused.headers["content-range"] == f"bytes */{len(audio)}"


def test_a_content_length_of_thousands_of_digits_is_too_large_not_a_500(speech: Speech) -> None:
    """``int`` refuses more than 4,300 digits: the declared length was a 500."""
    length = b"1" + b"0" * 5000
    refused = speech.api.post("/v1/recordings", params={"language": "en", "phone": PHONE},
                              content=b"RIFF", headers={**WAV, "Content-Length": length})
    assert_problem(refused, 413, "payload_too_large")
    refused = speech.api.post("/v1/text/analyze", content=b"{}", headers={
        "Content-Type": "application/json", "Content-Length": length})
    assert_problem(refused, 413, "payload_too_large")
