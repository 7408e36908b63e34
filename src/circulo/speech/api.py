"""Recorded calls (``/v1/recordings``) and IVR prompts (``/v1/speech/synthesize``). Thin:
check, stream, call the service."""

from __future__ import annotations

import contextlib
import os
import re
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse, Response
from pydantic import ValidationError as PydanticError
from starlette.concurrency import run_in_threadpool
from starlette.responses import MalformedRangeHeader, RangeNotSatisfiable

from circulo.api_deps import declared_over, get_ctx, parse_json, read_body, require
from circulo.auth.service import Principal
from circulo.context import AppContext
from circulo.errors import (
    CirculoError,
    NotFound,
    PayloadTooLarge,
    ValidationFailed,
    problem_response,
    validation_errors,
)
from circulo.ids import new_id
from circulo.speech import service
from circulo.speech.engines import synthesizer_for
from circulo.speech.model import SpeechError
from circulo.speech.models import STATUSES
from circulo.speech.schemas import RecordingOut, RecordingPage, SynthesizeIn
from circulo.speech.worker import worker_of

router = APIRouter(prefix="/v1", tags=["speech"])

AUDIO_TYPES = re.compile(r"^(audio/[a-z0-9.+-]+|video/(mp4|webm|ogg)|application/octet-stream)$")
READ_ACCESS = ("Scope `read` for an API key; a signed-in user needs a supervisor's or an "
               "administrator's role (quality review). ")
SYNTHESIS_BODY_BYTES = 16 * 1024


def reviewer(principal: Principal = Depends(require("read"))) -> Principal:
    if principal.user_id is not None:
        principal.require("routing")  # the scope only supervisors' and admins' sessions have
    return principal


def _invalid(field: str, code: str, detail: str) -> ValidationFailed:
    return ValidationFailed(f"{field}: {detail}",
                            errors=[{"field": field, "code": code, "detail": detail}])


def _identifiers(customer_id: str | None, phone: str | None, email: str | None,
                 external_id: str | None, account: str | None) -> dict[str, Any]:
    identifiers: dict[str, Any] = {}
    if customer_id:
        identifiers["customer_id"] = customer_id
    if phone:
        identifiers["phone"] = phone
    if email:
        identifiers["email"] = email
    if account:
        identifiers["account"] = account
    if external_id:
        namespace, _, value = external_id.partition(":")
        if not namespace or not value:
            raise _invalid("external_id", "invalid_external_id",
                           "namespace:id, e.g. crm:C-1")
        identifiers["external_ids"] = {namespace: value}
    if not identifiers:
        raise _invalid("identifiers", "missing",
                       "name the customer: customer_id, phone, email, external_id or account")
    return identifiers


async def _save_body(request: Request, path: Path, limit: int) -> int:
    """The body streamed to ``path`` (never held whole in memory), refused past ``limit``
    bytes whether or not a Content-Length was declared."""
    if declared_over(request.headers.get("content-length"), limit):
        raise PayloadTooLarge(f"the recording exceeds {limit} bytes", limit=limit)
    size = 0
    handle = await run_in_threadpool(open, path, "xb")
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise PayloadTooLarge(f"the recording exceeds {limit} bytes", limit=limit)
            await run_in_threadpool(handle.write, chunk)
    finally:
        await run_in_threadpool(handle.close)
    return size


