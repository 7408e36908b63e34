"""Tables of churn prediction: the trained models (versioned) and each customer's score."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from circulo.db import Base, JSONType, UTCDateTime


class ChurnModelRow(Base):
    """A trained model. ``model`` is the additive logistic model as JSON (churn.model): data,
    never code. One version at most is active: the one scoring uses."""

    __tablename__ = "churn_models"

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(Boolean, default=False)
    # what it learnt from: customers, cancellations, the cut-off, cancellation types
    trained_on: Mapped[dict[str, Any]] = mapped_column(JSONType)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSONType)  # held-out AUC, base rate...
    feature_names: Mapped[list[str]] = mapped_column(JSONType)
    model: Mapped[dict[str, Any]] = mapped_column(JSONType)


class ChurnScore(Base):
    """A customer's latest score: the risk, its main reasons in words, by which model."""

    __tablename__ = "churn_scores"

    customer_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    risk: Mapped[float] = mapped_column(Float)
    factors: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)
    model_version: Mapped[int] = mapped_column(Integer)
    scored_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_churn_scores_model", "model_version", "scored_at"),)
