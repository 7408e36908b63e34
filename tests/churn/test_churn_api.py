"""The churn routes: versions, activation, a customer's score; bad input is a problem+json."""

from __future__ import annotations

from circulo.churn import service as churn
from circulo.context import AppContext
from tests.churn.company import company, load
from tests.conftest import Api, assert_problem, make_key, ok


def _trained_and_scored(ctx: AppContext) -> None:
    load(ctx, company(ctx.clock.now(), 300, leave_share=0.25))
    churn.train(ctx.db, ctx.settings, ctx.policies, ctx.clock.now(), actor="test")
    churn.score_all(ctx.db, ctx.settings, ctx.policies, ctx.clock.now())


def test_versions_and_a_customers_reasons_in_both_languages(ctx: AppContext, api: Api) -> None:
    assert ok(api.get("/v1/churn/models")) == []
    _trained_and_scored(ctx)
    models = ok(api.get("/v1/churn/models"))
    assert [(m["version"], m["active"]) for m in models] == [(1, True)]
    assert models[0]["metrics"]["auc"] > 0.7 and "model" not in models[0]
    with ctx.db.unit_of_work(write=False) as session:
        from sqlalchemy import select

        from circulo.churn.models import ChurnScore
        top = session.scalars(select(ChurnScore).order_by(ChurnScore.risk.desc())).first()
        assert top is not None
    body = ok(api.get(f"/v1/customers/{top.customer_id}/churn"))
    assert body["risk"] == top.risk and body["model_version"] == 1
    assert body["factors"] and {"feature", "es", "en", "contribution"} <= set(body["factors"][0])
    assert any("insatisfechos" in f["es"] for f in body["factors"])


def test_bad_input_and_unknowns(ctx: AppContext, api: Api) -> None:
    assert_problem(api.get("/v1/customers/nobody/churn"), 404, "not_found")
    assert_problem(api.get("/v1/customers/" + "x" * 40 + "/churn"), 422, "validation_failed")
    assert_problem(api.get("/v1/customers/a%20b/churn"), 422, "validation_failed")
    assert_problem(api.post("/v1/churn/models/7/activate"), 404, "not_found")
    assert_problem(api.post("/v1/churn/models/0/activate"), 422, "validation_failed")
    assert_problem(api.post("/v1/churn/models/abc/activate"), 422, "validation_failed")
    # a customer not scored yet
    load(ctx, company(ctx.clock.now(), 1, leave_share=0.0))
    customer = ok(api.get("/v1/cards", params={"external_id": "crm:C0000"}))["card"]
    assert "churn" not in customer or customer["churn"] is None
    assert_problem(api.get(f"/v1/customers/{customer['customer_id']}/churn"), 404,
                   "not_found")


def test_activation_needs_admin_and_reading_needs_a_key(ctx: AppContext, api: Api) -> None:
    _trained_and_scored(ctx)
    reader = {"Authorization": f"Bearer {make_key(ctx, ['read'], name='reader')}"}
    client = api.client
    assert client.get("/v1/churn/models", headers=reader).status_code == 200
    assert_problem(client.post("/v1/churn/models/1/activate", headers=reader), 403,
                   "forbidden")
    assert_problem(client.get("/v1/churn/models"), 401, "unauthorized")
    assert ok(api.post("/v1/churn/models/1/activate"))["active"] is True
