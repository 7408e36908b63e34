"""Surveys after an interaction: the invitation (one per interaction), the public link's
checks, the one response and the ``survey.answered`` event it ingests, and the figures.

The invitation is made in the transaction that records the wrap-up (an ingest subscriber:
``on_events_stored``), and its message waits in the outbox until the survey's delay has
passed, so neither a crash nor a retry can send two or none.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from circulo import hooks
from circulo.campaigns import engine as reach_engine
from circulo.campaigns.service import reach_of
from circulo.config import Settings
from circulo.connectors import service as outbox
from circulo.customers import service as customers
from circulo.errors import CirculoError, Conflict, NotFound, ValidationFailed
from circulo.identity import service as identity
from circulo.identity import suppression
from circulo.ids import new_id
from circulo.ingest import service as ingest
from circulo.routing import repository as routing_repo
from circulo.routing import service as routing
from circulo.routing.models import TaskRow
from circulo.surveys import definition, engine, figures
from circulo.surveys import repository as repo
from circulo.surveys.definition import Catalogue, Survey
from circulo.surveys.engine import Answers, Problem
from circulo.surveys.figures import Figures
from circulo.surveys.models import SurveyInvitation, SurveyResponse

EVENT = "survey.answered"
LANGUAGES = ("es", "en")
# The events routing records when an agent finishes an interaction (routing.service).
TRIGGERS = frozenset(routing.COMPLETED_EVENT.values()) | frozenset(
    f"{prefix}.completed" for prefix in routing.EVENT_PREFIX.values())
log = logging.getLogger(__name__)


class AlreadyAnswered(Conflict):
    code, title = "already_answered", "Survey already answered"


class SurveyExpired(CirculoError):
    status, code, title = 410, "survey_expired", "Survey expired"


def catalogue_of(settings: Settings) -> Catalogue:
    return definition.load(settings.surveys_file)


def link_key(settings: Settings) -> bytes:
    """The links' signing key, derived from the installation's erasure key (so every process
    of an installation shares it, and nobody has one more secret to keep)."""
    return hmac.new(suppression.key_of(settings), b"circulo survey links",
                    hashlib.sha256).digest()


def base_url(settings: Settings) -> str:
    return (settings.public_url or f"http://{settings.host}:{settings.port}").rstrip("/")


def _language(*options: Any) -> str:
    for option in options:
        primary = str(option or "").split("-")[0].lower()
        if primary in LANGUAGES:
            return primary
    return "es"


# -- invitations ------------------------------------------------------------------------------

def on_events_stored(session: Session, accepted: hooks.Accepted) -> None:
    """The ingest subscriber: an interaction an agent finished gets its survey invitation."""
    wanted = [row for row in accepted.rows
              if row["type"] in TRIGGERS and row["source"] == "routing"]
    if not wanted:
        return
    try:
        catalogue = catalogue_of(accepted.settings)
    except definition.SurveyConfigError:
        # Checked at start-up (wiring.build_context); a file broken since must not undo the
        # wrap-up that is being recorded: no survey until it is fixed, and it says why.
        log.exception("no survey sent: the surveys file cannot be read")
        return
    if not catalogue.surveys:
        return
    for row in wanted:
        view = accepted.view(row)
        task_id = (view.get("properties") or {}).get("task_id")
        if isinstance(task_id, str) and task_id:
            invite(session, accepted.settings, catalogue, task_id, view.get("customer_id"),
                   accepted.now)


@dataclass(frozen=True, slots=True)
class Interaction:
    task_id: str
    customer_id: str | None
    agent_id: str | None
    queue: str
    channel: str
    site: str | None
    reason: str | None
    language: str | None


def interaction_of(session: Session, task: TaskRow) -> Interaction:
    site = None
    if task.agent_id:
        agents = routing_repo.agents_by_ids(session, [task.agent_id])
        site = agents[0].site if agents else None
    reason = task.reason or (task.result or {}).get("disposition")
    return Interaction(task.id, task.customer_id, task.agent_id, task.queue, task.channel,
                       site, str(reason)[:200] if reason else None, task.language)


def invite(session: Session, settings: Settings, catalogue: Catalogue, task_id: str,
           customer_id: str | None, now: datetime) -> SurveyInvitation | None:
    """The invitation for one finished interaction, once: none when it has one already, when
    no agent handled it, nobody is behind it, or no survey follows its queue and channel."""
    if repo.invitation_of_task(session, task_id) is not None:
        return None
    tasks = routing.get_tasks(session, [task_id])
    if not tasks or not tasks[0].agent_id:
        return None
    contact = interaction_of(session, tasks[0])
    customer_id = customer_id or contact.customer_id
    survey = catalogue.following(contact.queue, contact.channel)
    if survey is None or not customer_id:
        return None
    profiles = customers.profiles_by_ids(session, [customer_id])
    if not profiles:
        return None
    profile = profiles[0]
    language = _language((profile.traits or {}).get("language"), contact.language,
                         settings.default_language)
    send_at = now + timedelta(seconds=survey.delay)
    row = SurveyInvitation(
        id="svi_" + new_id(), task_id=task_id, survey=survey.name, customer_id=customer_id,
        agent_id=contact.agent_id, queue=contact.queue, site=contact.site,
        reason=contact.reason, channel="ivr", language=language, status="ivr",
        created_at=now, send_at=send_at, expires_at=send_at + timedelta(seconds=survey.lifetime))
    if survey.send_by != ("ivr",):
        points = identity.contact_points_of(session, [customer_id]).get(customer_id, [])
        reach = reach_of(profile, points, settings)
        reasons = []
        for channel in survey.send_by:
            plan = reach_engine.choose(channel, survey.purpose, reach)
            if plan.channel and plan.to:
                break
            reasons.append(f"{channel}:{plan.reason}")
        else:
            row.channel, row.status, row.skipped_reason = "none", "skipped", ",".join(reasons)
            repo.add(session, row)
            return row
        token = engine.make_token(link_key(settings), row.id, secrets.token_urlsafe(24))
        row.token_hash, row.channel, row.status = engine.token_hash(token), plan.channel, "sent"
        link = f"{base_url(settings)}/s/{token}"
        message_id = "ntf_" + new_id()
        data = {"message_id": message_id, "customer_id": customer_id, "channel": plan.channel,
                "to": plan.to, "text": survey.invite.of(language).replace("{link}", link),
                "subject": survey.subject.of(language) if plan.channel == "email" else None,
                "language": language, "purpose": survey.purpose}
        row.message_id = outbox.enqueue_request(
            session, f"notify:{plan.channel}", "notification.requested", data,
            ordering_key=customer_id, now=now, not_before=send_at)
    repo.add(session, row)
    return row


# -- the public link --------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Opened:
    """What a link leads to: ``state`` ``open`` (with the survey), ``answered``,
    ``expired`` or ``invalid`` (unknown, tampered or withdrawn)."""

    state: str
    language: str = "es"
    survey: Survey | None = None
    invitation: SurveyInvitation | None = None


def open_link(session: Session, settings: Settings, token: str, now: datetime, *,
              for_update: bool = False) -> Opened:
    invitation_id = engine.read_token(link_key(settings), token)
    if invitation_id is None:
        return Opened("invalid")
    row = repo.invitation(session, invitation_id, for_update=for_update)
    if row is None or not engine.same_token(token, row.token_hash):
        return Opened("invalid")
    if row.status == "answered":
        return Opened("answered", row.language)
    survey = catalogue_of(settings).get(row.survey)
    if now >= row.expires_at or survey is None:
        return Opened("expired", row.language)
    return Opened("open", row.language, survey, row)


@dataclass(frozen=True, slots=True)
class Submitted:
    state: str  # saved | answered | expired | invalid | problems
    language: str = "es"
    survey: Survey | None = None
    problems: tuple[Problem, ...] = ()
    answers: Answers | None = None


def submit_link(session: Session, settings: Settings, policies: customers.Policies,
                token: str, form: Mapping[str, str], language: str | None,
                now: datetime) -> Submitted:
    """The answers sent from the public page: stored once, with the event."""
    opened = open_link(session, settings, token, now, for_update=True)
    row = opened.invitation
    if opened.state != "open" or opened.survey is None or row is None:
        return Submitted(opened.state, opened.language)
    read = engine.read_answers(opened.survey, form)
    if isinstance(read, list):
        return Submitted("problems", opened.language, opened.survey, tuple(read))
    answered_in = _language(language, row.language)
    record_response(session, settings, policies, row, opened.survey, read, "web", answered_in,
                    now)
    return Submitted("saved", answered_in, opened.survey, answers=read)


# -- the IVR's keypad -------------------------------------------------------------------------

def answer_by_keypad(session: Session, settings: Settings, policies: customers.Policies,
                     task_id: str, digits: Mapping[str, Any], survey_name: str | None,
                     language: str | None, now: datetime) -> SurveyResponse:
    """Keypad answers for an interaction: the same one-response rule and event as the link.
    An interaction without an invitation gets one now, if a survey follows it."""
    catalogue = catalogue_of(settings)
    row = repo.invitation_of_task(session, task_id, for_update=True)
    if row is None:
        task = routing.get_tasks(session, [task_id])
        if not task or not task[0].agent_id or task[0].state != "completed":
            raise NotFound(f"interaction '{task_id}' does not exist or was not completed by "
                           "an agent", field="task_id")
        contact = interaction_of(session, task[0])
        survey = catalogue.get(survey_name) if survey_name \
            else catalogue.following(contact.queue, contact.channel)
        if survey is None:
            raise NotFound(f"no survey {survey_name!r}" if survey_name
                           else "no survey follows this interaction",
                           field="survey" if survey_name else "task_id")
        row = SurveyInvitation(
            id="svi_" + new_id(), task_id=task_id, survey=survey.name,
            customer_id=contact.customer_id, agent_id=contact.agent_id, queue=contact.queue,
            site=contact.site, reason=contact.reason, channel="ivr",
            language=_language(language, contact.language, settings.default_language),
            status="ivr", created_at=now, send_at=now,
            expires_at=now + timedelta(seconds=survey.lifetime))
        repo.add(session, row)
    if row.status == "answered" or repo.response_of_task(session, task_id) is not None:
        raise AlreadyAnswered(f"interaction '{task_id}' already has its survey response",
                              field="task_id")
    survey = catalogue.get(row.survey)
    if survey is None or now >= row.expires_at:
        raise SurveyExpired(f"the survey of interaction '{task_id}' closed at "
                            f"{row.expires_at.isoformat()}", field="task_id")
    read = engine.read_answers(survey, digits, strict=True)
    if isinstance(read, list):
        raise ValidationFailed("answers refused: " + "; ".join(
            f"{p.field}: {p.detail}" for p in read), errors=[
            {"field": f"answers.{p.field}", "code": p.code, "detail": p.detail} for p in read])
    return record_response(session, settings, policies, row, survey, read, "ivr",
                           _language(language, row.language), now)


# -- the response -----------------------------------------------------------------------------

def record_response(session: Session, settings: Settings, policies: customers.Policies,
                    row: SurveyInvitation, survey: Survey, answers: Answers, channel: str,
                    language: str, now: datetime) -> SurveyResponse:
    """The one response (the unique task id refuses a second, whatever the race) and the
    ``survey.answered`` event on the customer, through the normal ingest pipeline (so the
    indicators, journeys, webhooks and the text analysis of the comment all see it)."""
    response = SurveyResponse(
        id="svr_" + new_id(), task_id=row.task_id, invitation_id=row.id, survey=survey.name,
        customer_id=row.customer_id, agent_id=row.agent_id, queue=row.queue, site=row.site,
        reason=row.reason, channel=channel, language=language, csat=answers.csat,
        nps=answers.nps, comment=answers.comment, answered_at=now)
    repo.add(session, response)
    row.status, row.answered_at = "answered", now
    if row.customer_id:
        low = engine.is_low(answers, catalogue_of(settings).low_score)
        properties = {"survey": survey.name, "task_id": row.task_id,
                      "interaction_id": row.task_id, "agent": row.agent_id,
                      "agent_id": row.agent_id, "queue": row.queue, "site": row.site,
                      "reason": row.reason, "csat": answers.csat, "nps": answers.nps,
                      "comment": answers.comment, "language": language, "channel": channel,
                      "low_score": low}
        event = {"type": EVENT, "source": "surveys", "id": f"survey:{row.task_id}",
                 "occurred_at": now.isoformat(), "identifiers": {"customer_id": row.customer_id},
                 "properties": {k: v for k, v in properties.items() if v is not None}}
        result = ingest.ingest(session, {"events": [event]}, settings=settings,
                               policies=policies, now=now, actor="surveys")
        for problem in result.errors:  # an erased customer: the scores stay, anonymous
            log.warning("survey event for %s not recorded: %s: %s", row.task_id,
                        problem.field, problem.detail)
    return response


# -- figures ----------------------------------------------------------------------------------

DIMENSIONS = tuple(repo.DIMENSIONS)  # agent, queue, site, reason


@dataclass(frozen=True, slots=True)
class Scoreboard:
    start: datetime
    end: datetime
    total: Figures
    by: dict[str, list[Figures]]


def scoreboard(session: Session, start: datetime, end: datetime) -> Scoreboard:
    """CSAT and NPS of the answers given in ``[start, end)`` by agent, queue, site, reason."""
    combos = repo.sums(session, start, end)
    by: dict[str, list[Figures]] = {}
    for position, dimension in enumerate(DIMENSIONS):
        groups: dict[str, list[figures.Sums]] = {}
        for key, sums in combos:
            groups.setdefault(key[position], []).append(sums)
        by[dimension] = [figures.figures(figures.total(groups[k], k)) for k in sorted(groups)]
    return Scoreboard(start, end, figures.figures(figures.total([s for _, s in combos])), by)


def local_day_start(day: datetime, zone: str) -> datetime:
    local = day.astimezone(ZoneInfo(zone))
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def erase_customers(session: Session, customer_ids: list[str], now: datetime
                    ) -> dict[str, int]:
    return repo.erase_customers(session, customer_ids)
