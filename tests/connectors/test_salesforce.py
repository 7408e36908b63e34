"""The Salesforce connector, through ``simple-salesforce``, against a local HTTPS server that
answers with Salesforce's documented REST payloads (tests/connectors/vendors/salesforce/)."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import trustme

from circulo.clock import FixedClock
from circulo.connectors.crm import CrmActivity, CrmContact, CrmError
from circulo.connectors.registry import ConnectorConfigError, load_connectors
from circulo.connectors.salesforce.connector import (
    SalesforceConfig,
    SalesforceConnector,
    sosl_escape,
)
from circulo.context import AppContext
from circulo.db import Database
from circulo.egress import EgressPolicy
from tests.conftest import TEST_EGRESS_ALLOW, Api, ok, only_customer
from tests.connectors.helpers import app_with_connectors, drain, outbox
from tests.connectors.vendors import FakeSalesforce, serve
from tests.factories import customer, event

# The fake vendor listens on this machine, which connectors may not reach unless allowed.
LOCAL = EgressPolicy.parse(TEST_EGRESS_ALLOW)


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> tuple[trustme.CA, str]:
    authority = trustme.CA()
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    authority.cert_pem.write_to_path(str(path))
    return authority, str(path)


@pytest.fixture
def salesforce(ca: tuple[trustme.CA, str]) -> Iterator[FakeSalesforce]:
    fake = FakeSalesforce()
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca[0].issue_cert("127.0.0.1").configure_cert(tls)
    with serve(fake, tls) as url:
        fake.url = url
        yield fake


def _config(fake: FakeSalesforce, ca_path: str, **extra: Any) -> dict[str, Any]:
    return {"instance_url": fake.url, "auth": {"session_id": "${SF_TOKEN}"},
            "ca_bundle": ca_path, **extra}


@pytest.fixture
def setup(database: Database, clock: FixedClock, tmp_path: Path, salesforce: FakeSalesforce,
          ca: tuple[trustme.CA, str], monkeypatch: pytest.MonkeyPatch
          ) -> Iterator[tuple[Api, AppContext]]:
    monkeypatch.setenv("SF_TOKEN", salesforce.token)
    connectors = {"salesforce": {"type": "salesforce", "namespace": "sf",
                                 "event_types": ["call.wrapped_up"],
                                 "config": _config(salesforce, ca[1])}}
    with app_with_connectors(database, clock, tmp_path, connectors) as pair:
        yield pair


def _wrap_up(**properties: Any) -> dict[str, Any]:
    return event("call.wrapped_up", channel="voice", identifiers={"phone": "600123456"},
                 occurred_at="2026-11-24T09:55:00Z",
                 properties={"disposition": "Resuelto", "duration": 185,
                             "notes": "Reclama el reembolso", "order_id": "PED-88",
                             **properties})


def test_wrap_up_creates_the_contact_and_a_completed_call_task(
        setup: tuple[Api, AppContext], salesforce: FakeSalesforce) -> None:
    api, ctx = setup
    maria = only_customer(api.send(customer("CRM-1", phone="600123456",
                                            email="maria@example.es", name="María López")))
    api.send(_wrap_up())
    assert drain(ctx) == 1
    [(contact_id, contact)] = salesforce.contacts.items()
    assert contact == {"FirstName": "María", "LastName": "López",
                       "Email": "maria@example.es", "Phone": "+34600123456"}
    [task] = salesforce.tasks.values()
    assert task["WhoId"] == contact_id
    assert (task["Status"], task["TaskSubtype"], task["CallType"]) == (
        "Completed", "Call", "Inbound")
    assert (task["CallDisposition"], task["CallDurationInSeconds"]) == ("Resuelto", 185)
    assert task["ActivityDate"] == "2026-11-24"
    assert "Reclama el reembolso" in task["Description"]
    assert "order_id: PED-88" in task["Description"]
    assert outbox(ctx) == [("delivered", None, 1)]
    identifiers = ok(api.get(f"/v1/customers/{maria}"))["identifiers"]
    assert {"kind": "external_id", "value": f"sf:{contact_id}"} in [
        {"kind": i["kind"], "value": i["value"]} for i in identifiers]


def test_a_contact_is_found_by_phone_however_it_was_typed(
        setup: tuple[Api, AppContext], salesforce: FakeSalesforce) -> None:
    api, ctx = setup
    salesforce.contacts["0035g00000Old0001AAA"] = {"LastName": "López",
                                                   "MobilePhone": "600 12 34 56"}
    api.send(customer("CRM-1", phone="600123456"))
    api.send(_wrap_up())
    drain(ctx)
    assert list(salesforce.contacts) == ["0035g00000Old0001AAA"]
    search = next(r for r in salesforce.requests if r.path.endswith("/search/"))
    assert search.query["q"][0] == (
        "FIND {\\+34600123456} IN PHONE FIELDS RETURNING Contact(Id ORDER BY CreatedDate) "
        "LIMIT 1")


def test_a_nameless_contact_still_gets_the_required_last_name(
        setup: tuple[Api, AppContext], salesforce: FakeSalesforce) -> None:
    api, ctx = setup
    api.send(customer("CRM-1", phone="600123456"))
    api.send(_wrap_up())
    drain(ctx)
    [contact] = salesforce.contacts.values()
    assert contact["LastName"] == "+34600123456"


def test_salesforce_down_is_retried_and_an_invalid_session_is_dead(
        setup: tuple[Api, AppContext], salesforce: FakeSalesforce, clock: FixedClock) -> None:
    api, ctx = setup
    api.send(customer("CRM-1", phone="600123456", email="maria@example.es"))
    salesforce.fail_with = 503
    api.send(_wrap_up())
    drain(ctx)
    [(status, error, _)] = outbox(ctx)
    assert status == "pending" and error is not None and "503" in error
    salesforce.fail_with = None
    salesforce.token = "expired"
    for _ in range(4):
        clock.advance(timedelta(minutes=10))
        drain(ctx)
    [(status, error, attempts)] = outbox(ctx)
    assert (status, attempts) == ("dead", 3)
    assert error is not None and "session expired or invalid" in error
    assert salesforce.tasks == {}


def test_with_an_external_id_field_a_redelivery_never_logs_twice(
        salesforce: FakeSalesforce, ca: tuple[trustme.CA, str]) -> None:
    connector = SalesforceConnector("sf", SalesforceConfig.model_validate(
        _config(salesforce, ca[1], activity_external_id_field="Circulo_Event_Id__c") |
        {"auth": {"session_id": salesforce.token}}), egress=LOCAL)
    activity = CrmActivity("evt_1", "call", "2026-11-24T09:55:00Z", "voice", "Resuelto", 60)
    first = connector.log_activity("0035g00000Old0001AAA", activity)
    again = connector.log_activity("0035g00000Old0001AAA", activity)
    assert first == again
    [task] = salesforce.tasks.values()
    assert task["Circulo_Event_Id__c"] == "evt_1"
    assert [r.method for r in salesforce.requests] == ["PATCH", "PATCH"]


def test_campaign_members_are_read_with_soql(salesforce: FakeSalesforce,
                                             ca: tuple[trustme.CA, str]) -> None:
    salesforce.campaigns["7015g000000AbCdAAK"] = [
        {"ContactId": "0035g00000XyZ1aAAF", "LeadId": None, "FirstName": "Jordi",
         "LastName": "Puig", "Email": "jordi@example.es", "Phone": None,
         "MobilePhone": "+34622334455"},
        {"ContactId": None, "LeadId": "00Q5g00000Lead1AAA", "FirstName": None,
         "LastName": "Ruiz", "Email": None, "Phone": "912345678", "MobilePhone": None},
    ]
    connector = SalesforceConnector("sf", SalesforceConfig.model_validate(
        _config(salesforce, ca[1]) | {"auth": {"session_id": salesforce.token}}), egress=LOCAL)
    jordi, lead = connector.list_members("7015g000000AbCdAAK")
    assert (jordi.crm_id, jordi.name, jordi.phones) == ("0035g00000XyZ1aAAF", "Jordi Puig",
                                                       ["+34622334455"])
    assert (lead.crm_id, lead.phones) == ("00Q5g00000Lead1AAA", ["912345678"])
    query = salesforce.requests[0].query["q"][0]
    assert query.endswith("WHERE CampaignId = '7015g000000AbCdAAK' ORDER BY Id")


def test_an_untrusted_certificate_is_refused(salesforce: FakeSalesforce) -> None:
    connector = SalesforceConnector("sf", SalesforceConfig.model_validate(
        {"instance_url": salesforce.url, "auth": {"session_id": salesforce.token}}), egress=LOCAL)
    with pytest.raises(CrmError, match="SSLError") as caught:
        connector.find_contact(CrmContact("cus_1", None, "a@example.es", None, None))
    assert caught.value.status_code is None


def test_sosl_reserved_characters_are_escaped() -> None:
    assert sosl_escape("a+b-c{d}") == "a\\+b\\-c\\{d\\}"


@pytest.mark.parametrize(("config", "message"), [
    ({"auth": {"session_id": "x"}}, "instance_url is required"),
    ({"instance_url": "https://x.my.salesforce.com", "auth": {}}, "auth needs"),
    ({"instance_url": "https://x", "auth": {"session_id": "x"}, "colour": "red"},
     "connectors.sf.config.colour"),
])
def test_bad_salesforce_settings_are_refused_with_the_place(
        tmp_path: Path, config: dict[str, Any], message: str) -> None:
    import yaml

    path = tmp_path / "crm.yaml"
    path.write_text(yaml.safe_dump({"connectors": {"sf": {
        "type": "salesforce", "event_types": ["call.wrapped_up"], "config": config}}}))
    with pytest.raises(ConnectorConfigError, match=message):
        load_connectors(path)


def test_a_salesforce_instance_resolving_inside_is_refused_when_connecting(
        salesforce: FakeSalesforce, ca: tuple[trustme.CA, str]) -> None:
    # Found in review: requests, under simple-salesforce, connected wherever the name resolved.
    config = SalesforceConfig.model_validate(
        _config(salesforce, ca[1]) | {"auth": {"session_id": salesforce.token}}
        | {"instance_url": salesforce.url.replace("127.0.0.1", "localhost")})
    refused = SalesforceConnector("sf", config, egress=EgressPolicy())
    with pytest.raises(CrmError, match="refused: private address") as caught:
        refused.find_contact(CrmContact("cus_1", None, "a@example.es", None, None))
    assert caught.value.status_code is None and salesforce.requests == []
