"""Routing over HTTP: the policy, agents and presence, tasks and callbacks, overrides, live
statistics. Writes need the `routing` scope (agent desktops, telephony, the IVR, the CRM);
the policy and agent definitions need `admin`; reading needs `read`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import orjson
from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from pydantic import ValidationError

from circulo import documents, jsonshape
from circulo.api_deps import ORJSONResponse, get_ctx, parse_json, read_body, require
from circulo.auth.service import Principal
from circulo.context import AppContext
from circulo.errors import PayloadTooLarge, ValidationFailed
from circulo.routing import callbacks, intake, overrides, service, stats, wrapup
from circulo.routing.dispatcher import dispatcher_of
from circulo.routing.policy import PolicyError, agent_spec
from circulo.routing.schemas import (
    AbandonOut,
    AgentAction,
    AgentIn,
    AgentOut,
    CallbackIn,
    CancelIn,
    CompleteIn,
    OverrideIn,
    OverrideOut,
    PolicyOut,
    PresenceIn,
    RejectIn,
    TaskBatchIn,
    TaskBatchOut,
    TaskIn,
    TaskOut,
)
from circulo.routing.views import agent_view, task_view

router = APIRouter(prefix="/v1", tags=["routing"])
YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml")


def _task_out(ctx: AppContext, task_id: str) -> dict[str, Any]:
    dispatcher = dispatcher_of(ctx)
    with ctx.db.unit_of_work(write=False) as session:
        task = service.get_task(session, task_id)
        position, expected = dispatcher.position(task_id) if task.state == "pending" \
            else (None, None)
        return task_view(task, position, expected)


# -- policy ---------------------------------------------------------------------------------

# The routes that act for an agent they name: a signed-in agent's session only for itself
_act_as_agent = require("routing", own_agent=True)

@router.put("/routing/policy", response_model=PolicyOut,
            summary="Put a routing policy in force (YAML or JSON)",
            description="Skills, queues (channels, service level, ageing, priority rules, "
                        "steps with CEL conditions and timeouts), the abandoned-call policy "
                        "and optionally agents. Checked before it applies: errors name the line "
                        "(YAML) or path and the reason. Each change is a new version. Scope "
                        "`admin`.",
            openapi_extra={"requestBody": {"required": True, "content": {
                "application/yaml": {"schema": {"type": "string"}},
                "application/json": {"schema": {"type": "object"}}}}})
async def put_policy(request: Request, ctx: AppContext = Depends(get_ctx),
                     principal: Principal = Depends(require("admin"))) -> dict[str, Any]:
    body = await read_body(request, ctx.settings.max_body_bytes)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type in YAML_TYPES:
        try:
            text: str | None = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ValidationFailed("the policy is not UTF-8 text") from exc
        config = service.parse_policy(text, None)
    else:
        text = None
        config = service.parse_policy(None, parse_json(body))

    def apply() -> dict[str, Any]:
        dispatcher = dispatcher_of(ctx)
        with ctx.db.unit_of_work() as session:
            version, created = service.apply_policy(
                session, config, text, actor=f"key:{principal.name}", now=ctx.clock.now(),
                cache=dispatcher.cache)
        dispatcher.after_change()
        return {"version": version, "created": created, "skills": sorted(config.skills),
                "queues": sorted(config.queues), "agents": len(config.agents)}

    return await run_in_threadpool(apply)


@router.get("/routing/policy", response_model=PolicyOut, summary="The policy in force")
def get_policy(ctx: AppContext = Depends(get_ctx),
               _: Principal = Depends(require("read"))) -> dict[str, Any]:
    dispatcher = dispatcher_of(ctx)
    with ctx.db.unit_of_work(write=False) as session:
        config = dispatcher.config(session)
        return {"version": dispatcher.cache.version, "skills": sorted(config.skills),
                "queues": sorted(config.queues), "agents": len(config.agents),
                "document": config.source,
                "rule_errors": documents.error_report(config.conditions())}


# -- agents ---------------------------------------------------------------------------------

@router.put("/agents/{agent_id}", response_model=AgentOut,
            summary="Create or update an agent (skills, languages, queues, capacity)",
            description="Scope `admin`. Skills and queues must exist in the policy in force.")
def put_agent(agent_id: str, body: AgentIn, ctx: AppContext = Depends(get_ctx),
              principal: Principal = Depends(require("admin"))) -> dict[str, Any]:
    dispatcher = dispatcher_of(ctx)
    now = ctx.clock.now()
    with ctx.db.unit_of_work() as session:
        config = dispatcher.config(session)
        try:
            spec = agent_spec({"id": agent_id, **body.model_dump(exclude_none=True)}, "agent",
                              config)
        except PolicyError as exc:
            field, _sep, reason = str(exc).partition(": ")
            raise ValidationFailed(str(exc), errors=[{
                "field": field.removeprefix("agent.").removeprefix("agent"),
                "code": "invalid_agent", "detail": reason}]) from exc
        row = service.define_agent(session, spec, now)
        view = agent_view(row, now, ctx.settings.agent_heartbeat_timeout)
    dispatcher.after_change()
    return view


@router.get("/agents", response_model=list[AgentOut], summary="Agents and their state")
def list_agents(ctx: AppContext = Depends(get_ctx),
                _: Principal = Depends(require("read"))) -> list[dict[str, Any]]:
    now = ctx.clock.now()
    with ctx.db.unit_of_work(write=False) as session:
        return [agent_view(a, now, ctx.settings.agent_heartbeat_timeout)
                for a in service.list_agents(session)]


@router.get("/agents/{agent_id}", response_model=AgentOut, summary="One agent")
def get_agent(agent_id: str, ctx: AppContext = Depends(get_ctx),
              _: Principal = Depends(require("read"))) -> dict[str, Any]:
    now = ctx.clock.now()
    with ctx.db.unit_of_work(write=False) as session:
        return agent_view(service.get_agent(session, agent_id), now,
                          ctx.settings.agent_heartbeat_timeout)


@router.post("/agents/{agent_id}/presence", response_model=AgentOut,
             summary="Set an agent's presence (available, away with a reason, offline)",
             description="Away or offline returns the agent's offers to the queue at once. "
                         "Scope `routing` (a signed-in agent: for itself only).")
def set_presence(agent_id: str, body: PresenceIn, ctx: AppContext = Depends(get_ctx),
                 principal: Principal = Depends(_act_as_agent)) -> dict[str, Any]:
    principal.act_for(agent_id)
    now = ctx.clock.now()
    with ctx.db.unit_of_work() as session:
        row = service.set_presence(session, agent_id, body.presence, body.reason, now)
        view = agent_view(row, now, ctx.settings.agent_heartbeat_timeout)
    dispatcher_of(ctx).after_change()
    return view


@router.post("/agents/{agent_id}/heartbeat", status_code=204, response_class=Response,
             summary="The agent's desktop is still there",
             description="Desktops call this every few seconds; an agent silent for "
                         "`CIRCULO_AGENT_HEARTBEAT_TIMEOUT` is set offline and their offers "
                         "return to the queue. Scope `routing` (a signed-in agent: for itself "
                         "only).")
def heartbeat(agent_id: str, ctx: AppContext = Depends(get_ctx),
              principal: Principal = Depends(_act_as_agent)) -> Response:
    principal.act_for(agent_id)
    with ctx.db.unit_of_work() as session:
        service.heartbeat(session, agent_id, ctx.clock.now())
    return Response(status_code=204)


@router.get("/agents/{agent_id}/tasks", response_model=list[TaskOut],
            summary="The agent's offers and tasks in hand",
            description="Reserved (offered, with `reserved_until`), assigned and wrapping. "
                        "Counts as a heartbeat. Scope `routing` (a signed-in agent: for "
                        "itself only).")
def agent_tasks(agent_id: str, ctx: AppContext = Depends(get_ctx),
                principal: Principal = Depends(_act_as_agent)) -> list[dict[str, Any]]:
    principal.act_for(agent_id)
    with ctx.db.unit_of_work() as session:
        service.heartbeat(session, agent_id, ctx.clock.now())
        return [task_view(t) for t in service.tasks_in_hand(session, agent_id)]


# -- tasks ----------------------------------------------------------------------------------

def _create(ctx: AppContext, new: intake.NewTask, response: Response,
            schedule: bool = False) -> dict[str, Any]:
    dispatcher = dispatcher_of(ctx)
    now = ctx.clock.now()
    with ctx.db.unit_of_work() as session:
        config = dispatcher.config(session)
        if schedule:
            task, created = callbacks.schedule(session, new, config, settings=ctx.settings,
                                               policies=ctx.policies, now=now)
        else:
            task, created = intake.create_task(session, new, config, settings=ctx.settings,
                                                policies=ctx.policies, now=now)
        task_id = task.id
    if created:
        dispatcher.after_change(created=[task_id])
    else:
        response.status_code = 200
    return _task_out(ctx, task_id)


def _new_task(body: TaskIn) -> intake.NewTask:
    return intake.NewTask(
        queue=body.queue, channel=body.channel,
        identifiers=body.identifiers.model_dump(exclude_none=True), priority=body.priority,
        skills=body.skills, language=body.language, attributes=body.attributes,
        source=body.source, external_id=body.external_id, reason=body.reason)


@router.post("/tasks", response_model=TaskOut, status_code=201,
             summary="A contact enters the universal queue",
             description="A call, chat, email, SMS or back-office item. The customer is "
                         "resolved from the identifiers (the contact is on their timeline), "
                         "the policy computes the priority, and the best agent gets an offer. "
                         "The answer gives the queue position and expected wait for the IVR "
                         "or chat widget. Same `source` + `external_id` again: the same task "
                         "(200). Scope `routing`.",
             responses={200: {"model": TaskOut, "description": "Already created"}})
def create_task(body: TaskIn, response: Response, ctx: AppContext = Depends(get_ctx),
                _: Principal = Depends(require("routing"))) -> dict[str, Any]:
    return _create(ctx, _new_task(body), response)


@router.post("/tasks/batch", response_model=TaskBatchOut,
             summary="Many contacts enter the universal queue at once",
             description="`{\"tasks\": [...]}`, each item as for `POST /v1/tasks`, up to "
                         "`CIRCULO_MAX_BATCH_SIZE` (5,000): an e-mail backlog, a CRM's or "
                         "ERP's work items. Items are checked one by one; valid ones are "
                         "created together (one transaction) and routed in one pass. 200 when "
                         "every item was taken, 207 when some were refused (see `errors`, by "
                         "`index`), 422 (problem+json) when none was. Same `source` + "
                         "`external_id` as an existing task, or as an earlier item: "
                         "`duplicate`, and nothing changes. Scope `routing`.",
             openapi_extra={"requestBody": {"required": True, "content": {
                 "application/json": {"schema": {
                     "$ref": "#/components/schemas/TaskBatchIn"}}}}},
             responses={207: {"model": TaskBatchOut, "description": "Some items were refused"}})
async def create_tasks(request: Request, ctx: AppContext = Depends(get_ctx),
                       _: Principal = Depends(require("routing"))) -> Response:
    body = await read_body(request, ctx.settings.max_body_bytes)
    return await run_in_threadpool(_create_batch, ctx, body)


def _batch_items(payload: Any, limit: int
                 ) -> tuple[list[tuple[int, intake.NewTask]], list[dict[str, Any]]]:
    """The batch's items as tasks to create, and the problems of those that are not."""
    if not isinstance(payload, dict) or set(payload) != {"tasks"} \
            or not isinstance(payload["tasks"], list):
        raise ValidationFailed("the body must be {\"tasks\": [...]}", errors=[
            {"field": "tasks", "code": "list_type", "detail": "expected a list of tasks"}])
    raw_items = payload["tasks"]
    if not raw_items:
        raise ValidationFailed("the batch is empty", errors=[
            {"field": "tasks", "code": "too_short", "detail": "at least one task is needed"}])
    if len(raw_items) > limit:
        raise PayloadTooLarge(f"a batch holds at most {limit} tasks; this one has "
                              f"{len(raw_items)}", field="tasks", limit=limit)
    items: list[tuple[int, intake.NewTask]] = []
    errors: list[dict[str, Any]] = []
    for index, raw in enumerate(raw_items):
        if not isinstance(raw, dict):
            errors.append({"index": index, "field": "", "code": "object_type",
                           "detail": "each task must be a JSON object"})
            continue
        problem = jsonshape.check(raw)
        if problem is not None:
            errors.append({"index": index, "field": problem.field, "code": problem.code,
                           "detail": problem.detail})
            continue
        try:
            items.append((index, _new_task(TaskIn.model_validate(raw))))
        except ValidationError as exc:
            errors.extend({"index": index, "field": ".".join(str(p) for p in err["loc"]),
                           "code": err["type"], "detail": err["msg"]} for err in exc.errors())
    return items, errors


