"""Load the demo company through the real ingest pipeline, and keep it alive."""

from __future__ import annotations

import os
from pathlib import Path

from rich.console import Console
from rich.progress import Progress

from circulo.auth import service as auth
from circulo.churn import service as churn
from circulo.context import AppContext
from circulo.customers import service as customers
from circulo.demo.generator import DemoCompany
from circulo.errors import CirculoError
from circulo.i18n import say
from circulo.ingest import service as ingest
from circulo.journeys import service as journeys
from circulo.textan.worker import worker_of

LIVE_PHONES = ["+34600123456", "+34915550123"]
DEMO_ROUTING = Path(__file__).parent / "routing.yaml"
KEY_FILE = "demo-key"
KEY_SCOPES = ["admin", "ingest", "read", "campaigns", "routing"]
# A small demo company (--customers 150) has a score of cancellations: the demo learns from
# them anyway, to show S17; a real company keeps CIRCULO_CHURN_MIN_CANCELLATIONS (50).
DEMO_MIN_CANCELLATIONS = 10


def load_demo(ctx: AppContext, *, customers: int, console: Console, lang: str = "en") -> None:
    if customers_count(ctx) > 0:
        console.print(say("cli.demo_exists", lang))
        return
    company = DemoCompany(ctx.clock.now(), customers=customers)
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task(say("cli.demo_loading", lang), total=customers)
        for batch in company.batches():
            with ctx.db.unit_of_work() as session:
                result = ingest.ingest(session, {"events": batch}, settings=ctx.settings,
                                       policies=ctx.policies, now=ctx.clock.now(),
                                       actor="demo")
            if result.errors:
                raise RuntimeError(f"demo data rejected: {result.errors[:3]}")
            progress.update(task, completed=min(customers, company.seq // 14))
    if ctx.settings.text_analysis:  # the messages' analysis, before the demo opens (S16)
        worker_of(ctx).run_until_idle()
    console.print(say("cli.demo_loaded", lang, count=customers_count(ctx)))


def customers_count(ctx: AppContext) -> int:
    with ctx.db.unit_of_work(write=False) as session:
        return customers.count_profiles(session)


def load_journeys(ctx: AppContext, folder: Path, *, console: Console, lang: str = "en"
                  ) -> list[str]:
    """Save and switch on every journey of ``folder`` (a new version only when a file
    changed); a file that does not load is reported and skipped."""
    loaded: list[str] = []
    for path in sorted(folder.glob("*.yaml")):
        text = path.read_text("utf-8")
        try:
            with ctx.db.unit_of_work() as session:
                journey = journeys.parse(session, ctx.settings, text=text, data=None,
                                         origin=str(path))
                journeys.save(session, journey, text, actor="demo", now=ctx.clock.now(),
                              activate=True)
        except CirculoError as exc:
            console.print(str(exc), markup=False, style="red")
            continue
        loaded.append(journey.key)
    console.print(say("cli.demo_journeys", lang, keys=", ".join(loaded) or "-"))
    return loaded


def ensure_churn_model(ctx: AppContext, *, console: Console, lang: str = "en") -> None:
    """Train the churn model on the demo company's cancellations and score everyone, once
    (S17): after the journeys are on, so ``churn.risk_rose`` starts the retention journey.
    A company too small to learn from is said and skipped."""
    with ctx.db.unit_of_work(write=False) as session:
        if churn.active_model(session) is not None:
            return
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task(say("cli.demo_churn", lang), total=None)

        def report(step: str, done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        settings = ctx.settings.with_overrides(churn_min_cancellations=min(
            DEMO_MIN_CANCELLATIONS, ctx.settings.churn_min_cancellations))
        try:
            trained = churn.train(ctx.db, settings, ctx.policies, ctx.clock.now(),
                                  actor="demo", progress=report)
        except churn.NotEnoughCancellations as exc:
            progress.stop()
            console.print(say("cli.churn_refused", lang, detail=exc.detail), markup=False)
            return
        scored = churn.score_all(ctx.db, ctx.settings, ctx.policies, ctx.clock.now(),
                                 progress=report)
    console.print(say("cli.churn_trained", lang, version=trained.version,
                      customers=trained.customers, cancellations=trained.cancellations,
                      base_rate=trained.base_rate, test=trained.test_customers,
                      auc=trained.auc))
    console.print(say("cli.churn_scored", lang, customers=scored.customers,
                      version=scored.model_version, rose=scored.rose))


def demo_key(ctx: AppContext) -> str:
    """The demo's API key: the one kept in the data directory while it still works, else a
    new one, kept there (readable by its owner only) for the next run."""
    path = ctx.settings.data_dir / KEY_FILE
    if path.exists():
        secret = path.read_text("utf-8").strip()
        try:
            ctx.authenticate(secret)
        except CirculoError:
            pass
        else:
            return secret
    with ctx.db.unit_of_work() as session:
        _, secret = auth.create_key(session, "demo", KEY_SCOPES, ctx.clock.now())
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(secret + "\n")
    path.chmod(0o600)  # an older file keeps its mode through O_TRUNC
    return secret
