"""S6, S8, S9, S10, S15, S18 and S19 end to end: the shipped example journeys, loaded through
the API, on events sent through the API, with a controlled clock."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from circulo.clock import FixedClock
from circulo.db import Database
from tests.conftest import Api, ok
from tests.journeys.helpers import (
    EXAMPLES,
    center,
    customer,
    instances,
    load,
    of_type,
    run,
    tasks,
)


def _event(api: Api, customer_id: str, event_type: str, n: int = 0, **properties: Any
           ) -> None:
    api.send({"type": event_type, "source": "shop", "id": f"{event_type}:{customer_id}:{n}",
              "identifiers": {"customer_id": customer_id}, "properties": properties})


def _call(api: Api, phone: str) -> dict[str, Any]:
    return ok(api.post("/v1/tasks", json={"queue": "atencion", "channel": "voice",
                                          "identifiers": {"phone": phone}}), 201)


def test_s6_three_unsatisfactory_contacts(database: Database, clock: FixedClock) -> None:
    with center(database, clock) as api:
        load(api, "s06-three-unsatisfactory-contacts.yaml")
        ana = customer(api, "+34600000006", first_name="Ana")
        for n, score in enumerate([2, 5, 1]):
            _event(api, ana, "survey.answered", n, csat=score)
            clock.advance(timedelta(days=3))
        run(api)
        assert instances(api, "three-unsatisfactory-contacts") == []  # two bad ones so far
        _event(api, ana, "survey.answered", 9, csat=1)
        run(api)
        for name in ("loyalty-campaign", "gift-list"):
            members = ok(api.get(f"/v1/lists/{name}/members"))["members"]
            assert [m["customer_id"] for m in members] == [ana]
        call = _call(api, "+34600000006")  # whatever the reason: the VIP queue
        assert call["queue"] == "vip"
        card = api.card("es", customer_id=ana)["card"]
        [suggestion] = card["suggestions"]
        assert suggestion["code"] == "apologise-and-offer-gift"
        assert suggestion["text"].startswith("Ha tenido tres malas experiencias")
        ok(api.post(f"/v1/suggestions/{suggestion['id']}/accept", json={"agent_id": "lucia"}))
        [accepted] = of_type(api, ana, "suggestion.accepted")
        assert accepted["properties"]["by"] == "agent:lucia"
        assert api.card("es", customer_id=ana)["card"]["suggestions"] == []
        _event(api, ana, "survey.answered", 10, csat=1)  # reentry: never
        run(api)
        assert len(instances(api, "three-unsatisfactory-contacts")) == 1


def test_s8_one_carrier_incident_reaches_every_customer_waiting_on_that_carrier(
        database: Database, clock: FixedClock) -> None:
    with center(database, clock) as api:
        load(api, "s08-carrier-incident.yaml")
        by_sms = customer(api, "+34600000008", first_name="Luis", preferred_channel="sms")
        by_mail = customer(api, "+34910000008", first_name="Marta", email="marta@example.com",
                           preferred_channel="email", language="en")
        delivered = customer(api, "+34600000018", first_name="Pilar")
        other = customer(api, "+34600000028", first_name="Rosa")
        for n, (who, carrier) in enumerate([(by_sms, "TransRápido"), (by_mail, "TransRápido"),
                                            (by_mail, "TransRápido"), (delivered, "TransRápido"),
                                            (other, "Correos")]):
            _event(api, who, "shipment.created", n, shipment_id=f"ENV-{n}",
                   order_id=f"PED-{n + 1}", carrier=carrier)
        _event(api, delivered, "shipment.delivered", 9, shipment_id="ENV-3",
               carrier="TransRápido")
        run(api)
        # One event from the carrier's feed, about no one in particular.
        api.send({"type": "carrier.incident", "source": "transrapido", "id": "inc-1",
                  "properties": {"carrier": "TransRápido", "region": "Madrid"}})
        run(api)
        [sms] = of_type(api, by_sms, "notification.requested")
        assert sms["properties"]["channel"] == "sms"
        assert sms["properties"]["text"] == (
            "Hola Luis, TransRápido tiene una incidencia y su pedido PED-1 llegará con "
            "retraso. Le mantendremos informado.")
        [mail] = of_type(api, by_mail, "notification.requested")  # two shipments, one notice
        assert mail["properties"]["channel"] == "email"
        assert "your order PED-3 will be late" in mail["properties"]["text"]  # the newest
        assert of_type(api, delivered, "notification.requested") == []
        assert of_type(api, other, "notification.requested") == []
        call = _call(api, "+34600000008")
        assert call["team"] == "incidencias"
        assert call["ivr"]["question"] == "¿Llama por su pedido número PED-1?"
        assert call["ivr"]["message"].startswith("Hola Luis")
        assert len(instances(api, "carrier-incident")) == 2
        document = (EXAMPLES / "s08-carrier-incident.yaml").read_bytes()
        tried = ok(api.post("/v1/journeys/try", params={"since": "7d"}, content=document,
                            headers={"Content-Type": "application/yaml"}))
        assert (tried["entered"], tried["customers"]) == (2, 2)
        assert tried["actions"] == {"notify": 2, "routing_override": 2}


def test_s8_shipment_by_shipment(database: Database, clock: FixedClock) -> None:
    with center(database, clock) as api:
        load(api, "s08-shipment-delayed.yaml")
        by_sms = customer(api, "+34600000008", first_name="Luis", preferred_channel="sms")
        by_mail = customer(api, "+34910000008", first_name="Marta", email="marta@example.com",
                           preferred_channel="email", language="en")
        for n, who in enumerate([by_sms, by_mail]):
            _event(api, who, "shipment.delayed", n, order_id=f"PED-{n + 1}",
                   carrier="TransRápido", reason="carrier_incident")
        run(api)
        [sms] = of_type(api, by_sms, "notification.requested")
        assert sms["properties"]["channel"] == "sms"
        assert sms["properties"]["text"].startswith("Hola Luis, TransRápido tiene una")
        [mail] = of_type(api, by_mail, "notification.requested")
        assert mail["properties"]["channel"] == "email"
        assert "your order PED-2 will be late" in mail["properties"]["text"]
        call = _call(api, "+34600000008")
        assert call["team"] == "incidencias"
        assert call["ivr"]["question"] == "¿Llama por su pedido número PED-1?"
        assert call["ivr"]["message"].startswith("Hola Luis")


def test_s9_small_dispute_is_refunded_at_once(database: Database, clock: FixedClock,
                                              tmp_path: Any) -> None:
    connectors = tmp_path / "connectors.yaml"
    connectors.write_text("""