def _create_batch(ctx: AppContext, body: bytes) -> Response:
    items, errors = _batch_items(parse_json(body), ctx.settings.max_batch_size)
    dispatcher = dispatcher_of(ctx)
    taken: list[tuple[int, str, bool]] = []
    if items:
        with ctx.db.unit_of_work() as session:
            outcome = intake.create_batch(session, items, dispatcher.config(session),
                                          settings=ctx.settings, policies=ctx.policies,
                                          now=ctx.clock.now())
            taken = [(index, task.id, created) for index, task, created in outcome.taken]
        errors.extend(outcome.errors)
    if any(created for _, _, created in taken):
        dispatcher.after_change(created=[task_id for _, task_id, new in taken if new])
    errors.sort(key=lambda e: (int(e["index"]), str(e["field"])))
    if not taken:
        raise ValidationFailed(f"all {len({e['index'] for e in errors})} task(s) were "
                               "refused; see errors", errors=errors)
    with ctx.db.unit_of_work(write=False) as session:  # as they are now, routed or waiting
        rows = {row.id: row for row in service.get_tasks(session, [t for _, t, _ in taken])}
        results = []
        for index, task_id, created in taken:
            row = rows[task_id]
            position, expected = dispatcher.position(task_id) if row.state == "pending" \
                else (None, None)
            results.append({
                "index": index, "status": "created" if created else "duplicate",
                "task_id": task_id, "state": row.state, "queue": row.queue,
                "customer_id": row.customer_id, "agent_id": row.agent_id,
                "position": position,
                "expected_wait_seconds": round(expected, 1) if expected is not None else None})
    answer = {"created": sum(1 for _, _, created in taken if created),
              "duplicates": sum(1 for _, _, created in taken if not created),
              "rejected": len({e["index"] for e in errors}), "results": results,
              "errors": errors}
    return ORJSONResponse(answer, status_code=207 if errors else 200)


