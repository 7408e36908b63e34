"""API shapes of churn prediction."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class ChurnModelOut(BaseModel):
    version: int
    active: bool
    created_at: str
    created_by: str
    trained_on: dict[str, Any] = Field(description="Customers, cancellations, the moment, the "
                                                   "cancellation event types, counted types",
                                       examples=[{"customers": 3000, "cancellations": 425}])
    metrics: dict[str, Any] = Field(description="Held-out AUC and base rate",
                                    examples=[{"auc": 0.91, "base_rate": 0.14}])
    feature_names: list[str]


class FactorOut(BaseModel):
    feature: str
    es: str = Field(examples=["3 contactos insatisfechos en 30 días"])
    en: str = Field(examples=["3 unsatisfied contacts in 30 days"])
    contribution: float = Field(description="Log-odds it adds to the average customer's risk")


class CustomerChurnOut(BaseModel):
    customer_id: str
    risk: float = Field(ge=0, le=1, examples=[0.72])
    factors: list[FactorOut]
    model_version: int
    scored_at: str