@router.post(
    "/recordings", status_code=202, response_model=RecordingOut,
    summary="Upload a recorded call for transcription",
    description=(
        "The body is the audio itself (WAV, MP3, OGG/Opus, FLAC, M4A, WebM: what FFmpeg "
        "decodes), with its `Content-Type` (`audio/*`, or `application/octet-stream`), at "
        "most `CIRCULO_SPEECH_MAX_UPLOAD_BYTES` (50 MB; 413 beyond, counted as it arrives). "
        "The query names the customer (as in `POST /v1/events`: `customer_id`, `phone`, "
        "`email`, `external_id` as `namespace:id`, `account`), the `language` spoken and "
        "optionally the `call_id`. A `call.recorded` event goes on the customer's timeline "
        "now; the recording is transcribed in the background (English offline with tiny.en; "
        "other languages need the Whisper server of `CIRCULO_SPEECH_HTTP_URL`), then a "
        "`call.transcribed` event (properties: text, segments, recording_id, language, "
        "duration, engine) is ingested for the customer and analysed like any message. Audio "
        "that cannot be decoded, is too long or in a language nobody here transcribes ends "
        "`failed` with a `reason`. Scope `ingest`."),
    openapi_extra={"requestBody": {"required": True, "content": {
        "audio/wav": {"schema": {"type": "string", "format": "binary"}},
        "audio/mpeg": {"schema": {"type": "string", "format": "binary"}},
        "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}})
async def upload_recording(
    request: Request,
    language: str = Query(pattern=r"^[a-z]{2,3}$", examples=["en"],
                          description="ISO 639-1 code of the language spoken: en, es..."),
    customer_id: str | None = Query(None, max_length=32),
    phone: str | None = Query(None, max_length=64, examples=["+34600111222"]),
    email: str | None = Query(None, max_length=254),
    external_id: str | None = Query(None, max_length=200, examples=["crm:C-1"]),
    account: str | None = Query(None, max_length=200),
    call_id: str | None = Query(None, max_length=200, description="The call or task id"),
    occurred_at: datetime | None = Query(None, description="When the call took place "
                                         "(ISO 8601); now by default"),
    ctx: AppContext = Depends(get_ctx),
    principal: Principal = Depends(require("ingest")),
) -> RecordingOut:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if not AUDIO_TYPES.fullmatch(content_type):
        raise _invalid("content-type", "not_audio",
                       "send the audio with an audio/* Content-Type (or "
                       "application/octet-stream)")
    new = service.NewRecording(
        language=language, call_id=call_id, occurred_at=occurred_at,
        identifiers=_identifiers(customer_id, phone, email, external_id, account))
    recording_id = new_id()
    path = service.folder(ctx.settings) / recording_id
    try:
        size = await _save_body(request, path, ctx.settings.speech_max_upload_bytes)
        if size == 0:
            raise _invalid("body", "empty", "the recording is empty")
        recording = await run_in_threadpool(_accept, ctx, new, recording_id, path, size,
                                            content_type, principal)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(path)
        raise
    worker_of(ctx).wake()
    return RecordingOut.of(recording)


def _accept(ctx: AppContext, new: service.NewRecording, recording_id: str, path: Path,
            size: int, content_type: str, principal: Principal) -> Any:
    with ctx.db.unit_of_work() as session:
        recording = service.accept(
            session, new, recording_id=recording_id, path=path, size=size,
            content_type=content_type, settings=ctx.settings, policies=ctx.policies,
            now=ctx.clock.now(), actor=f"key:{principal.name}")
        session.expunge(recording)
        return recording


@router.get(
    "/recordings", response_model=RecordingPage, summary="Search recorded calls",
    description="Newest first. `q` finds recordings whose transcript contains the words "
                "(case-insensitive, as written); `customer_id` those of a customer (and of "
                "the profiles merged into it); `status` those in a state. " + READ_ACCESS)
def list_recordings(
    q: str | None = Query(None, max_length=200, examples=["cancel"]),
    customer_id: str | None = Query(None, max_length=32),
    status: str | None = Query(None, pattern="^(" + "|".join(STATUSES) + ")$"),
    limit: int = Query(20, ge=1, le=service.MAX_PAGE),
    offset: int = Query(0, ge=0, le=100_000),
    ctx: AppContext = Depends(get_ctx), _: Principal = Depends(reviewer),
) -> RecordingPage:
    with ctx.db.unit_of_work(write=False) as session:
        rows, total = service.search(session, text=q, customer_id=customer_id, status=status,
                                     limit=limit, offset=offset)
        items = [RecordingOut.of(r) for r in rows]
    return RecordingPage(total=total, limit=limit, offset=offset, items=items)


@router.get(
    "/recordings/{recording_id}", response_model=RecordingOut, summary="A recorded call",
    description="With its timestamped transcript (`segments`) and, once the analysis "
                "worker has read it, the transcript's sentiment, urgency and intent. "
                + READ_ACCESS)
def get_recording(recording_id: str, ctx: AppContext = Depends(get_ctx),
                  _: Principal = Depends(reviewer)) -> RecordingOut:
    with ctx.db.unit_of_work(write=False) as session:
        recording = service.get(session, recording_id)
        return RecordingOut.of(recording, full=True,
                               analysis=service.analysis_of(session, recording))


@router.get(
    "/recordings/{recording_id}/audio", summary="The audio of a recorded call",
    response_class=FileResponse,
    responses={200: {"content": {"audio/*": {}}, "description": "The audio as uploaded"},
               206: {"description": "The requested byte range (`Range: bytes=...`)"}},
    description="The file as uploaded, with its Content-Type; `Range` requests are "
                "answered (players seek). " + READ_ACCESS)
def get_audio(recording_id: str, request: Request, ctx: AppContext = Depends(get_ctx),
              _: Principal = Depends(reviewer)) -> Response:
    with ctx.db.unit_of_work(write=False) as session:
        recording = service.get(session, recording_id)
        path, media_type = recording.path, recording.content_type
    if not Path(path).is_file():
        raise NotFound(f"the audio of recording '{recording_id}' is gone",
                               field="recording_id")
    refused = _bad_range(request, Path(path))
    if refused is not None:
        return refused
    return FileResponse(path, media_type=media_type, content_disposition_type="inline",
                        filename=f"recording-{recording_id}",
                        headers={"Cache-Control": "private, no-store",
                                 "X-Content-Type-Options": "nosniff"})


class InvalidRange(CirculoError):
    status, code, title = 400, "invalid_range", "Malformed Range header"


class RangeNotSatisfied(CirculoError):
    status, code, title = 416, "range_not_satisfiable", "Range not satisfiable"


def _bad_range(request: Request, path: Path) -> Response | None:
    """A malformed or unsatisfiable ``Range`` as problem+json: FileResponse would answer
    it in text/plain. The same parser FileResponse uses, so both agree on what is valid."""
    asked = request.headers.get("range")
    if asked is None:
        return None
    size = path.stat().st_size
    try:
        FileResponse._parse_range_header(asked, size)
    except MalformedRangeHeader as exc:
        return problem_response(InvalidRange(exc.content, field="Range"), request)
    except RangeNotSatisfiable:
        response = problem_response(RangeNotSatisfied(
            f"the recording has {size} bytes", field="Range", size=size), request)
        response.headers["Content-Range"] = f"bytes */{size}"
        return response
    return None


@router.post(
    "/speech/synthesize", summary="Speak an IVR prompt",
    response_class=Response,
    responses={200: {"content": {"audio/wav": {"schema": {"type": "string",
                                                          "format": "binary"}}},
                     "description": "WAV, mono, 16-bit, 22,050 Hz"}},
    openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/SynthesizeIn"}}}}},
    description="`{\"text\", \"language\"}` → the prompt spoken by espeak-ng (`es`: "
                "Spanish voice, `en`: American English), as WAV. Text: 1 to 2,000 "
                "characters, no control characters. `circulo prompts synthesize` does the "
                "same for a file of prompts. Scope `read`.")
async def synthesize(request: Request, ctx: AppContext = Depends(get_ctx),
                     _: Principal = Depends(require("read"))) -> Response:
    body = await read_body(request, SYNTHESIS_BODY_BYTES)
    wav = await run_in_threadpool(_synthesize, ctx, body)
    return Response(wav, media_type="audio/wav")


def problem(exc: SpeechError) -> CirculoError:
    """A speech engine's refusal as the API answers it."""
    error = CirculoError(exc.detail, errors=exc.errors)
    error.status, error.code, error.title = exc.status, exc.code, exc.title
    return error


def _synthesize(ctx: AppContext, body: bytes) -> bytes:
    try:
        prompt = SynthesizeIn.model_validate(parse_json(body))
    except PydanticError as exc:
        errors = validation_errors(list(exc.errors()))
        raise ValidationFailed("Invalid value for: " + ", ".join(
            sorted({e["field"] for e in errors})), errors=errors) from None
    try:
        return synthesizer_for(ctx.settings).synthesize(prompt.text, language=prompt.language)
    except SpeechError as exc:
        raise problem(exc) from None


EXTRA_MODELS = (SynthesizeIn,)
