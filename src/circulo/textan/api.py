"""The analysis inbox's routes: how far behind the worker is, and a run on demand."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from circulo.api_deps import get_ctx, require
from circulo.auth.service import Principal
from circulo.context import AppContext
from circulo.textan import repository as repo
from circulo.textan.worker import worker_of

router = APIRouter(prefix="/v1", tags=["text"])


class InboxOut(BaseModel):
    waiting: int = Field(description="Messages stored and not analysed yet", examples=[3])
    failed: int = Field(description="Messages whose analysis kept failing (skipped)",
                        examples=[0])
    oldest_waiting_at: datetime | None = Field(
        description="When the oldest waiting message was stored: the worker's lag",
        examples=["2026-12-06T09:00:00+00:00"])


class RunOut(BaseModel):
    analysed: int = Field(examples=[12])
    skipped: int = Field(description="Messages whose event was gone (erased, purged)",
                         examples=[0])
    failed: int = Field(description="Messages marked failed in this run", examples=[0])
    derived: int = Field(description="`text.analyzed` events recorded", examples=[12])


@router.get("/text/inbox", response_model=InboxOut,
            summary="Messages waiting for text analysis",
            description="How many stored messages wait for the analysis worker, how many "
                        "failed, and since when the oldest waits (docs/text-analysis.md). "
                        "Scope `read`.")
def inbox(ctx: AppContext = Depends(get_ctx),
          _: Principal = Depends(require("read"))) -> InboxOut:
    with ctx.db.unit_of_work(write=False) as session:
        waiting, failed, oldest = repo.summary(session)
    return InboxOut(waiting=waiting, failed=failed, oldest_waiting_at=oldest)


@router.post("/text/inbox/run", response_model=RunOut,
             summary="Analyse the waiting messages now",
             description="The worker does this by itself within a second under `circulo "
                         "serve`; this is for installations that run it off and for tests "
                         "with a controlled clock. Scope `admin`.")
def run(ctx: AppContext = Depends(get_ctx),
        _: Principal = Depends(require("admin"))) -> RunOut:
    done = worker_of(ctx).run_until_idle()
    return RunOut(analysed=done.analysed, skipped=done.skipped, failed=done.failed,
                  derived=done.derived)