@router.post("/callbacks", response_model=TaskOut, status_code=201,
             summary="Schedule a callback (by the customer or another system)",
             description="A voice task that waits until `window_start`, is tried up to "
                         "`attempts` times within the window, and ends reached or unreached. "
                         "Impossible windows are refused. Scope `routing`.",
             responses={200: {"model": TaskOut, "description": "Already scheduled"}})
def create_callback(body: CallbackIn, response: Response, ctx: AppContext = Depends(get_ctx),
                    _: Principal = Depends(require("routing"))) -> dict[str, Any]:
    now = ctx.clock.now()
    new = intake.NewTask(
        queue=body.queue, channel="voice",
        identifiers=body.identifiers.model_dump(exclude_none=True), priority=body.priority,
        skills=body.skills, language=body.language, attributes=body.attributes,
        source=body.source, external_id=body.external_id,
        reason=body.reason or "customer_request", kind="callback",
        not_before=body.window_start or now, window_end=body.window_end,
        max_attempts=body.attempts)
    return _create(ctx, new, response, schedule=True)


@router.get("/tasks/{task_id}", response_model=TaskOut,
            summary="A task, with its queue position and expected wait while waiting")
def get_task(task_id: str, ctx: AppContext = Depends(get_ctx),
             _: Principal = Depends(require("read"))) -> dict[str, Any]:
    return _task_out(ctx, task_id)