connectors:
  billing:
    type: generic_rest
    event_types: [dispute.auto_refunded]
    config:
      base_url: http://127.0.0.1:9/api
      create_contact: {path: /contacts}
      log_activity: {path: /activities}
      actions:
        refund: {path: /refunds, body: {charge: "{charge_id}", amount: "{amount}"}}
""", encoding="utf-8")
    with center(database, clock, crm_connectors=connectors) as api:
        load(api, "s09-small-dispute-auto-refund.yaml")
        pro = customer(api, "+34600000009", first_name="Eva", segment="professional",
                       email="eva@example.com", preferred_channel="email")
        api.send({"type": "order.completed", "source": "shop", "identifiers": {
            "customer_id": pro}, "record": {"kind": "order", "key": "O-1", "amount": 900,
                                            "status": "completed"}})
        small, large = [f"CH-{n}" for n in (1, 2)]
        _event(api, pro, "dispute.opened", 1, charge_id=small, amount=7.5, currency="USD")
        _event(api, pro, "dispute.opened", 2, charge_id=large, amount=75, currency="USD")
        opened = clock.now()
        run(api)
        [refunded] = of_type(api, pro, "dispute.auto_refunded")
        assert refunded["properties"]["charge_id"] == small
        [answer] = of_type(api, pro, "notification.requested")
        assert answer["properties"]["channel"] == "email"
        assert "7.5 USD" in answer["properties"]["text"]
        # The answer left (through the outbox) well within five minutes of the dispute.
        assert (clock.now() - opened) < timedelta(minutes=5)
        [instance] = instances(api, "small-dispute-auto-refund")
        kinds = {a["kind"]: a for a in instance["actions"]}
        assert kinds["connector"]["outcome"] == "queued"
        assert kinds["connector"]["detail"]["action"] == "refund"


def test_s10_low_score_from_an_important_customer(database: Database,
                                                  clock: FixedClock) -> None:
    with center(database, clock) as api:
        load(api, "s10-low-score-rescue.yaml")
        vip = customer(api, "+34600000010", tier="premium")
        regular = customer(api, "+34600000011")
        _event(api, vip, "survey.answered", 1, csat=1)
        _event(api, regular, "survey.answered", 1, csat=1)
        run(api)
        members = ok(api.get("/v1/lists/rescue-desk/members"))["members"]
        assert [m["customer_id"] for m in members] == [vip]
        [callback] = [t for t in tasks(api, vip) if t["kind"] == "callback"]
        assert callback["queue"] == "rescate"
        assert tasks(api, regular) == []


def test_s15_yearly_occasion_reminder(database: Database, clock: FixedClock) -> None:
    with center(database, clock) as api:
        load(api, "s15-yearly-occasion-reminder.yaml")
        who = customer(api, "+34600000015", first_name="Pilar", email="pilar@example.com",
                       preferred_channel="email")
        api.send({"type": "consent.updated", "source": "web", "identifiers": {
            "customer_id": who}, "consent": [{"channel": "email", "purpose": "marketing",
                                              "granted": True}]})
        _event(api, who, "order.completed", 1, occasion="su aniversario",
               occasion_date="2020-12-20")
        run(api)
        [waiting] = instances(api, "yearly-occasion-reminder")
        assert waiting["due_at"].startswith("2026-12-06T09:00:00")  # 10:00 Madrid
        clock.set(clock.now().replace(month=12, day=6, hour=9, minute=1))
        run(api)
        [reminder] = of_type(api, who, "notification.requested")
        assert "dentro de dos semanas es su aniversario" in reminder["properties"]["text"]
        [again] = instances(api, "yearly-occasion-reminder")
        assert again["status"] == "waiting" and again["due_at"].startswith("2027-12-06")


def test_s18_card_use_sms_and_fraud_routing(database: Database, clock: FixedClock) -> None:
    with center(database, clock) as api:
        load(api, "s18-card-use-and-fraud.yaml")
        who = customer(api, "+34600000018", first_name="Raúl")
        _event(api, who, "card.used", 1, amount=12, currency="EUR", merchant="Bar Sol",
               last4="4242", risk_score=0.1)
        run(api)
        assert _call(api, "+34600000018")["queue"] == "atencion"
        _event(api, who, "card.used", 2, amount=900, currency="EUR", merchant="Joyas X",
               last4="4242", risk_score=0.93)
        run(api)
        assert len(of_type(api, who, "notification.requested")) == 2
        fraud = _call(api, "+34600000018")
        assert fraud["queue"] == "fraude"


def test_s19_device_alert_proactive_call(database: Database, clock: FixedClock) -> None:
    with center(database, clock) as api:
        load(api, "s19-device-alert.yaml")
        who = customer(api, "+34600000019", first_name="Jon")
        _event(api, who, "device.alert", 1, kind="airbag", device="coche", severity="critical")
        _event(api, who, "device.alert", 2, kind="battery", device="coche", severity="low")
        run(api)
        found = {t["queue"]: t for t in tasks(api, who)}
        assert set(found) == {"supervision", "proactiva"}
        assert found["proactiva"]["priority"] == 90
        assert found["proactiva"]["attributes"]["note"].startswith("Llamar ya: alerta airbag")
        assert found["supervision"]["attributes"]["urgency"] == "urgent"
