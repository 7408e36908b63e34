"""Every query of the campaigns domain."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from circulo.campaigns.models import Campaign, CampaignMember
from circulo.db import bulk_insert

MEMBERS = CampaignMember.__table__


def get(session: Session, campaign_id: str, *, for_update: bool = False) -> Campaign | None:
    query = select(Campaign).where(Campaign.id == campaign_id)
    if for_update:
        query = query.with_for_update()
    return session.scalars(query).first()


def by_external_id(session: Session, source: str, external_id: str) -> Campaign | None:
    return session.scalars(select(Campaign).where(
        Campaign.source == source, Campaign.external_id == external_id)).first()


def add(session: Session, campaign: Campaign) -> None:
    session.add(campaign)
    session.flush()


def recent(session: Session, limit: int) -> list[Campaign]:
    return list(session.scalars(select(Campaign).order_by(Campaign.created_at.desc(),
                                                          Campaign.id.desc()).limit(limit)))


def existing_keys(session: Session, campaign_id: str, keys: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(keys), 500):
        found.update(session.scalars(select(CampaignMember.key).where(
            CampaignMember.campaign_id == campaign_id,
            CampaignMember.key.in_(keys[start:start + 500]))))
    return found


def next_position(session: Session, campaign_id: str) -> int:
    last = session.scalar(select(func.max(CampaignMember.position))
                          .where(CampaignMember.campaign_id == campaign_id))
    return 0 if last is None else int(last) + 1


def insert_members(session: Session, rows: list[dict[str, Any]]) -> None:
    bulk_insert(session, MEMBERS, rows)


def counts(session: Session, campaign_ids: Sequence[str]
           ) -> dict[str, list[tuple[str, str | None, str | None, int]]]:
    """Per campaign: (status, channel, reason, members)."""
    rows = session.execute(
        select(CampaignMember.campaign_id, CampaignMember.status, CampaignMember.channel,
               CampaignMember.reason, func.count())
        .where(CampaignMember.campaign_id.in_(campaign_ids))
        .group_by(CampaignMember.campaign_id, CampaignMember.status, CampaignMember.channel,
                  CampaignMember.reason))
    found: dict[str, list[tuple[str, str | None, str | None, int]]] = {}
    for campaign_id, status, channel, reason, n in rows:
        found.setdefault(campaign_id, []).append((status, channel, reason, int(n)))
    return found


def members_page(session: Session, campaign_id: str, *, status: str | None, after: int,
                 limit: int) -> list[CampaignMember]:
    query = select(CampaignMember).where(CampaignMember.campaign_id == campaign_id,
                                         CampaignMember.position > after)
    if status:
        query = query.where(CampaignMember.status == status)
    return list(session.scalars(query.order_by(CampaignMember.position).limit(limit)))


def delete_members_of(session: Session, customer_ids: Sequence[str]) -> int:
    """Erasure: the customers' memberships go, with the sender's member key (often an
    e-mail or phone) and the reason a member was skipped."""
    result = session.execute(delete(CampaignMember).where(
        CampaignMember.customer_id.in_(list(customer_ids))))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