@router.get("/tasks", response_model=list[TaskOut], summary="Tasks, newest first")
def list_tasks(state: list[str] | None = Query(None), queue: str | None = None,
               customer_id: str | None = None, agent_id: str | None = None,
               limit: int = Query(100, ge=1, le=1000), ctx: AppContext = Depends(get_ctx),
               _: Principal = Depends(require("read"))) -> list[dict[str, Any]]:
    with ctx.db.unit_of_work(write=False) as session:
        return [task_view(t) for t in service.find_tasks(
            session, states=state, queue=queue, customer_id=customer_id, agent_id=agent_id,
            limit=limit)]


def _transition(ctx: AppContext, task_id: str, action: Any) -> dict[str, Any]:
    dispatcher = dispatcher_of(ctx)
    with ctx.db.unit_of_work() as session:
        action(session, dispatcher.config(session), ctx.clock.now())
    dispatcher.after_change()
    return _task_out(ctx, task_id)


@router.post("/tasks/{task_id}/accept", response_model=TaskOut,
             summary="The agent takes the offer", description="Scope `routing` (a signed-in "
             "agent: for itself only). 409 if the offer is not theirs or has expired.")
def accept(task_id: str, body: AgentAction, ctx: AppContext = Depends(get_ctx),
           principal: Principal = Depends(_act_as_agent)) -> dict[str, Any]:
    principal.act_for(body.agent_id)
    return _transition(ctx, task_id, lambda s, c, now: service.accept(
        s, task_id, body.agent_id, settings=ctx.settings, policies=ctx.policies, now=now))


