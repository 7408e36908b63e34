"""Every query of the surveys."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import case, delete, func, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from circulo.surveys.figures import Sums
from circulo.surveys.models import SurveyInvitation, SurveyResponse

DIMENSIONS: dict[str, InstrumentedAttribute[str | None]] = {
    "agent": SurveyResponse.agent_id, "queue": SurveyResponse.queue,
    "site": SurveyResponse.site, "reason": SurveyResponse.reason,
}


def invitation(session: Session, invitation_id: str, *, for_update: bool = False
               ) -> SurveyInvitation | None:
    query = select(SurveyInvitation).where(SurveyInvitation.id == invitation_id)
    if for_update:
        query = query.with_for_update()
    return session.scalars(query).one_or_none()


def invitation_of_task(session: Session, task_id: str, *, for_update: bool = False
                       ) -> SurveyInvitation | None:
    query = select(SurveyInvitation).where(SurveyInvitation.task_id == task_id)
    if for_update:
        query = query.with_for_update()
    return session.scalars(query).one_or_none()


def invited_tasks(session: Session, task_ids: Sequence[str]) -> set[str]:
    if not task_ids:
        return set()
    return set(session.scalars(select(SurveyInvitation.task_id)
                               .where(SurveyInvitation.task_id.in_(task_ids))))


def add(session: Session, row: SurveyInvitation | SurveyResponse) -> None:
    session.add(row)
    session.flush()


def response_of_task(session: Session, task_id: str) -> SurveyResponse | None:
    return session.scalars(select(SurveyResponse)
                           .where(SurveyResponse.task_id == task_id)).one_or_none()


def sums(session: Session, start: datetime, end: datetime
         ) -> list[tuple[tuple[str, ...], Sums]]:
    """CSAT and NPS answers of ``[start, end)`` summed in the database per (agent, queue,
    site, reason): one indexed pass; the service rolls them up per dimension."""
    r = SurveyResponse
    keys = [DIMENSIONS[d] for d in DIMENSIONS]
    rows = session.execute(
        select(*keys, func.count(r.csat), func.coalesce(func.sum(r.csat), 0),
               func.sum(case((r.csat >= 4, 1), else_=0)), func.count(r.nps),
               func.sum(case((r.nps >= 9, 1), else_=0)),
               func.sum(case((r.nps <= 6, 1), else_=0)))
        .where(r.answered_at >= start, r.answered_at < end)
        .group_by(*keys))
    found = []
    for row in rows:
        key = tuple(k or "" for k in row[:len(keys)])
        cn, cs, sat, nn, pro, det = row[len(keys):]
        found.append((key, Sums("", int(cn or 0), int(cs or 0), int(sat or 0), int(nn or 0),
                                int(pro or 0), int(det or 0))))
    return found


def erase_customers(session: Session, customer_ids: Sequence[str]) -> dict[str, int]:
    """Invitations deleted; responses keep their scores for the figures but lose who gave
    them and the comment (which may name them)."""
    if not customer_ids:
        return {"survey_invitations": 0, "survey_responses": 0}
    invitations = session.execute(delete(SurveyInvitation).where(
        SurveyInvitation.customer_id.in_(customer_ids)))
    responses = session.execute(update(SurveyResponse).where(
        SurveyResponse.customer_id.in_(customer_ids)).values(customer_id=None, comment=None))
    return {"survey_invitations": int(invitations.rowcount or 0),  # type: ignore[attr-defined]
            "survey_responses": int(responses.rowcount or 0)}  # type: ignore[attr-defined]
