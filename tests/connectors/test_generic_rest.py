"""The generic REST CRM connector against a real in-house CRM on localhost (S2 to a CRM):
on wrap-up it finds or creates the contact, logs the call with its outcome, and Círculo
remembers the CRM's id."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import orjson
import pytest
import yaml
from fastapi.testclient import TestClient

from circulo.app import create_app
from circulo.clock import FixedClock
from circulo.config import Settings
from circulo.connectors.crm import CrmContact, CrmError
from circulo.connectors.generic_rest import GenericRestConfig, GenericRestConnector
from circulo.connectors.registry import ConnectorConfigError, load_connectors
from circulo.context import AppContext
from circulo.db import Database
from circulo.egress import EgressPolicy
from circulo.wiring import build_context
from tests.conftest import TEST_EGRESS_ALLOW, Api, make_key, ok, only_customer, wipe
from tests.connectors.helpers import drain, outbox
from tests.factories import customer, event


@dataclass
class InHouseCrm:
    """A tiny CRM with a REST API: contacts and their activities."""

    url: str = ""
    fail_with: int | None = None
    contacts: dict[str, dict[str, Any]] = field(default_factory=dict)
    activities: list[dict[str, Any]] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)


@pytest.fixture
def crm() -> Iterator[InHouseCrm]:
    state = InHouseCrm()

    class Handler(BaseHTTPRequestHandler):
        def _answer(self, status: int, body: Any) -> None:
            data = orjson.dumps(body)
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            state.calls.append(f"GET {parts.path}")
            if state.fail_with:
                return self._answer(state.fail_with, {"error": "down"})
            email = parse_qs(parts.query).get("email", [""])[0]
            found = [{"id": k} for k, c in state.contacts.items() if c.get("email") == email]
            return self._answer(200, {"results": found})

        def do_POST(self) -> None:
            body = orjson.loads(self.rfile.read(int(self.headers["content-length"])))
            state.calls.append(f"POST {self.path}")
            if state.fail_with:
                return self._answer(state.fail_with, {"error": "down"})
            if self.headers.get("authorization") != "Token s3cret":
                return self._answer(401, {"error": "who are you?"})
            if self.path == "/api/contacts":
                contact_id = f"K-{len(state.contacts) + 1}"
                state.contacts[contact_id] = body
                return self._answer(201, {"data": {"id": contact_id}})
            contact_id = self.path.split("/")[3]
            state.activities.append({"contact": contact_id, **body})
            return self._answer(201, {"data": {"id": f"A-{len(state.activities)}"}})

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/api"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield state
    server.shutdown()
    server.server_close()


def _config(tmp_path: Path, crm: InHouseCrm) -> Path:
    path = tmp_path / "crm.yaml"
    path.write_text(yaml.safe_dump({"connectors": {"intranet": {
        "type": "generic_rest", "event_types": ["call.wrapped_up"],
        "config": {
            "base_url": crm.url, "headers": {"Authorization": "Token ${INTRANET_TOKEN}"},
            "find_contact": {"method": "GET", "path": "/contacts",
                             "query": {"email": "{email}"}, "id_path": "$.results[0].id"},
            "create_contact": {"path": "/contacts", "id_path": "$.data.id", "body": {
                "full_name": "{name}", "email": "{email}", "phone": "{phone}",
                "circulo_id": "{customer_id}"}},
            "log_activity": {"path": "/contacts/{contact_id}/activities",
                             "id_path": "$.data.id", "body": {
                                 "type": "{kind}", "outcome": "{disposition}",
                                 "seconds": "{duration_seconds}", "notes": "{notes}",
                                 "at": "{occurred_at}", "circulo_event": "{event_id}"}},
        }}}}))
    return path


@pytest.fixture
def setup(database: Database, clock: FixedClock, tmp_path: Path, crm: InHouseCrm,
          monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Api, AppContext]]:
    monkeypatch.setenv("INTRANET_TOKEN", "s3cret")
    settings = Settings(database_url=database.url, crm_connectors=_config(tmp_path, crm),
                        egress_allow=TEST_EGRESS_ALLOW)
    ctx = build_context(settings, clock, db=database)
    try:
        with TestClient(create_app(settings, ctx=ctx)) as client:
            yield Api(client, make_key(ctx, ["admin"])), ctx
    finally:
        wipe(database)


def _wrap_up(n: int) -> dict[str, Any]:
    return event("call.wrapped_up", channel="voice", identifiers={"phone": "600123456"},
                 properties={"disposition": "resolved", "duration": 240, "notes": f"nota {n}",
                             "new_address": "C/ Mayor 1"})


def test_wrap_up_creates_the_contact_logs_the_call_and_remembers_the_crm_id(
        setup: tuple[Api, AppContext], crm: InHouseCrm) -> None:
    api, ctx = setup
    maria = only_customer(api.send(customer("CRM-1", phone="600123456",
                                            email="maria@example.es", name="María López")))
    api.send(_wrap_up(1))
    assert drain(ctx) == 1
    assert crm.contacts == {"K-1": {"full_name": "María López", "email": "maria@example.es",
                                    "phone": "+34600123456", "circulo_id": maria}}
    [activity] = crm.activities
    assert activity["contact"] == "K-1" and activity["type"] == "call"
    assert (activity["outcome"], activity["seconds"], activity["notes"]) == (
        "resolved", 240, "nota 1")
    identifiers = ok(api.get(f"/v1/customers/{maria}"))["identifiers"]
    assert {"kind": "external_id", "value": "intranet:K-1"} in [
        {"kind": i["kind"], "value": i["value"]} for i in identifiers]
    # Next time the CRM's id is known: no search, no second contact.
    crm.calls.clear()
    api.send(_wrap_up(2))
    drain(ctx)
    assert crm.calls == ["POST /api/contacts/K-1/activities"]
    assert len(crm.contacts) == 1 and len(crm.activities) == 2


def test_an_existing_crm_contact_is_found_not_duplicated(
        setup: tuple[Api, AppContext], crm: InHouseCrm) -> None:
    api, ctx = setup
    crm.contacts["K-77"] = {"email": "maria@example.es"}
    api.send(customer("CRM-1", phone="600123456", email="maria@example.es"))
    api.send(_wrap_up(1))
    drain(ctx)
    assert list(crm.contacts) == ["K-77"]
    assert crm.activities[0]["contact"] == "K-77"


def test_a_crm_that_is_down_gets_it_later(setup: tuple[Api, AppContext], crm: InHouseCrm,
                                          clock: FixedClock) -> None:
    api, ctx = setup
    api.send(customer("CRM-1", phone="600123456", email="maria@example.es"))
    crm.fail_with = 503
    api.send(_wrap_up(1))
    drain(ctx)
    [(status, error, _)] = outbox(ctx)
    assert (status, error) == ("pending", "intranet: GET /contacts answered 503 Service "
                                          "Unavailable")  # not what it said: {"error": "down"}
    crm.fail_with = None
    clock.advance(timedelta(minutes=10))
    drain(ctx)
    assert outbox(ctx)[0][0] == "delivered"
    assert crm.activities[0]["notes"] == "nota 1"


def test_a_crm_refusal_is_dead_after_three_tries_with_the_reason(
        setup: tuple[Api, AppContext], crm: InHouseCrm, clock: FixedClock) -> None:
    api, ctx = setup
    api.send(customer("CRM-1", phone="600123456", email="maria@example.es"))
    crm.fail_with = 422
    api.send(_wrap_up(1))
    for _ in range(5):
        drain(ctx)
        clock.advance(timedelta(minutes=10))
    [(status, error, attempts)] = outbox(ctx)
    assert (status, attempts) == ("dead", 3)
    assert error is not None and "answered 422" in error


def test_an_unattributed_call_is_not_logged_anywhere(setup: tuple[Api, AppContext],
                                                     crm: InHouseCrm, clock: FixedClock
                                                     ) -> None:
    api, ctx = setup
    api.send(event("call.wrapped_up", identifiers={}, properties={"disposition": "x"}))
    for _ in range(4):
        drain(ctx)
        clock.advance(timedelta(minutes=10))
    [(status, error, _)] = outbox(ctx)
    assert status == "dead" and error is not None and "not attributed" in error
    assert crm.calls == []


@pytest.mark.parametrize(("connector", "message"), [
    ({"type": "salesforce-ish", "event_types": ["x.y"]}, "connectors.c.type"),
    ({"type": "generic_rest", "event_types": []}, "connectors.c.event_types"),
    ({"type": "generic_rest", "event_types": ["x.y"], "config": {"base_url": "http://x"}},
     "connectors.c.config.create_contact"),
    ({"type": "generic_rest", "event_types": ["x.y"], "config": {
        "base_url": "http://x", "create_contact": {"path": "/c", "id_path": "id"},
        "log_activity": {"path": "/a"}}}, "connectors.c.config.create_contact.id_path"),
])
def test_bad_connector_files_are_refused_with_the_place(tmp_path: Path,
                                                         connector: dict[str, Any],
                                                         message: str) -> None:
    path = tmp_path / "crm.yaml"
    path.write_text(yaml.safe_dump({"connectors": {"c": connector}}))
    with pytest.raises(ConnectorConfigError, match=message):
        load_connectors(path)


def test_an_unexpected_failure_is_retried_and_logged_not_fatal_to_the_worker(
        setup: tuple[Api, AppContext], crm: InHouseCrm, monkeypatch: pytest.MonkeyPatch) -> None:
    from circulo.connectors import crm_delivery

    api, ctx = setup
    api.send(customer("CRM-1", phone="600123456", email="maria@example.es"))
    api.send(_wrap_up(1), _wrap_up(2))

    def broken(*args: Any) -> None:
        raise KeyError("surprise")

    monkeypatch.setattr(crm_delivery, "deliver", broken)
    assert drain(ctx) == 1  # one per customer at a time, in order
    [(status, error, attempts), _] = outbox(ctx)
    assert (status, attempts) == ("pending", 1)
    assert error == "internal error: KeyError: 'surprise'"


@pytest.mark.parametrize(("kind", "config", "place"), [
    ("generic_rest", {"base_url": "http://10.0.0.7/api", "create_contact": {"path": "/c"},
                      "log_activity": {"path": "/a"}}, "base_url"),
    ("hubspot", {"access_token": "x", "host": "http://169.254.169.254"}, "host"),
    ("salesforce", {"instance_url": "https://localhost", "auth": {"session_id": "x"}},
     "instance_url"),
])
def test_connectors_to_private_addresses_are_refused_when_loaded(
        tmp_path: Path, kind: str, config: dict[str, Any], place: str) -> None:
    path = tmp_path / "crm.yaml"
    path.write_text(yaml.safe_dump({"connectors": {"c": {
        "type": kind, "event_types": ["x.y"], "config": config}}}))
    with pytest.raises(ConnectorConfigError, match=f"connectors.c.config.{place}: refused"):
        load_connectors(path)
    name = "localhost" if place == "instance_url" else config[place].split("/")[2]
    assert load_connectors(path, EgressPolicy.parse([name]))["c"].kind == kind


def test_a_crm_name_resolving_inside_is_refused_when_connecting(crm: InHouseCrm) -> None:
    """The file said crm.url's name; what it resolves to is checked at each connection."""
    config = GenericRestConfig.model_validate({
        "base_url": crm.url.replace("127.0.0.1", "localhost"),
        "create_contact": {"path": "/contacts", "id_path": "$.data.id",
                           "body": {"email": "{email}"}},
        "log_activity": {"path": "/a"}})
    contact = CrmContact("cus_1", "Ana", "ana@example.es", None, None)
    refused = GenericRestConnector("intranet", config, egress=EgressPolicy())
    with pytest.raises(CrmError, match="refused: private address") as caught:
        refused.create_contact(contact)
    assert caught.value.status_code is None and crm.calls == []
    allowed = GenericRestConnector("intranet", config, egress=EgressPolicy.parse(["localhost"]))
    with pytest.raises(CrmError, match="answered 401 Unauthorized"):  # reached: no token
        allowed.create_contact(contact)
    assert crm.calls == ["POST /api/contacts"]
