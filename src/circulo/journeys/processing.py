"""One pass of the journeys runner, in one transaction: take the inbox's events in order and
the timers that are due, let the engine decide, and apply what it decided.

An action that fails is rolled back alone (a savepoint) and logged as failed; the pass, the
other actions and ingestion go on. An event whose evaluation itself fails is retried by the
next passes and, after ``MAX_ATTEMPTS``, logged as an error and dropped (``runner``).
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.orm import Session

from circulo.connectors.slot_replies import choose_slot
from circulo.customers import service as customers
from circulo.ids import new_id
from circulo.journeys import repository as repo
from circulo.journeys import runtime
from circulo.journeys.actions import (
    APPLY,
    ActionFailed,
    Scene,
    Subject,
    book_callback,
    flush,
    record_event,
)
from circulo.journeys.definition import Action, Journey
from circulo.journeys.engine import (
    CustomerState,
    Decisions,
    Effect,
    Engine,
    Instance,
    RuleFailure,
)
from circulo.journeys.models import JourneyInstance
from circulo.routing import intake
from circulo.routing.customer_context import snapshots

log = logging.getLogger(__name__)
LANGUAGES = ("es", "en")
FAN_OUT_CHUNK = 1000  # customers loaded at a time for an audience


@dataclass
class PassResult:
    events: int = 0
    timers: int = 0
    actions: int = 0
    seqs: list[int] = field(default_factory=list)
    created_tasks: list[str] = field(default_factory=list)


def tz_of(customer: dict[str, Any], default: ZoneInfo) -> ZoneInfo:
    name = (customer.get("traits") or {}).get("timezone")
    if isinstance(name, str) and name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            return default
    return default


def language_of(customer: dict[str, Any], default: str) -> str:
    primary = str(customer.get("language") or "").split("-")[0].lower()
    return primary if primary in LANGUAGES else default


def _instance(row: JourneyInstance) -> Instance:
    return Instance(row.id, row.journey, row.version, row.customer_id, row.step,
                    row.entered_at.timestamp(), row.status,
                    row.due_at.timestamp() if row.due_at else None, tuple(row.waiting_for),
                    dict(row.vars), row.exit, row.ended_at.timestamp() if row.ended_at else None)


def _moment(value: float | None) -> datetime | None:
    return datetime.fromtimestamp(value, UTC) if value is not None else None


class Pass:
    """The work of one pass; ``run`` does it in the caller's transaction."""

    def __init__(self, session: Session, scene: Scene) -> None:
        self.session = session
        self.scene = scene
        self.engine: Engine = runtime.engine(session)
        self.zone = ZoneInfo(scene.settings.timezone)
        self.now = scene.now.timestamp()
        self.states: dict[str, CustomerState] = {}
        self.views: dict[str, dict[str, Any]] = {}
        self.rows: dict[str, JourneyInstance] = {}  # instances read from the database
        self.objects: dict[str, Instance] = {}
        self.waiting: dict[str, list[Instance]] = defaultdict(list)
        self.decisions = Decisions()
        self.result = PassResult()

    def run(self, inbox: Sequence[Any], due: Sequence[JourneyInstance]) -> PassResult:
        customer_ids = sorted({r.customer_id for r in inbox if r.customer_id}
                              | {r.customer_id for r in due if r.customer_id})
        self._load(customer_ids, due)
        for row in inbox:
            self._event(row.payload, row.customer_id)
            for journey in self.engine.audiences.matching(str(row.payload.get("type"))):
                self._fan_out(journey, row.payload)
            self.result.seqs.append(row.seq)
        for row in due:
            instance = self.objects[row.id]
            if instance.status != "waiting" or instance.due_at is None \
                    or instance.due_at > self.now:
                continue  # an event of this pass moved it on
            customer = self._view(instance.customer_id)
            state = self._state(instance.customer_id)
            self.decisions.extend(self.engine.on_timer(
                instance, customer, state, now=self.now, tz=tz_of(customer, self.zone)))
            self.result.timers += 1
        self._apply()
        self._save()
        self.result.events = len(inbox)
        self.result.created_tasks = self.scene.created_tasks
        return self.result

    # -- loading ------------------------------------------------------------------------------
    def _load(self, customer_ids: list[str], due: Sequence[JourneyInstance]) -> None:
        stored = repo.states(self.session, customer_ids)
        for customer_id in customer_ids:
            kept = stored.get(customer_id)
            self.states[customer_id] = CustomerState.from_json(kept.state if kept else None)
        self.views.update(snapshots(self.session, customer_ids, self.scene.policies,
                                    self.scene.now, full=True))
        for row in [*repo.waiting_of(self.session, customer_ids), *due]:
            if row.id in self.rows:
                continue
            self.rows[row.id] = row
            instance = _instance(row)
            self.objects[row.id] = instance
            if instance.customer_id is not None:
                self.waiting[instance.customer_id].append(instance)

    def _view(self, customer_id: str | None) -> dict[str, Any]:
        if customer_id is None:
            return {"known": False}
        return self.views.get(customer_id) or {"known": False, "id": customer_id}

    def _state(self, customer_id: str | None) -> CustomerState:
        if customer_id is None:
            return CustomerState()
        return self.states.setdefault(customer_id, CustomerState())

    # -- deciding -----------------------------------------------------------------------------
    def _fan_out(self, journey: Journey, event: dict[str, Any]) -> None:
        """An audience journey: enter it for every customer the event concerns, each with
        the record that makes them part of it (``record`` in conditions and texts)."""
        assert journey.audience is not None  # noqa: S101
        found = Decisions()
        chosen = self.engine.audience(journey, event, customers.open_records_of_kind(
            self.session, journey.audience.kind), found)
        for failure in found.errors:
            self._log_rule_failure(failure, None)
        new = sorted(set(chosen) - set(self.states))
        for start in range(0, len(new), FAN_OUT_CHUNK):
            self._load(new[start:start + FAN_OUT_CHUNK], [])
        for customer_id, record in chosen.items():
            customer = self._view(customer_id)
            decided = self.engine.enter(journey, event, customer, self._state(customer_id),
                                        now=self.now, tz=tz_of(customer, self.zone),
                                        new_id=new_id, extra={"record": dict(record)})
            self._took(customer_id, decided)

    def _event(self, event: dict[str, Any], customer_id: str | None) -> None:
        if customer_id is None:
            return  # journeys follow customers; an event of no one starts nothing
        customer = self._view(customer_id)
        state = self._state(customer_id)
        zone = tz_of(customer, self.zone)
        if event.get("type") == "sms.received" and state.offers:
            self._reply(event, customer_id, customer, state, zone)
        waiting = [i for i in self.waiting[customer_id] if i.status == "waiting"]
        decided = self.engine.on_event(event, customer, state, waiting, now=self.now, tz=zone,
                                       new_id=new_id)
        self._took(customer_id, decided)

    def _took(self, customer_id: str, decided: Decisions) -> None:
        for instance in decided.started:
            self.objects[instance.id] = instance
            self.waiting[customer_id].append(instance)
        for failure in decided.errors:
            self._log_rule_failure(failure, customer_id)
        self.decisions.extend(decided)

    def _reply(self, event: dict[str, Any], customer_id: str, customer: dict[str, Any],
               state: CustomerState, zone: ZoneInfo) -> None:
        """An SMS reply to callback slots offered: book the slot it names."""
        open_offers = [o for o in state.offers if not o.get("booked")
                       and datetime.fromisoformat(o["expires_at"]).timestamp() > self.now]
        state.offers = open_offers
        if not open_offers:
            return
        offer = open_offers[-1]
        slots = [datetime.fromisoformat(s) for s in offer["slots"]]
        text = str((event.get("properties") or {}).get("text") or "")
        choice = choose_slot(text, slots, zone, self.scene.now)
        effect = Effect(offer["instance"], offer["journey"], 0, customer_id, "reply", 0,
                        Action("callback", {}))
        suffix = f":{event.get('id')}"
        if choice is None:
            record_event(self.scene, effect, "callback.reply_unclear",
                          {"text": text, "slots": offer["slots"]}, suffix=suffix)
            return
        slot = slots[choice]
        language = language_of(customer, self.scene.settings.default_language)
        try:
            booked = book_callback(self.scene, intake.NewTask(
                queue=offer["queue"], channel="voice", identifiers={"customer_id": customer_id},
                priority=int(offer.get("priority") or 0), source="journey",
                external_id=f"{offer['id']}:booked", reason="booked_by_sms", kind="callback",
                not_before=slot, window_end=slot + timedelta(minutes=30), language=language))
        except ActionFailed as exc:
            self._log_error(offer["journey"], customer_id, f"booking the callback: {exc}")
            return
        offer["booked"] = slot.isoformat()
        record_event(self.scene, effect, "callback.booked",
                      {"slot": slot.isoformat(), "task_id": booked.detail["task_id"],
                       "text": text}, suffix=suffix)

    # -- applying -----------------------------------------------------------------------------
    def _apply(self) -> None:
        effects = self.decisions.effects
        done = repo.done_keys(self.session, [e.key for e in effects])
        log_rows = []
        for effect in effects:
            if effect.key in done:
                continue  # a repeated pass: it already happened
            done.add(effect.key)
            instance = self.objects.get(effect.instance_id)
            customer = self._view(effect.customer_id)
            vars_ = instance.vars if instance is not None else {}
            subject = Subject(customer, vars_.get("event") or {}, vars_,
                              language_of(customer, self.scene.settings.default_language),
                              tz_of(customer, self.zone), vars_.get("record"))
            began = time.perf_counter()
            outcome, detail, output = "failed", {}, None
            try:
                with self.session.begin_nested():
                    applied = APPLY[effect.action.kind](self.scene, effect, subject)
                outcome, detail, output = applied.outcome, applied.detail, applied.output
            except ActionFailed as exc:
                detail = {"error": str(exc)}
            except Exception as exc:  # a bug or bad data fails this action only, recorded
                log.exception("journey %s action %s failed", effect.journey, effect.key)
                detail = {"error": f"{type(exc).__name__}: {exc}"[:500]}
            if instance is not None and output is not None:
                if effect.action.name:
                    instance.vars[effect.action.name] = output
                if effect.action.kind == "callback" and isinstance(output, dict) \
                        and "slots" in output:
                    instance.vars["offer"] = output
                    if effect.customer_id is not None:
                        self._state(effect.customer_id).offers.append(
                            {k: output[k] for k in ("id", "queue", "priority", "slots",
                                                    "journey", "instance", "expires_at")})
            log_rows.append(self._log_row(effect, outcome, detail,
                                          (time.perf_counter() - began) * 1000))
        refused = flush(self.scene)
        for row in log_rows:
            if row["key"] in refused:  # its event was refused: the action did not happen
                row["outcome"], row["detail"] = "failed", {"error": refused[row["key"]]}
        repo.log_actions(self.session, log_rows)
        self.result.actions = len(log_rows)

    def _log_row(self, effect: Effect, outcome: str, detail: dict[str, Any],
                 elapsed_ms: float | None) -> dict[str, Any]:
        return {"key": effect.key, "journey": effect.journey, "version": effect.version,
                "instance_id": effect.instance_id, "customer_id": effect.customer_id,
                "step": effect.step, "kind": effect.action.kind, "outcome": outcome,
                "detail": detail, "created_at": self.scene.now, "elapsed_ms": elapsed_ms}

    def _log_error(self, journey: str, customer_id: str | None, reason: str, *,
                   rule: str = "", condition: str | None = None) -> None:
        """A failure outside an action; for a rule that could not be evaluated, under its
        place in the journey (``step``): the journey's view counts them by rule."""
        detail = {"error": reason[:500]}
        if condition is not None:
            detail["condition"] = condition[:500]
        repo.log_actions(self.session, [{
            "key": f"error:{new_id()}", "journey": journey, "version": 0,
            "instance_id": None, "customer_id": customer_id, "step": rule[:64],
            "kind": "evaluate", "outcome": "failed", "detail": detail,
            "created_at": self.scene.now, "elapsed_ms": None}])

    def _log_rule_failure(self, failure: RuleFailure, customer_id: str | None) -> None:
        self._log_error(failure.journey, customer_id, failure.reason, rule=failure.rule,
                        condition=failure.condition)

    def _save(self) -> None:
        now = self.scene.now
        for instance in self.decisions.started:
            self.session.add(JourneyInstance(
                id=instance.id, journey=instance.journey, version=instance.version,
                customer_id=instance.customer_id, step=instance.step, status=instance.status,
                due_at=_moment(instance.due_at), waiting_for=list(instance.waiting_for),
                vars=instance.vars, exit=instance.exit, entered_at=now, updated_at=now,
                ended_at=_moment(instance.ended_at)))
        started = {i.id for i in self.decisions.started}
        for instance in {i.id: i for i in self.decisions.changed}.values():
            if instance.id in started:
                continue
            row = self.rows[instance.id]
            row.step, row.status, row.exit = instance.step, instance.status, instance.exit
            row.due_at, row.ended_at = _moment(instance.due_at), _moment(instance.ended_at)
            row.waiting_for, row.vars, row.updated_at = list(instance.waiting_for), \
                dict(instance.vars), now
        repo.save_states(self.session, [
            {"customer_id": customer_id, "state": state.to_json(), "updated_at": now}
            for customer_id, state in self.states.items()])
        self.session.flush()
