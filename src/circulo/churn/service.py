"""Churn prediction: train a versioned model on the company's own cancellations, score every
customer with the active one, and tell journeys when a customer's risk rises across the
threshold (``churn.risk_rose``, through the normal ingest pipeline)."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from circulo.churn import repository as repo
from circulo.churn.explain import Factor, top_factors
from circulo.churn.features import (
    CATEGORICAL,
    Example,
    History,
    cancellation_at,
    counted_types,
    example_of,
    feature_names,
    features_of,
)
from circulo.churn.model import ChurnModel, Params, auc, fit
from circulo.churn.models import ChurnModelRow
from circulo.config import Settings
from circulo.customers import service as customers
from circulo.customers.traits import apply_traits
from circulo.db import Database
from circulo.errors import CirculoError, NotFound
from circulo.ingest import service as ingest

RISK_ROSE = "churn.risk_rose"
TRAIT = "churn_risk"
SOURCE = "churn"
PAGE = 500
TEST_SHARE = 0.25
SEED = 17
WINDOW = timedelta(days=91)
# progress(step, done, total): the CLI's progress bar
Progress = Callable[[str, int, int], None]


class NotEnoughCancellations(CirculoError):
    status = 422
    code = "not_enough_cancellations"
    title = "Too few cancellations to learn from"


@dataclass(frozen=True, slots=True)
class Trained:
    version: int
    customers: int
    cancellations: int
    auc: float
    base_rate: float
    test_customers: int


@dataclass(frozen=True, slots=True)
class Scored:
    model_version: int | None
    customers: int
    rose: int


@dataclass(frozen=True, slots=True)
class CustomerRisk:
    """What the card shows: the risk, its main reasons, by which model, when."""

    risk: float
    factors: list[Factor]
    model_version: int
    scored_at: datetime


def _nothing(step: str, done: int, total: int) -> None:
    return None


def _histories(db: Database, *, since: datetime | None, also_types: Sequence[str],
               progress: Progress, step: str) -> list[History]:
    """Every active customer with their events, a page per read transaction."""
    with db.unit_of_work(write=False) as session:
        total = repo.count_active(session)
    out: list[History] = []
    after = ""
    while True:
        with db.unit_of_work(write=False) as session:
            page = repo.active_customers(session, after=after, limit=PAGE)
            if not page:
                break
            ids = [cid for cid, _, _ in page]
            events = repo.events_of(session, ids, since=since, also_types=also_types)
            firsts = repo.first_seen(session, ids) if since is not None else {}
        out.extend(History(cid, traits, meta, events[cid], firsts.get(cid))
                   for cid, traits, meta in page)
        after = ids[-1]
        progress(step, len(out), total)
    return out


def _split(examples: Sequence[Example]) -> tuple[list[Example], list[Example]]:
    """A stratified held-out split, the same for the same customers."""
    rng = random.Random(SEED)  # noqa: S311 - a reproducible split, not a secret
    train: list[Example] = []
    test: list[Example] = []
    for label in (True, False):
        group = sorted((e for e in examples if e.churned == label), key=lambda e: e.customer_id)
        rng.shuffle(group)
        cut = round(len(group) * TEST_SHARE)
        test.extend(group[:cut])
        train.extend(group[cut:])
    return train, test


def check_enough(cancellations: int, customers_count: int, settings: Settings) -> None:
    """Refuse to learn from too few cancellations (or too few who stayed)."""
    stayed = customers_count - cancellations
    share = min(cancellations, stayed) / customers_count if customers_count else 0.0
    if cancellations < settings.churn_min_cancellations or \
            share < settings.churn_min_class_share:
        raise NotEnoughCancellations(
            f"{cancellations} cancellation(s) among {customers_count} customer(s): at least "
            f"{settings.churn_min_cancellations} and {settings.churn_min_class_share:.0%} of "
            f"each class are needed (event types: "
            f"{', '.join(settings.churn_cancellation_types)})",
            errors=[{"field": "cancellations", "code": "not_enough_cancellations",
                     "detail": f"{cancellations} of {customers_count}"}],
            cancellations=cancellations, customers=customers_count)


def train(db: Database, settings: Settings, policies: customers.Policies, now: datetime, *,
          actor: str, params: Params | None = None, progress: Progress = _nothing
          ) -> Trained:
    """Learn from every customer's history, evaluate on a held-out quarter, and store the
    model fitted on everyone as a new active version. Raises ``NotEnoughCancellations``
    (nothing stored) when the company has too few cancellations."""
    types = list(settings.churn_cancellation_types)
    histories = _histories(db, since=None, also_types=(), progress=progress, step="read")
    counted = counted_types(histories, types)
    examples = []
    for n, history in enumerate(histories, 1):
        examples.append(example_of(history, now, cancellation_types=types, types=counted,
                                   config=policies.indicators))
        if n % PAGE == 0 or n == len(histories):
            progress("features", n, len(histories))
    cancellations = sum(e.churned for e in examples)
    check_enough(cancellations, len(examples), settings)
    names = feature_names(counted)
    train_part, test_part = _split(examples)
    progress("fit", 0, 2)
    held_out = fit([e.features for e in train_part], [e.churned for e in train_part], names,
                   CATEGORICAL, params)
    test_auc = auc([e.churned for e in test_part],
                   list(held_out.predict([e.features for e in test_part])))
    progress("fit", 1, 2)
    model = fit([e.features for e in examples], [e.churned for e in examples], names,
                CATEGORICAL, params)
    progress("fit", 2, 2)
    with db.unit_of_work() as session:
        version = repo.latest_version(session) + 1
        repo.add_model(session, ChurnModelRow(
            version=version, created_at=now, created_by=actor[:100], active=True,
            trained_on={"customers": len(examples), "cancellations": cancellations,
                        "as_of": now.isoformat(), "cancellation_types": types,
                        "counted_event_types": counted},
            metrics={"auc": round(test_auc, 4),
                     "base_rate": round(cancellations / len(examples), 4),
                     "test_customers": len(test_part), "train_customers": len(train_part),
                     "test_share": TEST_SHARE},
            feature_names=names, model=model.as_json()))
        repo.activate(session, version)
    return Trained(version, len(examples), cancellations, round(test_auc, 4),
                   round(cancellations / len(examples), 4), len(test_part))


def list_models(session: Session) -> Sequence[ChurnModelRow]:
    return repo.models(session)


MAX_VERSION = 2**31 - 1  # the INTEGER column's range: PostgreSQL refuses a larger number


def activate(session: Session, version: int) -> None:
    if not 1 <= version <= MAX_VERSION or repo.get_model(session, version) is None:
        raise NotFound(f"no churn model version {version}")
    repo.activate(session, version)


def active_model(session: Session) -> tuple[int, ChurnModel, list[str]] | None:
    """(version, model, the event types it counts) of the active model, or None."""
    row = repo.active_model(session)
    if row is None:
        return None
    counted = [str(t) for t in row.trained_on.get("counted_event_types", [])]
    return row.version, ChurnModel.from_json(row.model), counted


def scoring_due(session: Session, now: datetime, interval: timedelta) -> bool:
    """Whether the active model's scores are older than ``interval`` (or missing)."""
    row = repo.active_model(session)
    if row is None:
        return False
    last = repo.last_scored_at(session, row.version)
    return last is None or now - last >= interval


