"""Churn prediction over HTTP: the model versions, switching one on, a customer's score."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Path

from circulo.api_deps import get_ctx, require
from circulo.auth.service import Principal
from circulo.churn import service as churn
from circulo.churn.models import ChurnModelRow
from circulo.churn.schemas import ChurnModelOut, CustomerChurnOut
from circulo.context import AppContext
from circulo.customers import service as customers
from circulo.errors import NotFound

router = APIRouter(prefix="/v1", tags=["churn"])
CUSTOMER_ID = Path(max_length=32, pattern=r"^[0-9A-Za-z_-]{1,32}$",
                   description="The customer's Círculo id (a merged id follows the merge)")


def _model_view(row: ChurnModelRow) -> dict[str, Any]:
    return {"version": row.version, "active": row.active,
            "created_at": row.created_at.isoformat(), "created_by": row.created_by,
            "trained_on": row.trained_on, "metrics": row.metrics,
            "feature_names": row.feature_names}


@router.get("/churn/models", response_model=list[ChurnModelOut],
            summary="Churn model versions, newest first",
            description="Each version `circulo churn train` stored: what it learnt from, its "
                        "held-out AUC and base rate, its features; `active` is the one "
                        "scoring uses. The coefficients stay in the database.")
def list_models(ctx: AppContext = Depends(get_ctx),
                _: Principal = Depends(require("read"))) -> list[dict[str, Any]]:
    with ctx.db.unit_of_work(write=False) as session:
        return [_model_view(row) for row in churn.list_models(session)]


@router.post("/churn/models/{version}/activate", response_model=ChurnModelOut,
             summary="Make a stored churn model the one scoring uses",
             description="To go back to an earlier version. Scores change at the next "
                         "scoring (`circulo churn score`, or the daily one of `circulo "
                         "serve`). 404 `not_found` for an unknown version.")
def activate_model(version: int = Path(ge=1, le=1_000_000), ctx: AppContext = Depends(get_ctx),
                   _: Principal = Depends(require("admin"))) -> dict[str, Any]:
    with ctx.db.unit_of_work() as session:
        churn.activate(session, version)
        row = next(r for r in churn.list_models(session) if r.version == version)
        return _model_view(row)


@router.get("/customers/{customer_id}/churn", response_model=CustomerChurnOut,
            summary="A customer's churn risk and its main reasons (es and en)",
            description="The latest score of the active model: the risk (also the "
                        "`churn_risk` trait), up to three reasons in Spanish and English with "
                        "their contribution, the model version and when. 404 `not_found` for "
                        "an unknown customer or one not scored yet.")
def customer_churn(customer_id: str = CUSTOMER_ID, ctx: AppContext = Depends(get_ctx),
                   _: Principal = Depends(require("read"))) -> dict[str, Any]:
    with ctx.db.unit_of_work(write=False) as session:
        root = customers.active_root(session, customer_id).id
        found = churn.risk_of(session, root)
    if found is None:
        raise NotFound(f"customer '{root}' has no churn score yet",
                       errors=[{"field": "customer_id", "code": "not_scored",
                                "detail": "no churn model has scored this customer"}])
    return {"customer_id": root, "risk": found.risk,
            "factors": [f.as_dict() for f in found.factors],
            "model_version": found.model_version, "scored_at": found.scored_at.isoformat()}