@router.post("/tasks/{task_id}/reject", response_model=TaskOut,
             summary="The agent declines the offer",
             description="The task waits again (its waiting time continues) and is not offered "
                         "to this agent for a while; it counts as missed. Scope `routing` (a "
                         "signed-in agent: for itself only).")
def reject(task_id: str, body: RejectIn, ctx: AppContext = Depends(get_ctx),
           principal: Principal = Depends(_act_as_agent)) -> dict[str, Any]:
    principal.act_for(body.agent_id)
    return _transition(ctx, task_id, lambda s, c, now: service.reject(s, task_id,
                                                                        body.agent_id, now))


@router.post("/tasks/{task_id}/end", response_model=TaskOut,
             summary="The conversation ended: after-call work begins",
             description="The agent stays occupied for the wrap-up time or until they "
                         "complete. Scope `routing` (a signed-in agent: for itself only).")
def end(task_id: str, body: AgentAction, ctx: AppContext = Depends(get_ctx),
        principal: Principal = Depends(_act_as_agent)) -> dict[str, Any]:
    principal.act_for(body.agent_id)
    return _transition(ctx, task_id, lambda s, c, now: service.end(s, task_id, body.agent_id,
                                                                     now))


@router.post("/tasks/{task_id}/complete", response_model=TaskOut,
             summary="Wrap-up done: disposition, notes, captured data",
             description="Recorded on the customer's timeline (`call.wrapped_up`, "
                         "`chat.completed`...), so CRM connectors and webhooks get it. For a "
                         "callback, `outcome` says whether the customer was reached. Scope "
                         "`routing` (a signed-in agent: for itself only).")
def complete(task_id: str, body: CompleteIn, ctx: AppContext = Depends(get_ctx),
             principal: Principal = Depends(_act_as_agent)) -> dict[str, Any]:
    principal.act_for(body.agent_id)
    return _transition(ctx, task_id, lambda s, c, now: wrapup.complete(
        s, task_id, body.agent_id, disposition=body.disposition, notes=body.notes,
        data=body.data, outcome=body.outcome, config=c, settings=ctx.settings,
        policies=ctx.policies, now=now))


@router.post("/tasks/{task_id}/cancel", response_model=TaskOut,
             summary="Withdraw a waiting task", description="Scope `routing`.")
def cancel(task_id: str, body: CancelIn, ctx: AppContext = Depends(get_ctx),
           _: Principal = Depends(require("routing"))) -> dict[str, Any]:
    return _transition(ctx, task_id, lambda s, c, now: service.cancel(s, task_id, body.reason,
                                                                        now))


@router.post("/tasks/{task_id}/abandon", response_model=AbandonOut,
             summary="The customer hung up while waiting (S14)",
             description="Recorded as `call.abandoned`; the abandoned-call policy decides: "
                         "ignore (short abandon, recontacted, no number), a callback, a "
                         "win-back callback, or an SMS (`callback.sms_requested`). Scope "
                         "`routing` (a signed-in agent: for itself only).")
def abandon(task_id: str, ctx: AppContext = Depends(get_ctx),
            _: Principal = Depends(require("routing"))) -> dict[str, Any]:
    dispatcher = dispatcher_of(ctx)
    with ctx.db.unit_of_work() as session:
        task, decision = callbacks.abandon(session, task_id, dispatcher.config(session),
                                           settings=ctx.settings, policies=ctx.policies,
                                           now=ctx.clock.now())
        callback_id = task.result.get("abandon", {}).get("callback_id")
    dispatcher.after_change()
    return {"task": _task_out(ctx, task_id), "decision": decision.action,
            "reason": decision.reason, "callback_id": callback_id}


# -- overrides ------------------------------------------------------------------------------

@router.post("/customers/{customer_id}/routing-overrides", response_model=OverrideOut,
             status_code=201, summary="Route this customer differently for a while",
             description="Another queue (VIP), a dedicated team, a priority boost, and a "
                         "personal IVR message and question, until `expires_at` (or for "
                         "`ttl_seconds`). Applies to the customer's waiting and new tasks. "
                         "Journeys use the same service. Scope `routing`.")
