"""``circulo churn``: train a churn model on the company's own cancellations, list the
versions, switch one on, and re-score every customer (docs/churn.md)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from circulo.i18n import locale_language, say

churn_app = typer.Typer(
    help="Churn prediction: learn from the customers who left, score everyone. / "
         "Predicción de bajas: aprender de los clientes que se fueron y puntuar a todos.",
    no_args_is_help=True)
console = Console()
# Exit codes: 0 done; 3 too few cancellations to learn from (nothing stored); 4 no model.
EXIT_TOO_FEW = 3
EXIT_NO_MODEL = 4


def _progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=console, transient=True)


@churn_app.command("train")
def train(
    min_cancellations: Annotated[int | None, typer.Option(
        min=1, help="Refuse with fewer cancellations (CIRCULO_CHURN_MIN_CANCELLATIONS, 50) / "
                    "Negarse con menos bajas")] = None,
    score: Annotated[bool, typer.Option(
        "--score/--no-score", help="Re-score every customer with the new model / Volver a "
                                   "puntuar a todos con el modelo nuevo")] = True,
) -> None:
    """Train a churn model on every customer's history: the labels are the company's own
    cancellation events (CIRCULO_CHURN_CANCELLATION_TYPES), the features are taken as of
    before each cancellation. Evaluates on a held-out quarter (AUC, base rate), stores the
    model as a new active version and, unless --no-score, re-scores everyone. Exit code 3
    (nothing stored) when there are too few cancellations.

    Entrena un modelo de bajas con el histórico de cada cliente: las etiquetas son los
    eventos de baja de la propia empresa y las variables se toman antes de cada baja. Lo
    evalúa con una cuarta parte reservada (AUC, tasa base), lo guarda como versión nueva
    activa y, salvo --no-score, vuelve a puntuar a todos. Código 3 (nada guardado) si hay
    muy pocas bajas.
    """
    from circulo.churn import service as churn
    from circulo.cli import _context

    ctx = _context()
    if min_cancellations is not None:
        ctx.settings = ctx.settings.with_overrides(churn_min_cancellations=min_cancellations)
    lang = locale_language()
    with _progress() as progress:
        tasks: dict[str, TaskID] = {}

        def report(step: str, done: int, total: int) -> None:
            if step not in tasks:
                tasks[step] = progress.add_task(say(f"cli.churn_step.{step}", lang),
                                                total=total)
            progress.update(tasks[step], completed=done, total=total)

        try:
            trained = churn.train(ctx.db, ctx.settings, ctx.policies, ctx.clock.now(),
                                  actor="cli", progress=report)
        except churn.NotEnoughCancellations as exc:
            progress.stop()
            typer.echo(say("cli.churn_refused", lang, detail=exc.detail), err=True)
            raise typer.Exit(code=EXIT_TOO_FEW) from exc
        console.print(say("cli.churn_trained", lang, version=trained.version,
                          customers=trained.customers, cancellations=trained.cancellations,
                          base_rate=trained.base_rate, test=trained.test_customers,
                          auc=trained.auc))
        if score:
            scored = churn.score_all(ctx.db, ctx.settings, ctx.policies, ctx.clock.now(),
                                     progress=report)
    if score:
        console.print(say("cli.churn_scored", lang, customers=scored.customers,
                          version=scored.model_version, rose=scored.rose))


@churn_app.command("models")
def models() -> None:
    """List the churn model versions: when, on what, their held-out AUC, which is active.

    Lista las versiones del modelo de bajas: cuándo, con qué datos, su AUC, cuál está activa.
    """
    from circulo.churn import service as churn
    from circulo.cli import _context

    ctx = _context()
    lang = locale_language()
    with ctx.db.unit_of_work(write=False) as session:
        rows = [(m.version, m.active, m.created_at, m.trained_on, m.metrics)
                for m in churn.list_models(session)]
    if not rows:
        console.print(say("cli.churn_no_models", lang))
        return
    es = lang == "es"
    table = Table("v", "activo" if es else "active", "creado" if es else "created",
                  "clientes" if es else "customers", "bajas" if es else "cancellations",
                  "AUC", "tasa base" if es else "base rate")
    for version, active, created_at, trained_on, metrics in rows:
        table.add_row(str(version), "*" if active else "", created_at.isoformat(
            timespec="seconds"), str(trained_on.get("customers")),
            str(trained_on.get("cancellations")), f"{metrics.get('auc', float('nan')):.3f}",
            f"{metrics.get('base_rate', 0):.1%}")
    console.print(table)


@churn_app.command("activate")
def activate(version: Annotated[int, typer.Argument(help="The model version / La versión")]
             ) -> None:
    """Make a stored version the one scoring uses (to go back to an earlier model).

    Hace activa una versión guardada (para volver a un modelo anterior).
    """
    from circulo.churn import service as churn
    from circulo.cli import _context
    from circulo.errors import NotFound

    ctx = _context()
    lang = locale_language()
    try:
        with ctx.db.unit_of_work() as session:
            churn.activate(session, version)
    except NotFound as exc:
        typer.echo(say("cli.churn_unknown", lang, version=version), err=True)
        raise typer.Exit(code=EXIT_NO_MODEL) from exc
    console.print(say("cli.churn_activated", lang, version=version))


@churn_app.command("score")
def score() -> None:
    """Re-score every customer with the active model now (`circulo serve` does it every
    CIRCULO_CHURN_SCORE_INTERVAL seconds): churn_risk, its reasons, and `churn.risk_rose`
    for whoever crosses CIRCULO_CHURN_THRESHOLD. Exit code 4 when no model is active.

    Vuelve a puntuar ahora a todos los clientes con el modelo activo. Código 4 si no hay
    ningún modelo activo.
    """
    from circulo.churn import service as churn
    from circulo.cli import _context

    ctx = _context()
    lang = locale_language()
    with _progress() as progress:
        task = progress.add_task(say("cli.churn_step.score", lang), total=None)

        def report(step: str, done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        scored = churn.score_all(ctx.db, ctx.settings, ctx.policies, ctx.clock.now(),
                                 progress=report)
    if scored.model_version is None:
        typer.echo(say("cli.churn_no_active", lang), err=True)
        raise typer.Exit(code=EXIT_NO_MODEL)
    console.print(say("cli.churn_scored", lang, customers=scored.customers,
                      version=scored.model_version, rose=scored.rose))
