"""The console's own tables: what supervisors did from it (audited), and the alerts they
acknowledged. Neither holds a customer id: an alert's key names a task, a queue or an
event, so erasing a customer leaves nothing personal here."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from circulo.db import Base, JSONType, UTCDateTime

BigIntPK = BigInteger().with_variant(Integer(), "sqlite")


class ConsoleAction(Base):
    """A supervisor's change made from the console (moving an agent between queues)."""

    __tablename__ = "console_actions"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    action: Mapped[str] = mapped_column(String(32))  # agent.queues_changed
    subject: Mapped[str] = mapped_column(String(64), index=True)  # the agent
    actor: Mapped[str] = mapped_column(String(100))  # user:<username>
    detail: Mapped[dict[str, Any]] = mapped_column(JSONType)  # before / after
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AlertAck(Base):
    """An alert a supervisor acknowledged: it leaves every supervisor's board."""

    __tablename__ = "console_alert_acks"

    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    acked_by: Mapped[str] = mapped_column(String(100))
    acked_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