def score_all(db: Database, settings: Settings, policies: customers.Policies, now: datetime,
              *, progress: Progress = _nothing,
              should_stop: Callable[[], bool] = lambda: False) -> Scored:
    """Score every active customer with the active model, a page per transaction: the
    churn_risk trait, the stored factors, and ``churn.risk_rose`` for each customer whose
    risk rose across the threshold. Cheap when no model exists (one query)."""
    with db.unit_of_work(write=False) as session:
        found = active_model(session)
        total = repo.count_active(session) if found else 0
    if found is None:
        return Scored(None, 0, 0)
    version, model, counted = found
    types = list(settings.churn_cancellation_types)
    after = ""
    scored = rose = 0
    while not should_stop():
        with db.unit_of_work() as session:
            page = repo.active_customers(session, after=after, limit=PAGE)
            if not page:
                break
            after = page[-1][0]
            ids = [cid for cid, _, _ in page]
            events = repo.events_of(session, ids, since=now - WINDOW, also_types=types)
            firsts = repo.first_seen(session, ids)
            histories = [History(cid, traits, meta, events[cid], firsts.get(cid))
                         for cid, traits, meta in page]
            done, up = _score_page(session, histories, model, version, counted, settings,
                                   policies, now)
            scored += done
            rose += up
        progress("score", min(total, scored), total)
    return Scored(version, scored, rose)


