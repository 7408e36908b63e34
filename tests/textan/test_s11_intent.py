"""S11, the intent part, end to end with the real default engine: a customer writes "quisiera
aumentar el límite de mi tarjeta de crédito"; the analysis worker reads it as the configured
reason card_limit (examples/text/intents.yaml: queue atencion, skill billing), the waiting
e-mail gains the skill and goes to the agent skilled for it, not to the one who is free first.
"""

from __future__ import annotations

from circulo.context import AppContext
from circulo.routing.dispatcher import dispatcher_of
from circulo.textan.worker import worker_of
from tests.conftest import Api, ok

POLICY = """
skills: [billing, tech]
queues:
  atencion:
    channels: [email]
agents:
  - {id: carmen, name: Carmen, skills: {tech: 5}, languages: [es], queues: [atencion],
     capacity: {email: 5}}
  - {id: jorge, name: Jorge, skills: {billing: 3}, languages: [es], queues: [atencion],
     capacity: {email: 5}}
"""


def test_the_card_limit_email_reaches_the_billing_agent(api: Api, ctx: AppContext) -> None:
    worker_of(ctx)  # the configured engine: lexicon-1 and the shipped intents
    ok(api.client.put("/v1/routing/policy", content=POLICY,
                      headers={**api.headers, "Content-Type": "application/yaml"}))
    task = ok(api.post("/v1/tasks", json={"queue": "atencion", "channel": "email",
                                          "language": "es",
                                          "identifiers": {"email": "lola@example.es"}}), 201)
    assert task["skills"] == {} and task["state"] == "pending"  # nobody available yet
    api.send({"type": "email.received", "source": "mail", "channel": "email",
              "identifiers": {"email": "lola@example.es"},
              "properties": {"subject": "Tarjeta Aurora",
                             "text": "Hola, quisiera aumentar el límite de mi tarjeta de "
                                     "crédito. Gracias."}})
    assert ok(api.post("/v1/text/inbox/run"))["analysed"] == 1
    waiting = ok(api.get(f"/v1/tasks/{task['id']}"))
    assert waiting["attributes"]["intent"] == "card_limit"
    assert waiting["skills"] == {"billing": 1}
    # Carmen is free first, but the e-mail now asks for billing.
    for agent in ("carmen", "jorge"):
        ok(api.post(f"/v1/agents/{agent}/presence", json={"presence": "available"}))
    dispatcher_of(ctx).run_once()
    assert ok(api.get(f"/v1/tasks/{task['id']}"))["agent_id"] == "jorge"
    analysed = ok(api.post("/v1/text/analyze", json={
        "text": "quisiera aumentar el límite de mi tarjeta de crédito"}))
    assert analysed["intent"]["name"] == "card_limit"
    assert analysed["language"] == "es"
