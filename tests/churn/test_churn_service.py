"""Training, versions, scoring and the churn.risk_rose trigger, on the database (SQLite, and
PostgreSQL with CIRCULO_DATABASE_URL)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from circulo.churn import service as churn
from circulo.churn.model import ChurnModel
from circulo.churn.models import ChurnScore
from circulo.clock import FixedClock
from circulo.context import AppContext
from circulo.customers.models import Event, Profile
from circulo.errors import NotFound
from circulo.privacy import erasure
from tests.churn.company import company, load
from tests.conftest import Api


def _train(ctx: AppContext) -> churn.Trained:
    return churn.train(ctx.db, ctx.settings, ctx.policies, ctx.clock.now(), actor="test")


def _profile_of(ctx: AppContext, crm: str) -> Profile:
    with ctx.db.unit_of_work(write=False) as session:
        for profile in session.scalars(select(Profile).where(Profile.status == "active")):
            if profile.traits.get("name") == f"Cliente {int(crm[1:])}":
                session.expunge(profile)
                return profile
    raise AssertionError(crm)


def _risk_events(ctx: AppContext) -> list[Event]:
    with ctx.db.unit_of_work(write=False) as session:
        found = list(session.scalars(select(Event).where(Event.type == churn.RISK_ROSE)))
        for event in found:
            session.expunge(event)
        return found


def test_too_few_cancellations_are_refused_and_nothing_is_stored(ctx: AppContext) -> None:
    load(ctx, company(ctx.clock.now(), 120, leave_share=0.1))
    with pytest.raises(churn.NotEnoughCancellations) as refused:
        _train(ctx)
    assert refused.value.status == 422
    assert refused.value.extra["cancellations"] < 50
    assert refused.value.extra["customers"] == 120
    with ctx.db.unit_of_work(write=False) as session:
        assert churn.list_models(session) == []
        assert churn.active_model(session) is None
    # without a model, scoring is a no-op
    assert churn.score_all(ctx.db, ctx.settings, ctx.policies, ctx.clock.now()) == \
        churn.Scored(None, 0, 0)


def test_too_few_who_stayed_is_refused_too(ctx: AppContext) -> None:
    load(ctx, company(ctx.clock.now(), 120, leave_share=0.45))
    strict = ctx.settings.with_overrides(churn_min_cancellations=5, churn_min_class_share=0.49)
    with pytest.raises(churn.NotEnoughCancellations):
        churn.train(ctx.db, strict, ctx.policies, ctx.clock.now(), actor="test")


def test_each_training_stores_a_new_active_version(ctx: AppContext) -> None:
    load(ctx, company(ctx.clock.now(), 400, leave_share=0.2))
    first = _train(ctx)
    assert first.version == 1 and first.customers == 400
    assert 50 <= first.cancellations < 200
    assert first.base_rate == round(first.cancellations / 400, 4)
    assert first.auc > 0.7  # the bad spells predict who leaves
    second = _train(ctx)
    assert second.version == 2
    with ctx.db.unit_of_work() as session:
        rows = churn.list_models(session)
        assert [(m.version, m.active) for m in rows] == [(2, True), (1, False)]
        stored = rows[0]
        assert stored.metrics["auc"] == second.auc and stored.trained_on["customers"] == 400
        assert "unsatisfied_30d" in stored.feature_names
        assert "count_90d:account.closed" not in stored.feature_names  # the label itself
        ChurnModel.from_json(stored.model)  # plain JSON that loads back
        churn.activate(session, 1)
    with ctx.db.unit_of_work() as session:
        found = churn.active_model(session)
        assert found is not None and found[0] == 1
        with pytest.raises(NotFound):
            churn.activate(session, 9)


def test_scoring_sets_the_trait_the_reasons_and_emits_only_on_an_upward_crossing(
        ctx: AppContext, clock: FixedClock) -> None:
    events = company(ctx.clock.now(), 400, leave_share=0.2)
    load(ctx, events)
    _train(ctx)
    first = churn.score_all(ctx.db, ctx.settings, ctx.policies, ctx.clock.now())
    left = {e["identifiers"]["external_ids"]["crm"] for e in events
            if e["type"] == "account.closed"}
    assert first.model_version == 1 and first.customers == 400 - len(left)
    with ctx.db.unit_of_work(write=False) as session:
        scores = {s.customer_id: s for s in session.scalars(select(ChurnScore))}
        profiles = {p.id: p for p in session.scalars(select(Profile))}
    assert len(scores) == first.customers
    for customer_id, score in scores.items():
        assert 0 <= score.risk <= 1
        assert profiles[customer_id].traits["churn_risk"] == round(score.risk, 2)
        assert profiles[customer_id].trait_meta["churn_risk"]["source"] == "churn"
    risky = [s for s in scores.values() if s.risk >= ctx.settings.churn_threshold]
    assert risky and first.rose == len(risky)
    assert any(f["feature"] == "unsatisfied_30d" for s in risky for f in s.factors)
    rose = _risk_events(ctx)
    assert {e.profile_id for e in rose} == {s.customer_id for s in risky}
    sample = rose[0].properties or {}
    assert sample["risk"] >= 0.6 and sample["model_version"] == 1
    assert sample["previous"] is None
    assert sample["factors"] and {"es", "en", "feature"} <= set(sample["factors"][0])
    # who left is not scored
    assert not any(profiles[cid].traits.get("name") == f"Cliente {int(crm[1:])}"
                   for crm in left for cid in scores)

    # scoring again: nobody crosses, nothing is emitted
    clock.advance(timedelta(hours=1))
    again = churn.score_all(ctx.db, ctx.settings, ctx.policies, ctx.clock.now())
    assert again.rose == 0 and len(_risk_events(ctx)) == len(rose)

    # a calm customer goes through a bad spell: their risk rises across the threshold
    calm = min(scores.values(), key=lambda s: s.risk)
    crm_of = {p.id: p for p in profiles.values()}[calm.customer_id]
    bad = [{"type": "call.completed", "source": "pbx", "id": f"spell-{k}",
            "occurred_at": (ctx.clock.now() - timedelta(days=k + 1)).isoformat(),
            "identifiers": {"customer_id": crm_of.id},
            "properties": {"outcome": "unresolved"}} for k in range(5)]
    load(ctx, bad)
    clock.advance(timedelta(hours=1))
    third = churn.score_all(ctx.db, ctx.settings, ctx.policies, ctx.clock.now())
    assert third.rose == 1
    newest = [e for e in _risk_events(ctx) if e.profile_id == calm.customer_id]
    assert len(newest) == 1
    assert (newest[0].properties or {})["previous"] == calm.risk

    # and down again: no event for a fall
    with ctx.db.unit_of_work() as session:
        session.execute(ChurnScore.__table__.update().values(risk=0.99))
    clock.advance(timedelta(hours=1))
    assert churn.score_all(ctx.db, ctx.settings, ctx.policies, ctx.clock.now()).rose == 0


def test_the_card_shows_the_risk_and_its_reasons(ctx: AppContext, api: Api) -> None:
    load(ctx, company(ctx.clock.now(), 300, leave_share=0.25))
    _train(ctx)
    churn.score_all(ctx.db, ctx.settings, ctx.policies, ctx.clock.now())
    with ctx.db.unit_of_work(write=False) as session:
        top = session.scalars(select(ChurnScore).order_by(ChurnScore.risk.desc())).first()
        assert top is not None
        customer_id, risk = top.customer_id, top.risk
    spanish = api.card("es", customer_id=customer_id)["card"]
    english = api.card("en", customer_id=customer_id)["card"]
    assert spanish["churn"]["risk"] == risk and spanish["churn"]["model_version"] == 1
    assert any("insatisfechos" in f for f in spanish["churn"]["factors"])
    assert any("unsatisfied" in f for f in english["churn"]["factors"])
    assert "at_risk" in {b["code"] for b in spanish["badges"]}


def test_erasure_removes_the_score(ctx: AppContext) -> None:
    load(ctx, company(ctx.clock.now(), 300, leave_share=0.25))
    _train(ctx)
    churn.score_all(ctx.db, ctx.settings, ctx.policies, ctx.clock.now())
    with ctx.db.unit_of_work() as session:
        customer_id = session.scalars(select(ChurnScore.customer_id)).first()
        assert customer_id is not None
        result = erasure.erase(session, customer_id, ctx.settings, ctx.clock.now())
    assert result.removed["churn_scores"] == 1
    with ctx.db.unit_of_work(write=False) as session:
        assert churn.risk_of(session, customer_id) is None


def test_scheduled_scoring_runs_when_due_under_a_lease(ctx: AppContext, clock: FixedClock
                                                       ) -> None:
    import threading

    from circulo.churn import runner
    from circulo.routing import service as routing

    stop = threading.Event()
    assert runner.run_once(ctx, "me", stop) is None  # no model: nothing to do
    load(ctx, company(ctx.clock.now(), 300, leave_share=0.25))
    _train(ctx)
    first = runner.run_once(ctx, "me", stop)  # a model never used: due
    assert first is not None and first.customers > 0
    assert runner.run_once(ctx, "me", stop) is None  # scored a moment ago
    clock.advance(timedelta(seconds=ctx.settings.churn_score_interval + 1))
    with ctx.db.unit_of_work() as session:  # another process is scoring
        assert routing.hold_lease(session, runner.LEASE, "other", ctx.clock.now(),
                                  ctx.clock.now() + timedelta(minutes=5))
    assert runner.run_once(ctx, "me", stop) is None
    clock.advance(timedelta(minutes=6))  # its lease ran out
    again = runner.run_once(ctx, "me", stop)
    assert again is not None and again.customers == first.customers
    stop.set()  # asked to stop: scoring ends before its next page
    clock.advance(timedelta(seconds=ctx.settings.churn_score_interval + 1))
    stopped = runner.run_once(ctx, "me", stop)
    assert stopped is not None and stopped.customers == 0
