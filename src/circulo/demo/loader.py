"""Load the demo company through the real ingest pipeline, and keep it alive."""

from __future__ import annotations

import random
import threading
from pathlib import Path

from rich.console import Console
from rich.progress import Progress

from circulo.context import AppContext
from circulo.customers import service as customers
from circulo.demo.generator import DemoCompany, live_event
from circulo.i18n import say
from circulo.ingest import service as ingest

LIVE_PHONES = ["+34600123456", "+34915550123"]
DEMO_ROUTING = Path(__file__).parent / "routing.yaml"


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
            if result["errors"]:
                raise RuntimeError(f"demo data rejected: {result['errors'][:3]}")
            progress.update(task, completed=min(customers, company.seq // 14))
    console.print(say("cli.demo_loaded", lang, count=customers_count(ctx)))


def customers_count(ctx: AppContext) -> int:
    with ctx.db.unit_of_work(write=False) as session:
        return customers.count_profiles(session)


def live_trickle(ctx: AppContext, stop: threading.Event, rng: random.Random) -> None:
    """A few events a minute from known numbers, so cards change while you watch."""
    while not stop.wait(rng.uniform(5, 15)):
        with ctx.db.unit_of_work() as session:
            ingest.ingest(session, live_event(rng, ctx.clock.now(), LIVE_PHONES),
                          settings=ctx.settings, policies=ctx.policies, now=ctx.clock.now(),
                          actor="demo-live")
