"""The demo company loads through the real pipeline and tells the S1 story."""

from __future__ import annotations

import random

from rich.console import Console

from circulo.context import AppContext
from circulo.demo.generator import DemoCompany, live_event
from circulo.demo.loader import LIVE_PHONES, customers_count, load_demo
from circulo.ingest import service as ingest
from tests.conftest import Api


def test_demo_company_loads_without_rejections_and_tells_s1(ctx: AppContext, api: Api) -> None:
    load_demo(ctx, customers=60, console=Console(quiet=True))
    # Shop and PBX know customers by other identifiers than the CRM: all unified.
    assert customers_count(ctx) == 60
    maria = api.card(phone="600 123 456")
    assert maria["match"] == "unique"
    card = maria["card"]
    assert card["name"] == "María López"
    codes = {b["code"] for b in card["badges"]}
    assert {"vip", "open_dispute"} <= codes
    assert "new_customer" not in codes  # a customer since 2015, whatever Círculo's clock says
    assert card["open_records"][0]["kind"] == "dispute"
    assert [h["type"] for h in card["history"]][:1] == ["email.received"]
    family = api.card(lang="en", phone="+34 915 550 123")
    assert family["match"] == "ambiguous"
    assert sorted(c["name"] for c in family["candidates"]) == ["Antonio Ruiz", "Pilar Ruiz"]
    # A family with no CRM ids: the evidence keeps Jordi and Montse apart, for review.
    pujol = api.card(lang="en", phone="93 555 01 23")
    assert pujol["match"] == "ambiguous"
    assert sorted(c["name"] for c in pujol["candidates"]) == ["Jordi Pujol Riera",
                                                              "Montserrat Riera Vidal"]
    assert api.card(phone="655 100 300")["card"]["name"] == "Montserrat Riera Vidal"
    review = api.get("/v1/identity/suggestions").json()["suggestions"]
    assert [sorted(c["name"] for c in s["customers"]) for s in review] == [
        ["Jordi Pujol Riera", "Montserrat Riera Vidal"]]
    # Loading again changes nothing.
    load_demo(ctx, customers=60, console=Console(quiet=True))
    assert customers_count(ctx) == 60


def test_every_generated_event_is_valid(ctx: AppContext) -> None:
    company = DemoCompany(ctx.clock.now(), customers=200, seed=3)
    events = [e for batch in company.batches(size=500) for e in batch]
    assert len(events) > 1000
    _, errors = ingest.prepare(events, ctx.settings, ctx.clock.now())
    assert errors == []
    assert {e["source"] for e in events} >= {"crm", "shop", "billing", "pbx", "surveys"}
    rng = random.Random(1)
    live = [live_event(rng, ctx.clock.now(), LIVE_PHONES) for _ in range(20)]
    assert ingest.prepare(live, ctx.settings, ctx.clock.now())[1] == []
