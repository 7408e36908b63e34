"""Journeys over HTTP: save (YAML or JSON), switch on and off, counters and instances, a
dry run over history; next-best-action suggestions; the named lists journeys fill."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from circulo.api_deps import get_ctx, parse_json, read_body, require
from circulo.auth.service import Principal
from circulo.context import AppContext
from circulo.customers import service as customers
from circulo.customers.schemas import SuggestionOut
from circulo.errors import ValidationFailed
from circulo.journeys import dryrun, service
from circulo.journeys.runner import runner_of

router = APIRouter(prefix="/v1", tags=["journeys"])
YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml")
BODY = {"requestBody": {"required": True, "content": {
    "application/yaml": {"schema": {"type": "string"}},
    "application/json": {"schema": {"type": "object"}}}}}


class JourneyOut(BaseModel):
    key: str
    name: Any
    status: str = Field(description="active (its trigger starts instances) or paused")
    active_version: int | None
    latest_version: int
    trigger: Any
    updated_at: str
    counters: dict[str, Any] = Field(description="entered, running, exits by step, actions "
                                                 "by kind and outcome, errors")
    created: bool | None = Field(default=None, description="On save: a new version was made")
    document: dict[str, Any] | None = None
    text: str | None = None
    versions: list[dict[str, Any]] | None = None
    recent_errors: list[dict[str, Any]] | None = None
    rule_errors: list[dict[str, Any]] | None = Field(
        default=None, description="Conditions that failed to evaluate (a type error such as "
        "a text compared with a number; missing data is not an error), by rule: where it is, "
        "its text, how often, the last error and when. Such a condition does not hold.")


class DecisionIn(BaseModel):
    note: str | None = Field(default=None, max_length=500)
    agent_id: str | None = Field(default=None, max_length=64)


async def _document(request: Request, ctx: AppContext) -> tuple[str | None, Any]:
    body = await read_body(request, ctx.settings.max_body_bytes)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type in YAML_TYPES:
        try:
            return body.decode("utf-8"), None
        except UnicodeDecodeError as exc:
            raise ValidationFailed("the journey is not UTF-8 text") from exc
    return None, parse_json(body)


@router.post("/journeys", response_model=JourneyOut, response_model_exclude_none=True,
             summary="Save a journey (YAML or JSON); a new version if it changed",
             description="Checked before it is saved: an invalid expression, an unknown event "
                         "type or template variable, or steps in a circle are refused with "
                         "the line (YAML) or path and the reason. `activate=true` switches the "
                         "new version on; running instances finish on their own version. "
                         "Scope `admin`.", openapi_extra=BODY)
async def save_journey(request: Request, activate: bool = Query(default=False),
                       ctx: AppContext = Depends(get_ctx),
                       principal: Principal = Depends(require("admin"))) -> dict[str, Any]:
    text, data = await _document(request, ctx)

    def save() -> dict[str, Any]:
        with ctx.db.unit_of_work() as session:
            journey = service.parse(session, ctx.settings, text=text, data=data,
                                    origin="journey")
            row, created = service.save(session, journey, text, actor=f"key:{principal.name}",
                                        now=ctx.clock.now(), activate=activate)
            return {**service.view(session, row), "created": created}

    return await run_in_threadpool(save)


@router.get("/journeys", response_model=list[JourneyOut], response_model_exclude_none=True,
            summary="Journeys with their counters")
def list_journeys(ctx: AppContext = Depends(get_ctx),
                  _: Principal = Depends(require("read"))) -> list[dict[str, Any]]:
    with ctx.db.unit_of_work(write=False) as session:
        return service.views(session)


@router.get("/journeys/{key}", response_model=JourneyOut, response_model_exclude_none=True,
            summary="A journey: its document, versions, counters and recent errors")
def get_journey(key: str, ctx: AppContext = Depends(get_ctx),
                _: Principal = Depends(require("read"))) -> dict[str, Any]:
    with ctx.db.unit_of_work(write=False) as session:
        return service.view(session, service.get(session, key), detail=True)


@router.post("/journeys/{key}/activate", response_model=JourneyOut,
             response_model_exclude_none=True,
             summary="Switch a journey on (its latest version, or ?version=N)")
def activate_journey(key: str, version: int | None = Query(default=None, ge=1),
                     ctx: AppContext = Depends(get_ctx),
                     _: Principal = Depends(require("admin"))) -> dict[str, Any]:
    with ctx.db.unit_of_work() as session:
        row = service.set_status(session, key, "active", ctx.clock.now(), version)
        return service.view(session, row)


@router.post("/journeys/{key}/pause", response_model=JourneyOut,
             response_model_exclude_none=True,
             summary="Switch a journey off: no new entries; running instances finish")
def pause_journey(key: str, ctx: AppContext = Depends(get_ctx),
                  _: Principal = Depends(require("admin"))) -> dict[str, Any]:
    with ctx.db.unit_of_work() as session:
        row = service.set_status(session, key, "paused", ctx.clock.now())
        return service.view(session, row)


@router.get("/journeys/{key}/instances", summary="A journey's instances, newest first, with "
                                                 "the actions each took")
def journey_instances(key: str, status: str | None = Query(default=None,
                                                           pattern="^(running|waiting|done)$"),
                      customer_id: str | None = Query(default=None, max_length=32),
                      limit: int = Query(default=50, ge=1, le=500),
                      ctx: AppContext = Depends(get_ctx),
                      _: Principal = Depends(require("read"))) -> list[dict[str, Any]]:
    with ctx.db.unit_of_work(write=False) as session:
        service.get(session, key)
        return service.instances(session, journey=key, customer_id=customer_id,
                                 status=status, limit=limit)


@router.post("/journeys/try", summary="Dry run: who a journey would have touched",
             description="Replays the stored events of the last `since` (e.g. 30d) through the "
                         "journey, on a simulated clock, without acting: who would have "
                         "entered, which actions would have fired, with examples. Scope "
                         "`read`.", openapi_extra=BODY)
async def try_journey(request: Request, since: str = Query(default="30d"),
                      examples: int = Query(default=5, ge=0, le=50),
                      ctx: AppContext = Depends(get_ctx),
                      _: Principal = Depends(require("read"))) -> dict[str, Any]:
    text, data = await _document(request, ctx)

    def replay() -> dict[str, Any]:
        with ctx.db.unit_of_work(write=False) as session:
            journey = service.parse(session, ctx.settings, text=text, data=data,
                                    origin="journey")
            return dryrun.replay(session, journey, since=dryrun.since_seconds(since),
                                 settings=ctx.settings, policies=ctx.policies,
                                 now=ctx.clock.now(), examples=examples)

    return await run_in_threadpool(replay)


@router.post("/journeys/run", summary="Run the journeys now (a pass over waiting events "
                                      "and due timers)",
             description="The runner does this by itself within a second; this is for "
                         "installations that run it off (`routing_background` false) and for "
                         "tests with a controlled clock. Scope `admin`.")
def run_journeys(ctx: AppContext = Depends(get_ctx),
                 _: Principal = Depends(require("admin"))) -> dict[str, int]:
    return {"handled": runner_of(ctx).run_until_idle()}


# -- suggestions ------------------------------------------------------------------------------

@router.get("/customers/{customer_id}/suggestions", response_model=list[SuggestionOut],
            response_model_exclude_none=True, summary="Open next-best-action suggestions")
def customer_suggestions(customer_id: str, lang: str | None = Query(default=None,
                                                                     pattern="^(es|en)$"),
                         ctx: AppContext = Depends(get_ctx),
                         _: Principal = Depends(require("read"))) -> list[dict[str, Any]]:
    with ctx.db.unit_of_work(write=False) as session:
        root = customers.active_root(session, customer_id)
        return [service.suggestion_view(s, lang) for s in
                service.suggestions_for(session, [root.id], ctx.clock.now())]


# An agent decides for itself: a signed-in agent's session only as its own agent
_act_as_agent = require("routing", own_agent=True)


def _decide(suggestion_id: str, decision: str, body: DecisionIn | None, ctx: AppContext,
            principal: Principal) -> dict[str, Any]:
    if body and body.agent_id:
        principal.act_for(body.agent_id)
    actor = f"agent:{body.agent_id}" if body and body.agent_id else principal.actor
    with ctx.db.unit_of_work() as session:
        row = service.decide(session, suggestion_id, decision, actor=actor,
                             note=body.note if body else None, settings=ctx.settings,
                             policies=ctx.policies, now=ctx.clock.now())
        return service.suggestion_view(row)


@router.post("/suggestions/{suggestion_id}/accept", response_model=SuggestionOut,
             response_model_exclude_none=True,
             summary="The agent takes the suggestion (recorded as suggestion.accepted)")
def accept_suggestion(suggestion_id: str, body: DecisionIn | None = None,
                      ctx: AppContext = Depends(get_ctx),
                      principal: Principal = Depends(_act_as_agent)) -> dict[str, Any]:
    return _decide(suggestion_id, "accepted", body, ctx, principal)


@router.post("/suggestions/{suggestion_id}/dismiss", response_model=SuggestionOut,
             response_model_exclude_none=True,
             summary="The agent turns the suggestion down (recorded as suggestion.dismissed)")
def dismiss_suggestion(suggestion_id: str, body: DecisionIn | None = None,
                       ctx: AppContext = Depends(get_ctx),
                       principal: Principal = Depends(_act_as_agent)) -> dict[str, Any]:
    return _decide(suggestion_id, "dismissed", body, ctx, principal)


# -- lists ------------------------------------------------------------------------------------

@router.get("/lists/{name}/members", summary="A named list's members (journeys fill them)")
def list_members(name: str, after: str = Query(default="", max_length=32),
                 limit: int = Query(default=100, ge=1, le=1000),
                 ctx: AppContext = Depends(get_ctx),
                 _: Principal = Depends(require("read"))) -> dict[str, Any]:
    with ctx.db.unit_of_work(write=False) as session:
        members = service.list_members(session, name, after=after, limit=limit)
        return {"list": name, "members": members,
                "next_after": members[-1]["customer_id"] if len(members) == limit else None}
