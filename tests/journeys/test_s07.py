"""S7 end to end: a premium customer hangs up four times this morning; the advisor gets an
alert and an urgent task; not reached within the hour, an SMS offers callback times and the
customer's reply books one."""

from __future__ import annotations

from datetime import timedelta

from twilio.request_validator import RequestValidator  # type: ignore[import-untyped]

from circulo.clock import FixedClock
from circulo.db import Database
from tests.conftest import ok
from tests.journeys.helpers import center, instances, load, of_type, run, tasks

PHONE = "+34600111222"
TOKEN = "twilio-test-auth-token"


def _abandon(api, n: int):  # type: ignore[no-untyped-def]
    return api.send({"type": "call.abandoned", "source": "pbx", "id": f"ab{n}",
                     "channel": "voice", "identifiers": {"phone": PHONE}})


def test_s7_alert_task_then_sms_slots_and_a_reply_books_the_callback(
        database: Database, clock: FixedClock) -> None:
    with center(database, clock, twilio_auth_token=TOKEN,
                public_url="https://circulo.example.com") as api:
        journey = load(api, "s07-premium-repeated-abandons.yaml")
        assert journey["status"] == "active" and journey["active_version"] == 1
        customer_id = api.send({"type": "profile.updated", "source": "crm", "identifiers": {
            "phone": PHONE}, "traits": {"first_name": "Ana", "last_name": "Ruiz",
                                        "tier": "premium", "advisor": "lucia",
                                        "language": "es"}})["results"][0]["customer_id"]
        for n in range(3):
            _abandon(api, n)
            clock.advance(timedelta(minutes=10))
        run(api)
        assert instances(api, "premium-repeated-abandons") == []  # three is not four
        _abandon(api, 3)
        run(api)

        [instance] = instances(api, "premium-repeated-abandons")
        assert instance["status"] == "waiting" and instance["step"] == "reached"
        found = {t["queue"]: t for t in tasks(api, customer_id)}
        alert, urgent = found["alertas"], found["vip"]
        assert alert["attributes"]["for_agent"] == "lucia"
        assert alert["attributes"]["urgency"] == "urgent" and alert["priority"] == 50
        assert "Ana Ruiz ha colgado 4 veces" in alert["attributes"]["alert"]
        assert urgent["priority"] == 100 and urgent["channel"] == "voice"

        # Nobody reached her within the hour: the SMS with three callback times.
        clock.advance(timedelta(minutes=61))
        run(api)
        [sms] = of_type(api, customer_id, "notification.requested")
        assert sms["properties"]["channel"] == "sms"
        text = sms["properties"]["text"]
        assert text.startswith("Hola Ana, hemos visto sus llamadas de hoy")
        assert "1) hoy 16:00" in text and "2) hoy 18:00" in text and "3) mañana 10:00" in text
        [done] = instances(api, "premium-repeated-abandons")
        assert done["status"] == "done" and done["exit"] == "offer-callback"

        # She answers "2" by SMS (Twilio's inbound webhook): the 18:00 callback is booked.
        form = {"From": PHONE, "To": "+34910000000", "Body": "2", "MessageSid": "SM1"}
        signature = RequestValidator(TOKEN).compute_signature(
            "https://circulo.example.com/v1/channels/twilio/sms", form)
        response = api.client.post("/v1/channels/twilio/sms", data=form,
                                   headers={"X-Twilio-Signature": signature})
        assert response.status_code == 200, response.text
        run(api)
        [booked] = of_type(api, customer_id, "callback.booked")
        assert booked["properties"]["slot"].startswith("2026-11-24T18:00:00+01:00")
        callback = next(t for t in tasks(api, customer_id) if t["kind"] == "callback")
        assert callback["queue"] == "rellamadas"
        assert callback["not_before"].startswith("2026-11-24T17:00:00")

        # The counters say what happened.
        counters = ok(api.get("/v1/journeys/premium-repeated-abandons"))["counters"]
        assert counters["entered"] == 1 and counters["exits"] == {"offer-callback": 1}
        assert counters["actions"]["notify"] == {"queued": 1}
        assert counters["actions"]["alert"] == {"done": 1} and counters["errors"] == 0


def test_s7_a_reached_customer_gets_no_sms(database: Database, clock: FixedClock) -> None:
    with center(database, clock) as api:
        load(api, "s07-premium-repeated-abandons.yaml")
        customer_id = api.send({"type": "profile.updated", "source": "crm", "identifiers": {
            "phone": PHONE}, "traits": {"tier": "premium", "advisor": "lucia"}}
                               )["results"][0]["customer_id"]
        for n in range(4):
            _abandon(api, n)
        run(api)
        urgent = next(t for t in tasks(api, customer_id) if t["queue"] == "vip")
        ok(api.post("/v1/agents/lucia/presence", json={"presence": "available"}))
        offered = ok(api.get(f"/v1/tasks/{urgent['id']}"))
        assert offered["state"] in ("offered", "reserved"), offered
        ok(api.post(f"/v1/tasks/{urgent['id']}/accept", json={"agent_id": "lucia"}))
        ok(api.post(f"/v1/tasks/{urgent['id']}/complete", json={"agent_id": "lucia",
                                                                "disposition": "resolved"}))
        run(api)
        clock.advance(timedelta(hours=2))
        run(api)
        [done] = instances(api, "premium-repeated-abandons")
        assert done["exit"] == "done"
        assert of_type(api, customer_id, "notification.requested") == []
