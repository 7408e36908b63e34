"""Credentials are checked from the headers before a body is read, and each door reads no more
than what its sender sends (issue 15, security 4). An attacker without a key or a signature
must not make the server parse or inflate megabytes."""

from __future__ import annotations

import gzip
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import orjson
import pytest
import yaml
from fastapi.testclient import TestClient
from twilio.request_validator import RequestValidator

from circulo.app import create_app
from circulo.clock import FixedClock
from circulo.config import Settings
from circulo.context import AppContext
from circulo.db import Database
from tests.conftest import assert_problem, make_key, wipe
from tests.live import live_server

TOKEN = "12345678901234567890123456789012"
PUBLIC = "https://circulo.example"
SMS = "/v1/channels/twilio/sms"
FORM = {"content-type": "application/x-www-form-urlencoded"}


@pytest.fixture
def client(database: Database, clock: FixedClock) -> Iterator[tuple[TestClient, AppContext]]:
    settings = Settings(database_url=database.url, twilio_auth_token=TOKEN, public_url=PUBLIC)
    ctx = AppContext.build(settings, clock, db=database)
    try:
        with TestClient(create_app(settings, ctx=ctx)) as test_client:
            yield test_client, ctx
    finally:
        wipe(database)


def big_form(megabytes: int) -> bytes:
    """A form as an attacker would send it: millions of tiny fields, each split and decoded."""
    return b"a=1&" * (megabytes * 256 * 1024)


def test_an_unsigned_30_mb_twilio_form_is_refused_without_parsing_it(
        client: tuple[TestClient, AppContext]) -> None:
    _, ctx = client
    app = create_app(ctx.settings, ctx=ctx)
    received: list[int] = []

    async def counting(scope: Any, receive: Any, send: Any) -> None:
        """The app, with every body byte it asks for counted."""
        async def counted() -> Any:
            message = await receive()
            received.append(len(message.get("body", b"")))
            return message

        await app(scope, counted, send)

    with TestClient(counting) as test_client:
        started = time.perf_counter()
        response = test_client.post(SMS, content=big_form(30), headers=FORM)
        elapsed = time.perf_counter() - started
    assert_problem(response, 403, "forbidden")
    # Parsing it took 6 s before; now the missing header is enough: no byte of it is read.
    assert sum(received) == 0, sum(received)
    assert elapsed < 5, elapsed  # loose: the test client itself still builds the 30 MB


def test_a_signed_body_larger_than_twilio_sends_is_a_413(
        client: tuple[TestClient, AppContext]) -> None:
    test_client, _ = client
    fields = {"MessageSid": "SM1", "From": "+34600111222", "To": "+34911222333",
              "Body": "x" * 100_000}
    signature = RequestValidator(TOKEN).compute_signature(PUBLIC + SMS, fields)
    response = test_client.post(SMS, content=urlencode(fields),
                                headers={**FORM, "X-Twilio-Signature": signature})
    body = assert_problem(response, 413, "payload_too_large")
    assert body["limit"] == 64 * 1024


def first_answer(base: str, head: bytes, sent: bytes = b"") -> bytes:
    """What a real server answers to a request of which only ``head`` and ``sent`` were
    sent: a server that waits for the rest of the body times out here (5 s)."""
    address = urlsplit(base)
    assert address.hostname and address.port
    with socket.create_connection((address.hostname, address.port), timeout=5) as sock:
        sock.sendall(head + sent)
        return sock.recv(4096)


def test_a_twilio_door_answers_413_while_the_body_is_still_arriving(database: Database) -> None:
    """On a real server: a chunked upload is refused once the cap is passed; the client never
    has to send the rest (a 30 MB upload would otherwise be read to the end)."""
    chunk = b"Body=" + b"x" * (128 * 1024)
    with live_server(database.url, CIRCULO_TWILIO_AUTH_TOKEN=TOKEN) as base:
        answer = first_answer(
            base, b"POST " + SMS.encode() + b" HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n"
            b"X-Twilio-Signature: forged\r\nTransfer-Encoding: chunked\r\n\r\n",
            b"%x\r\n%s\r\n" % (len(chunk), chunk))
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b"application/problem+json" in answer


