"""The report as the API returns it (built from the engine's dataclasses)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class PeriodOut(_Out):
    first: date = Field(description="First local day (inclusive)")
    last: date = Field(description="Last local day (inclusive)")
    time_zone: str
    start: datetime = Field(description="Local midnight starting the period, in UTC")
    end: datetime = Field(description="Local midnight after the last day, in UTC")
    bucket: str = Field(description="`day`, or `week` for periods over 62 days")


class ServiceOut(_Out):
    offered: int = Field(description="Contacts that finished waiting: answered + abandoned")
    answered: int
    answered_in_sl: int = Field(description="Answered within the queue's threshold")
    abandoned: int
    service_level: float | None = Field(description="% answered within the threshold")
    average_speed_of_answer: float | None = Field(description="Seconds, over answered")
    abandonment_rate: float | None = Field(description="% abandoned of offered")


class HandlingOut(_Out):
    handled: int
    average_handle_time: float | None = Field(description="Seconds of talk + wrap-up")


class ScoresOut(_Out):
    responses: int = Field(description="CSAT answers (1–5)")
    csat_average: float | None
    csat_satisfied: float | None = Field(description="% of answers 4 or 5")


class ResolutionOut(_Out):
    judged: int = Field(description="Handled contacts with a customer and a reason")
    resolved: int = Field(description="No contact on the same reason within 7 days after")
    first_contact_resolution: float | None = Field(description="% resolved of judged")


class CountOut(_Out):
    key: str = Field(description="The reason or channel; an empty reason is none given")
    contacts: int


class QueueOut(_Out):
    queue: str
    service: ServiceOut
    handling: HandlingOut
    scores: ScoresOut


class AgentOut(_Out):
    agent_id: str
    handling: HandlingOut
    scores: ScoresOut


class ScoreLineOut(_Out):
    key: str = Field(description="The site or contact reason; empty: not known")
    scores: ScoresOut
    nps_responses: int
    nps: float | None = Field(description="% promoters (9–10) − % detractors (0–6)")


class BucketOut(_Out):
    start: date = Field(description="The local day, or the first day of the week")
    contacts: int
    service_level: float | None
    nps_responses: int
    nps: float | None


class ReportOut(_Out):
    period: PeriodOut
    service: ServiceOut
    handling: HandlingOut
    resolution: ResolutionOut
    scores: ScoresOut
    nps_responses: int
    nps: float | None = Field(description="% promoters (9–10) − % detractors (0–6)")
    by_reason: list[CountOut]
    by_channel: list[CountOut]
    queues: list[QueueOut]
    agents: list[AgentOut]
    trend: list[BucketOut] = Field(description="Per day (or week): contacts, SL, NPS")
    scores_by_site: list[ScoreLineOut] = Field(
        description="CSAT and NPS per site: the answer's own, else its agent's site")
    scores_by_reason: list[ScoreLineOut] = Field(
        description="CSAT and NPS per contact reason: the answered task's, else the answer's")