def _score_page(session: Session, histories: Sequence[History], model: ChurnModel,
                version: int, counted: Sequence[str], settings: Settings,
                policies: customers.Policies, now: datetime) -> tuple[int, int]:
    staying = [h for h in histories
               if cancellation_at(h.events, settings.churn_cancellation_types) is None]
    if not staying:
        return 0, 0
    rows = [features_of(h, now, types=counted, config=policies.indicators) for h in staying]
    risks = model.predict(rows)
    explained = model.explain(rows)
    previous = repo.scores_of(session, [h.customer_id for h in staying])
    profiles = customers.load_profiles(session, [h.customer_id for h in staying],
                                       for_update=True)
    saved: list[dict[str, Any]] = []
    crossings: list[dict[str, Any]] = []
    for history, features, risk_value, contributions in zip(staying, rows, risks, explained,
                                                            strict=True):
        risk = round(float(risk_value), 4)
        factors = top_factors(features, contributions)
        before = previous.get(history.customer_id)
        old = before.risk if before is not None else _number(history.traits.get(TRAIT))
        saved.append({"customer_id": history.customer_id, "risk": risk,
                      "factors": [f.as_dict() for f in factors], "model_version": version,
                      "scored_at": now})
        profile = profiles.get(history.customer_id)
        if profile is not None and apply_traits(
                profile.traits, profile.trait_meta, {TRAIT: round(risk, 2)}, source=SOURCE,
                at=now, policy=policies.traits):
            customers.mark_dirty(profile)
        if risk >= settings.churn_threshold and (old is None or old < settings.churn_threshold):
            crossings.append(_risk_rose(history.customer_id, risk, old, factors, version, now))
    repo.save_scores(session, saved)
    customers.save(session, [p for p in profiles.values() if p.dirty])
    if crossings:
        result = ingest.ingest(session, {"events": crossings}, settings=settings,
                               policies=policies, now=now, actor=SOURCE)
        if result.errors:
            raise RuntimeError(f"churn.risk_rose rejected: {result.errors[:3]}")
    return len(staying), len(crossings)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _risk_rose(customer_id: str, risk: float, previous: float | None, factors: list[Factor],
               version: int, now: datetime) -> dict[str, Any]:
    return {
        "type": RISK_ROSE, "source": "circulo",
        "id": f"churn:{customer_id}:{version}:{now.isoformat()}"[:200],
        "occurred_at": now.isoformat(), "identifiers": {"customer_id": customer_id},
        "properties": {"risk": risk, "previous": previous, "model_version": version,
                       "factors": [{"feature": f.feature, "es": f.es, "en": f.en}
                                   for f in factors]},
    }


def risk_of(session: Session, customer_id: str) -> CustomerRisk | None:
    score = repo.scores_of(session, [customer_id]).get(customer_id)
    if score is None:
        return None
    return CustomerRisk(score.risk, [Factor.from_dict(f) for f in score.factors],
                        score.model_version, score.scored_at)


def card_section(session: Session, customer_id: str, lang: str, now: datetime
                 ) -> dict[str, Any] | None:
    """The card's churn section (registered in circulo.wiring): the risk, its reasons in the
    reader's language, the model version and when it was scored."""
    found = risk_of(session, customer_id)
    if found is None:
        return None
    return {"risk": found.risk, "percent": round(found.risk * 100),
            "factors": [f.es if lang == "es" else f.en for f in found.factors],
            "model_version": found.model_version, "scored_at": found.scored_at.isoformat()}


def erase_customers(session: Session, ids: Sequence[str], now: datetime) -> dict[str, int]:
    """Privacy: a customer's score and its reasons go with them."""
    return {"churn_scores": repo.delete_scores(session, list(ids))}