def set_override(customer_id: str, body: OverrideIn, ctx: AppContext = Depends(get_ctx),
                 principal: Principal = Depends(require("routing"))) -> dict[str, Any]:
    now = ctx.clock.now()
    if body.expires_at is None and body.ttl_seconds is None:
        raise ValidationFailed("say when the override ends", errors=[{
            "field": "expires_at", "code": "missing",
            "detail": "give expires_at or ttl_seconds"}])
    expires = body.expires_at or now + timedelta(seconds=body.ttl_seconds or 0)
    dispatcher = dispatcher_of(ctx)
    with ctx.db.unit_of_work() as session:
        row = overrides.set_override(
            session, customer_id, config=dispatcher.config(session), expires_at=expires,
            queue=body.queue, team=body.team, priority_boost=body.priority_boost,
            ivr=body.model_dump()["ivr"], reason=body.reason, source=f"key:{principal.name}",
            now=now)
        view = overrides.view(row)
    dispatcher.after_change()
    return view


@router.get("/customers/{customer_id}/routing-overrides", response_model=list[OverrideOut],
            summary="The customer's active routing overrides")
def list_overrides(customer_id: str, ctx: AppContext = Depends(get_ctx),
                   _: Principal = Depends(require("read"))) -> list[dict[str, Any]]:
    with ctx.db.unit_of_work(write=False) as session:
        return [overrides.view(r) for r in overrides.active_for(session, customer_id,
                                                               ctx.clock.now())]


@router.delete("/routing-overrides/{override_id}", response_model=OverrideOut,
               summary="End a routing override now",
               description="Tasks already routed keep their place. Scope `routing`.")
def end_override(override_id: str, ctx: AppContext = Depends(get_ctx),
                 _: Principal = Depends(require("routing"))) -> dict[str, Any]:
    with ctx.db.unit_of_work() as session:
        return overrides.view(overrides.cancel_override(session, override_id,
                                                        ctx.clock.now()))


# -- statistics -----------------------------------------------------------------------------

def _snapshot(ctx: AppContext) -> dict[str, Any]:
    now = ctx.clock.now()
    local = now.astimezone(ZoneInfo(ctx.settings.timezone))
    since = local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(now.tzinfo)
    dispatcher = dispatcher_of(ctx)
    with ctx.db.unit_of_work(write=False) as session:
        config = dispatcher.config(session)
        return stats.snapshot(session, now, since,
                              {name: q.sl_seconds for name, q in config.queues.items()})


@router.get("/routing/stats", summary="Live statistics per queue, site and agent",
            description="Since local midnight: waiting, longest wait, service level (and the "
                        "variant counting abandons), speed of answer, abandonment, handle "
                        "time, occupancy; each agent's state and time in it. Scope `read`.")
def get_stats(ctx: AppContext = Depends(get_ctx),
              _: Principal = Depends(require("read"))) -> dict[str, Any]:
    return _snapshot(ctx)


@router.get("/routing/stats/stream", summary="The same statistics as a live stream (SSE)",
            description="`text/event-stream`: a `stats` event every `interval` seconds while "
                        "the figures change (and a comment line as keep-alive otherwise). "
                        "`count` ends the stream after that many events. Scope `read`.",
            response_class=StreamingResponse,
            responses={200: {"content": {"text/event-stream": {}}}})
async def stream_stats(interval: float = Query(1.0, ge=0.2, le=60),
                       count: int | None = Query(None, ge=1, le=100_000),
                       ctx: AppContext = Depends(get_ctx),
                       _: Principal = Depends(require("read"))) -> StreamingResponse:
    async def events() -> AsyncIterator[bytes]:
        sent = 0
        last: bytes | None = None
        while count is None or sent < count:
            data = await run_in_threadpool(_snapshot, ctx)
            figures = orjson.dumps({k: v for k, v in data.items() if k != "as_of"})
            if figures != last:
                last = figures
                sent += 1
                yield b"event: stats\ndata: " + orjson.dumps(data) + b"\n\n"
            else:
                yield b": keep-alive\n\n"
            if count is None or sent < count:
                await asyncio.sleep(interval)

    return StreamingResponse(events(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache"})


# Make the batch envelope appear in the OpenAPI document.
EXTRA_MODELS = (TaskBatchIn,)
