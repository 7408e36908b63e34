"""``POST /v1/text/analyze``: any text, read by the configured analyser (issue 17).

Thin: authenticate (before the body is read), bound and check the body, call the pure engine
(``circulo.text``) off the event loop, answer ``Analysis.as_dict()``. Nothing is stored.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from circulo.api_deps import get_ctx, parse_json, read_body, require
from circulo.auth.service import Principal
from circulo.context import AppContext
from circulo.errors import CirculoError, ValidationFailed
from circulo.text import language as languages
from circulo.text.engine import analyzer_for
from circulo.text.intents import IntentsError
from circulo.text.model import LANGUAGES, SENTIMENT_LABELS, URGENCY_REASONS, Analyzer
from circulo.text.prep import MAX_CHARS

router = APIRouter(prefix="/v1", tags=["text"])

MAX_TEXT_CHARS = 100_000  # accepted (a long e-mail); the first MAX_CHARS are analysed
BODY_LIMIT = 1024 * 1024  # bytes: the longest text, JSON-escaped, fits


class TextEngineUnavailable(CirculoError):
    status, code, title = 503, "text_engine_unavailable", "Text engine unavailable"


class SentimentOut(BaseModel):
    label: str = Field(description=f"One of {', '.join(SENTIMENT_LABELS)}")
    score: float = Field(description="Signed strength in [-1, 1]: -1 very negative, 1 very "
                                     "positive")


class UrgencyOut(BaseModel):
    urgent: bool
    reasons: list[str] = Field(description=f"Why, among {', '.join(URGENCY_REASONS)}")


class IntentOut(BaseModel):
    name: str | None = Field(description="The configured contact reason (CIRCULO_INTENTS_FILE)"
                                         ", or null when none is confident enough")
    confidence: float = Field(description="In [0, 1]")
    queue: str | None = Field(default=None, description="Where the reason's configuration "
                                                        "sends it")
    skill: str | None = Field(default=None, description="The skill it needs")


class TextAnalysisOut(BaseModel):
    language: str = Field(description="es, en, or und (empty, emoji only, too short)")
    sentiment: SentimentOut
    urgency: UrgencyOut
    intent: IntentOut
    redacted: str = Field(description="The text as analysed: HTML reduced to its text, the "
                          f"first {MAX_CHARS:,} characters, personal data masked ([CARD], "
                          "[IBAN], [DNI], [NIE], [EMAIL], [PHONE])")
    engine: str = Field(description="Which analyser answered, e.g. lexicon-1 or e5-small-1")


_EXAMPLE_IN = {"text": "Quisiera aumentar el límite de mi tarjeta de crédito 4111 1111 1111 "
                       "1111, por favor", "language": None}
_BODY = {"requestBody": {"required": True, "content": {"application/json": {
    "schema": {"type": "object", "required": ["text"], "additionalProperties": False,
               "properties": {
                   "text": {"type": "string", "maxLength": MAX_TEXT_CHARS,
                            "description": "Any text: a chat line, an SMS, an e-mail body (HTML "
                                           "is read as its visible text), a transcript"},
                   "language": {"type": ["string", "null"], "enum": [*LANGUAGES, None],
                                "description": "Forces the language instead of detecting "
                                               "it"}}},
    "examples": {"card_limit": {"summary": "A Spanish request with a card number",
                                "value": _EXAMPLE_IN},
                 "angry": {"summary": "An angry English e-mail",
                           "value": {"text": "THIRD time I write about my sofa. Useless. "
                                             "I'll take my business elsewhere!!!"}}}}}}}


def _analyzer(ctx: AppContext) -> Analyzer:
    try:
        return analyzer_for(ctx.settings.text_engine, ctx.settings.intents_file)
    except (ImportError, IntentsError, ValueError) as exc:
        raise TextEngineUnavailable(str(exc)) from exc


def _checked(payload: Any) -> tuple[str, str | None]:
    if not isinstance(payload, dict):
        raise ValidationFailed('the body must be an object: {"text": "..."}', errors=[
            {"field": "", "code": "type", "detail": "expected an object"}])
    unknown = sorted(set(payload) - {"text", "language"})
    if unknown:
        raise ValidationFailed(f"unknown field {unknown[0][:40]!r}", errors=[
            {"field": str(unknown[0])[:40], "code": "unknown",
             "detail": "unknown field (expected text, language)"}])
    text = payload.get("text")
    if "text" not in payload:
        raise ValidationFailed("text is required", errors=[
            {"field": "text", "code": "missing", "detail": "text is required"}])
    if not isinstance(text, str):
        raise ValidationFailed("text must be a string", errors=[
            {"field": "text", "code": "type", "detail": "expected a string"}])
    if len(text) > MAX_TEXT_CHARS:
        raise ValidationFailed(f"text is longer than {MAX_TEXT_CHARS:,} characters", errors=[
            {"field": "text", "code": "too_long",
             "detail": f"at most {MAX_TEXT_CHARS} characters ({len(text)} sent)"}])
    language = payload.get("language")
    if language is not None and not isinstance(language, str):
        raise ValidationFailed("language must be a string", errors=[
            {"field": "language", "code": "type", "detail": "expected a string or null"}])
    try:
        return text, languages.checked(language)
    except ValueError as exc:
        raise ValidationFailed(str(exc), errors=[
            {"field": "language", "code": "unsupported", "detail": str(exc)}]) from exc


@router.post(
    "/text/analyze", response_model=TextAnalysisOut,
    summary="Analyse a text: language, sentiment, urgency, contact reason, redaction",
    description=(
        "Reads any text as Círculo reads incoming e-mails, chats, SMS and transcripts, and "
        "stores nothing. `language` (`es` or `en`) forces the language; otherwise it is "
        "detected (`und` for empty, emoji-only or too short text). HTML is read as its "
        f"visible text; at most {MAX_TEXT_CHARS:,} characters are accepted and the first "
        f"{MAX_CHARS:,} analysed; personal data is masked in `redacted`. The intent is one of "
        "the configured contact reasons (`CIRCULO_INTENTS_FILE`) or null. The engine is "
        "`CIRCULO_TEXT_ENGINE` (docs/text-analysis.md). Scope `read`. 413 past 1 MB; 422 "
        "naming the field for a missing or non-string `text`, a text too long or an "
        "unsupported `language`; 400 for a body that is not JSON (or not UTF-8); 503 "
        "`text_engine_unavailable` when the configured engine cannot be built (the "
        "embeddings engine without the `nlp` extra)."),
    openapi_extra=_BODY,
    responses={503: {"description": "The configured text engine cannot be built (the `nlp` "
                                    "extra is missing, or the intents file is invalid): "
                                    "`text_engine_unavailable`, saying why",
                     "content": {"application/problem+json": {
                         "schema": {"$ref": "#/components/schemas/Problem"}}}}})
async def analyze_text(request: Request, ctx: AppContext = Depends(get_ctx),
                       _: Principal = Depends(require("read"))) -> dict[str, Any]:
    body = await read_body(request, min(BODY_LIMIT, ctx.settings.max_body_bytes))

    def analyse() -> dict[str, Any]:
        text, language = _checked(parse_json(body))
        return _analyzer(ctx).analyze(text, language=language).as_dict()

    return await run_in_threadpool(analyse)
