"""Churn features, labels, the model and its words: pure, no database."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from circulo.churn.explain import phrase, top_factors
from circulo.churn.features import (
    CATEGORICAL,
    History,
    cancellation_at,
    example_of,
    feature_names,
    features_of,
)
from circulo.churn.model import ChurnModel, Params, auc, fit
from circulo.customers.indicators import EventFacts, IndicatorConfig

NOW = datetime(2026, 12, 6, 12, tzinfo=UTC)
CFG = IndicatorConfig(ZoneInfo("Europe/Madrid"), frozenset({
    "call.completed", "call.abandoned", "email.received", "chat.completed"}))
TYPES = ("account.closed", "subscription.cancelled", "customer.churned")


def ev(kind: str, days_ago: float, **props: object) -> EventFacts:
    return EventFacts(kind, None, NOW - timedelta(days=days_ago), dict(props))


def history(events: list[EventFacts], traits: dict[str, object] | None = None,
            meta: dict[str, object] | None = None) -> History:
    return History("c1", dict(traits or {}), dict(meta or {}), events)


def test_windows_count_back_from_the_cut_off() -> None:
    h = history([ev("call.completed", 2, outcome="unresolved"),
                 ev("call.completed", 20, outcome="unresolved"),
                 ev("call.abandoned", 25), ev("call.completed", 60),
                 ev("survey.answered", 19, csat=1, nps=2)],
                {"tier": "VIP", "customer_since": "2026-10-01"})
    f = features_of(h, NOW, types=["call.completed"], config=CFG)
    assert f["contacts_7d"] == 1 and f["contacts_30d"] == 3 and f["contacts_90d"] == 4
    assert f["unsatisfied_30d"] == 3  # two unresolved calls and a CSAT of 1
    assert f["abandoned_30d"] == 1
    assert f["csat_last"] == 1 and f["nps_detractor"] == 1.0
    assert f["tier"] == "vip"
    assert f["tenure_days"] == (NOW.date() - datetime(2026, 10, 1).date()).days
    assert f["count_90d:call.completed"] == 3
    assert f["days_since_contact"] == 2


def test_a_churned_customer_is_seen_as_of_before_the_cancellation() -> None:
    """No leakage: what happened at or after the cancellation is not a feature, and windows
    count back from the cancellation, not from now."""
    h = history([
        ev("call.completed", 50, outcome="unresolved"),
        ev("account.closed", 40),
        ev("call.completed", 40, outcome="unresolved"),   # the cancellation call itself
        ev("call.completed", 10, outcome="unresolved"),   # a win-back call afterwards
        ev("survey.answered", 5, csat=1, nps=0),
    ], {"tier": "gold", "segment": "closed"},
        {"tier": {"source": "crm", "at": (NOW - timedelta(days=100)).isoformat()},
         "segment": {"source": "crm", "at": (NOW - timedelta(days=39)).isoformat()}})
    assert cancellation_at(h.events, TYPES) == NOW - timedelta(days=40)
    example = example_of(h, NOW, cancellation_types=TYPES, types=["call.completed"],
                         config=CFG)
    assert example.churned and example.as_of == NOW - timedelta(days=40)
    f = example.features
    assert f["contacts_90d"] == 1 and f["unsatisfied_30d"] == 1
    assert f["csat_last"] is None and f["nps_detractor"] == 0.0
    assert f["count_90d:call.completed"] == 1
    assert f["tier"] == "gold" and f["segment"] is None  # stated after the cut-off
    assert f["days_since_contact"] == 10


def test_a_customer_who_stays_is_seen_as_of_now() -> None:
    h = history([ev("call.completed", 3)])
    example = example_of(h, NOW, cancellation_types=TYPES, types=[], config=CFG)
    assert not example.churned and example.as_of == NOW


def test_sentiment_from_analysed_texts_when_present() -> None:
    h = history([ev("text.analyzed", 3, sentiment={"label": "negative", "score": -0.8},
                    urgency={"urgent": True, "reasons": ["churn_threat"]}),
                 ev("text.analyzed", 4, sentiment={"label": "positive", "score": 0.7},
                    urgency={"urgent": False, "reasons": []}),
                 ev("text.analyzed", 45, sentiment={"label": "negative", "score": -0.5})])
    f = features_of(h, NOW, types=[], config=CFG)
    assert f["negative_30d"] == 1 and f["urgent_30d"] == 1


def test_words_in_spanish_and_english() -> None:
    assert phrase("unsatisfied_30d", 3.0) == ("3 contactos insatisfechos en 30 días",
                                              "3 unsatisfied contacts in 30 days")
    assert phrase("unsatisfied_30d", 1.0)[1] == "1 unsatisfied contact in 30 days"
    assert phrase("tenure_days", 65.0) == ("cliente desde hace 2 meses",
                                           "customer for 2 months")
    assert phrase("tenure_days", 1.0) == ("cliente desde hace 1 día", "customer for 1 day")
    assert phrase("nps_detractor", 1.0) == ("NPS detractor", "NPS detractor")
    assert phrase("abandoned_30d", 2.0)[0] == "2 llamadas abandonadas en 30 días"
    assert phrase("count_90d:dispute.opened", 2.0) == ("2 reclamaciones de cargo en 90 días",
                                                       "2 disputes in 90 days")
    assert phrase("count_90d:loyalty.redeemed", 1.0)[1] == "1 × loyalty.redeemed in 90 days"


def test_top_factors_are_the_three_that_raise_the_risk_most() -> None:
    factors = top_factors(
        {"unsatisfied_30d": 3.0, "tenure_days": 40.0, "nps_detractor": 1.0, "csat_last": 4.0,
         "contacts_7d": 0.0},
        {"unsatisfied_30d": 1.2, "tenure_days": 0.8, "nps_detractor": 0.5, "csat_last": -0.4,
         "contacts_7d": 0.3})
    assert [f.feature for f in factors] == ["unsatisfied_30d", "tenure_days", "nps_detractor"]
    assert factors[0].es == "3 contactos insatisfechos en 30 días"
    assert top_factors({"csat_last": 5.0}, {"csat_last": -1.0}) == []
    # two windows of one measure are one reason
    one = top_factors({"unsatisfied_30d": 6.0, "unsatisfied_90d": 6.0, "tenure_days": 40.0},
                      {"unsatisfied_30d": 2.0, "unsatisfied_90d": 1.5, "tenure_days": 0.2})
    assert [f.feature for f in one] == ["unsatisfied_30d", "tenure_days"]


def _synthetic(n: int, seed: int) -> tuple[list[dict[str, float | str | None]], list[bool]]:
    rng = random.Random(seed)
    rows: list[dict[str, float | str | None]] = []
    labels = []
    for _ in range(n):
        unsat = float(rng.choice([0, 0, 0, 1, 2, 3]))
        tenure = float(rng.randint(5, 3000))
        tier = rng.choice(["standard", "gold", "vip", None])
        logit = -2.5 + 0.9 * unsat + (1.2 if tenure < 120 else 0.0) - (0.8 if tier == "vip"
                                                                       else 0.0)
        rows.append({"unsatisfied_30d": unsat, "tenure_days": tenure, "tier": tier,
                     "noise": rng.random()})
        labels.append(rng.random() < 1 / (1 + 2.718281828 ** -logit))
    return rows, labels


def test_the_model_learns_stores_as_json_and_explains_exactly() -> None:
    rows, labels = _synthetic(3000, 1)
    model = fit(rows, labels, ["tier", "unsatisfied_30d", "tenure_days", "noise"],
                ["tier"], Params(bins=4))
    test_rows, test_labels = _synthetic(1000, 2)
    scores = model.predict(test_rows)
    assert auc(test_labels, list(scores)) > 0.72
    # JSON round trip: numbers and strings only, the same predictions
    stored = json.loads(json.dumps(model.as_json()))
    again = ChurnModel.from_json(stored)
    assert list(again.predict(test_rows[:50])) == list(scores[:50])
    # the contributions add up to the logit
    contributions = model.explain(test_rows[:5])
    import math
    for row, probability in zip(contributions, scores[:5], strict=True):
        logit = model.intercept + sum(row.values())
        assert math.isclose(1 / (1 + math.exp(-logit)), probability, rel_tol=1e-9)
    # unsatisfied contacts raise the risk; noise hardly matters
    risky = model.explain([{"unsatisfied_30d": 3.0, "tenure_days": 30.0, "tier": "standard",
                            "noise": 0.5}])[0]
    assert risky["unsatisfied_30d"] > 0.5 and risky["tenure_days"] > 0.15
    assert abs(risky["noise"]) < 0.2


def test_auc_matches_the_definition() -> None:
    assert auc([False, True], [0.1, 0.9]) == 1.0
    assert auc([False, True], [0.9, 0.1]) == 0.0
    assert auc([False, True, False, True], [0.5, 0.5, 0.2, 0.8]) == 0.875


def test_feature_names_put_the_categories_first() -> None:
    names = feature_names(["order.placed"])
    assert names[:len(CATEGORICAL)] == list(CATEGORICAL)
    assert names[-1] == "count_90d:order.placed"


def test_odd_histories_give_features_not_errors() -> None:
    """What sources really send: a date that is not one, a number as text, a tier that is a
    number, an empty history, a customer since the future."""
    odd = history([ev("order.placed", 3, amount="12,5"), ev("order.placed", 4, amount="30"),
                   ev("survey.answered", 2, csat="excellent", nps=42),
                   ev("text.analyzed", 1, sentiment="NEGATIVE", urgency="yes")],
                  {"customer_since": "ayer", "tier": 3, "value": "n/a"})
    f = features_of(odd, NOW, types=["order.placed"], config=CFG)
    assert f["spend_90d"] == 30.0 and f["csat_last"] is None and f["nps_detractor"] == 0.0
    assert f["negative_30d"] == 1 and f["urgent_30d"] == 0
    assert f["tier"] == "3" and f["value"] is None
    assert f["tenure_days"] == 4  # the first event, the date being unreadable
    empty = features_of(history([], {"customer_since": "2030-01-01"}), NOW, types=[],
                        config=CFG)
    assert empty["tenure_days"] is None  # a date after the cut-off is not known then
    assert empty["contacts_90d"] == 0 and empty["days_since_contact"] is None
    rows = [odd_f for odd_f in (f, empty)] * 20
    model = fit(rows, [True, False] * 20, feature_names(["order.placed"]), CATEGORICAL)
    assert all(0 < p < 1 for p in model.predict(rows))