@pytest.mark.parametrize(("path", "status"), [
    ("/v1/crm/hubspot/webhook", b"403"),  # no X-HubSpot-Signature-v3
    ("/v1/crm/salesforce/webhook?token=wrong", b"403"),
])
def test_crm_doors_refuse_unsigned_requests_before_their_body_arrives(
        database: Database, tmp_path: Path, path: str, status: bytes) -> None:
    connectors = {"connectors": {
        "hubspot": {"type": "hubspot", "event_types": ["call.wrapped_up"],
                    "config": {"access_token": "t", "client_secret": "s"}},
        "salesforce": {"type": "salesforce", "namespace": "sf",
                       "event_types": ["call.wrapped_up"], "config": {
            "instance_url": "https://aurora.my.salesforce.com", "auth": {"session_id": "x"},
            "inbound_token": "right", "organization_id": "00D5g000004Eqj3EAC"}}}}
    (tmp_path / "crm.yaml").write_text(yaml.safe_dump(connectors))
    with live_server(database.url, CIRCULO_CRM_CONNECTORS=str(tmp_path / "crm.yaml")) as base:
        answer = first_answer(base, b"POST " + path.encode() + b" HTTP/1.1\r\nHost: x\r\n"
                              b"Content-Type: application/json\r\n"
                              b"Content-Length: 30000000\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 " + status), answer[:200]


def test_a_wrong_segment_key_with_a_gzip_bomb_is_refused_before_inflating(
        client: tuple[TestClient, AppContext]) -> None:
    test_client, _ = client
    bomb = gzip.compress(b"[" + b"0," * 20_000_000 + b"0]", compresslevel=9)  # 40 MB inflated
    assert len(bomb) < 100_000
    started = time.perf_counter()
    response = test_client.post("/v1/batch", content=bomb, auth=("ck_abc_wrong", ""),
                                headers={"Content-Encoding": "gzip",
                                         "Content-Type": "application/json"})
    elapsed = time.perf_counter() - started
    # Before: inflated up to the 32 MB body limit, then 413; a bomb under it was parsed too.
    body = assert_problem(response, 401, "unauthorized")
    assert body["success"] is False
    assert elapsed < 0.5, elapsed


def test_a_segment_key_without_the_ingest_scope_is_refused_before_reading(
        client: tuple[TestClient, AppContext]) -> None:
    test_client, ctx = client
    read_only = make_key(ctx, ["read"])
    response = test_client.post("/v1/track", content=b"{not json", auth=(read_only, ""))
    assert_problem(response, 403, "forbidden")  # before: 400 malformed_json


def test_a_good_segment_key_with_a_gzip_bomb_gets_413_at_the_tracking_cap(
        client: tuple[TestClient, AppContext]) -> None:
    test_client, ctx = client
    key = make_key(ctx, ["ingest"])
    bomb = gzip.compress(b'{"batch": [' + b" " * 5_000_000 + b"]}")
    response = test_client.post("/v1/batch", content=bomb, auth=(key, ""),
                                headers={"Content-Encoding": "gzip"})
    body = assert_problem(response, 413, "payload_too_large")
    assert body["limit"] == 1024 * 1024


def test_a_write_key_in_the_body_still_works_within_the_tracking_cap(
        client: tuple[TestClient, AppContext]) -> None:
    test_client, ctx = client
    key = make_key(ctx, ["ingest"])
    message = {"userId": "u-1", "event": "Order Completed", "writeKey": key}
    response = test_client.post("/v1/track", content=orjson.dumps(message))
    assert response.status_code == 200, response.text
    too_big = {**message, "properties": {"note": "x" * (2 * 1024 * 1024)}}
    assert_problem(test_client.post("/v1/track", content=orjson.dumps(too_big)), 413,
                   "payload_too_large")
