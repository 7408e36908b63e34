"""The ``circulo`` command: serve, worker, demo, import, keys, migrate, simulate, journeys,
identity, users, churn."""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from circulo.cli_churn import churn_app
from circulo.config import Settings, get_settings
from circulo.i18n import locale_language, say

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from circulo.context import AppContext

app = typer.Typer(
    help="Círculo: a contact center that knows its customers. "
         "/ Un centro de contacto que conoce a sus clientes.",
    no_args_is_help=True, add_completion=False,
)
keys_app = typer.Typer(help="Manage API keys. / Gestionar las claves del API.",
                       no_args_is_help=True)
app.add_typer(keys_app, name="keys")
users_app = typer.Typer(help="Manage users who sign in (agents, supervisors, admins). / "
                             "Gestionar los usuarios (agentes, supervisores, administradores).",
                        no_args_is_help=True)
app.add_typer(users_app, name="users")
journeys_app = typer.Typer(help="Journeys: try them on history, save and switch them on. / "
                                "Recorridos: probarlos con el histórico, guardarlos y activarlos.",
                           no_args_is_help=True)
app.add_typer(journeys_app, name="journeys")
identity_app = typer.Typer(help="Identity: find duplicate customers. / "
                                "Identidad: encontrar clientes duplicados.",
                           no_args_is_help=True)
app.add_typer(identity_app, name="identity")
prompts_app = typer.Typer(help="IVR prompts: speak them into WAV files (espeak-ng). / "
                               "Locuciones del IVR: convertirlas en ficheros WAV (espeak-ng).",
                          no_args_is_help=True)
app.add_typer(prompts_app, name="prompts")

app.add_typer(churn_app, name="churn")
console = Console()


@app.callback()
def main(data_dir: Annotated[Path | None, typer.Option(
        "--data-dir", file_okay=False,
        help="Where the SQLite database lives (CIRCULO_DATA_DIR; make demo uses data/demo). "
             "Give the server's to act on its data / Dónde está la base de datos SQLite; la "
             "del servidor para actuar sobre sus datos")] = None) -> None:
    """Settings come from CIRCULO_* variables, then circulo.env in the current directory.

    La configuración sale de las variables CIRCULO_* y de circulo.env en el directorio actual.
    """
    if data_dir is not None:
        os.environ["CIRCULO_DATA_DIR"] = str(data_dir)
        get_settings.cache_clear()


def _context(settings: Settings | None = None, *, new_ok: bool = False) -> AppContext:
    """Settings, database (migrated) and policies; heavy imports only when a command runs.
    A command that would create a new, empty SQLite database says so first (unless
    ``new_ok``): it is probably not reading the server's data."""
    from circulo.migrate import upgrade
    from circulo.runtime import tune_gc
    from circulo.wiring import build_context

    tune_gc()
    settings = settings or get_settings()
    database = settings.data_dir / "circulo.db"
    if not new_ok and not settings.database_url and not database.exists():
        typer.echo(say("cli.new_database", locale_language(), path=database.resolve()),
                   err=True)
    ctx = build_context(settings)
    upgrade(ctx.db.engine)
    if ctx.settings.routing_file:
        apply_routing_file(ctx, ctx.settings.routing_file)
    return ctx


def apply_routing_file(ctx: AppContext, path: Path) -> None:
    """Put a routing policy file in force (a new version only if it changed); a broken file
    stops the command with the line and the reason."""
    from circulo.errors import CirculoError
    from circulo.routing import service as routing
    from circulo.routing.policy import PolicyError, parse_yaml

    try:
        config = parse_yaml(path.read_text(encoding="utf-8"), str(path))
        with ctx.db.unit_of_work() as session:
            version, created = routing.apply_policy(
                session, config, path.read_text(encoding="utf-8"), actor=f"file:{path}",
                now=ctx.clock.now(), cache=routing.PolicyCache())
    except (OSError, PolicyError, CirculoError) as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    if created:
        console.print(say("cli.routing_applied", locale_language(), version=version,
                          path=str(path)))


@app.command()
def migrate() -> None:
    """Create or upgrade the database schema. / Crear o actualizar el esquema."""
    ctx = _context(new_ok=True)
    console.print(say("cli.db_ready", locale_language(), url=ctx.db.url.split("@")[-1]))


def _listen_on(host: str | None, port: int | None, *, check: bool = True) -> tuple[str, int]:
    """The address to serve on (options, else CIRCULO_HOST and CIRCULO_PORT), checked free
    before anything is created: a port in use ends the command with the reason."""
    from circulo.serving import PortUnavailable, check_port

    settings = get_settings()
    address = (host or settings.host, port or settings.port)
    if not check:
        return address
    try:
        check_port(*address)
    except PortUnavailable as exc:
        typer.echo(say("cli.port_unavailable", locale_language(), error=exc), err=True)
        raise typer.Exit(code=1) from exc
    return address


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(
        help="Address to listen on (CIRCULO_HOST, default 127.0.0.1)")] = None,
    port: Annotated[int | None, typer.Option(
        min=1, max=65535, help="Port (CIRCULO_PORT, default 8000)")] = None,
    workers: Annotated[int, typer.Option(help="Worker processes")] = 1,
    outbox: Annotated[bool, typer.Option("--outbox/--no-outbox",
                                         help="Deliver webhooks from this process too")] = True,
) -> None:
    """Run the HTTP API with the routing loop, the journeys runner and the outbox worker
    (migrating first). / Servir el API HTTP con sus procesos de fondo (migrando antes)."""
    from circulo import server

    address = _listen_on(host, port)
    ctx = _context()
    server.serve(ctx, host=address[0], port=address[1], workers=workers, outbox=outbox)


@app.command()
def worker() -> None:
    """Deliver the outbox (webhooks) until stopped. / Entregar la bandeja de salida."""
    import asyncio

    from circulo.connectors.worker import OutboxWorker

    ctx = _context()

    async def main() -> None:
        async with OutboxWorker(ctx) as outbox_worker:
            await outbox_worker.run_forever(threading.Event())

    asyncio.run(main())


@keys_app.command("create")
def keys_create(
    name: Annotated[str, typer.Option(help="Who or what uses the key")],
    scope: Annotated[list[str], typer.Option(
        help="ingest, read, campaigns, routing, metrics, admin, pins:write, identity:review or "
             "widget; repeat for several / repetir para varios")],
) -> None:
    """Create an API key, shown once. / Crear una clave del API (se muestra una vez)."""
    from circulo.auth import service as auth

    ctx = _context()
    with ctx.db.unit_of_work() as session:
        key, secret = auth.create_key(session, name, scope, ctx.clock.now())
    console.print(say("cli.key_created", locale_language(), name=name, scopes=key.scopes,
                      prefix=key.prefix))
    typer.echo(secret)


@keys_app.command("list")
def keys_list() -> None:
    """List API keys, never their secrets. / Listar las claves, nunca sus secretos."""
    from circulo.auth import service as auth

    ctx = _context()
    with ctx.db.unit_of_work(write=False) as session:
        for key in auth.list_keys(session):
            state = "revoked" if key.revoked_at else "active"
            typer.echo(f"{key.prefix}\t{key.name}\t{key.scopes}\t{state}")


@keys_app.command("revoke")
def keys_revoke(prefix: Annotated[str, typer.Argument(help="The key's prefix")]) -> None:
    """Revoke an API key. / Revocar una clave del API."""
    from circulo.auth import service as auth

    ctx = _context()
    with ctx.db.unit_of_work() as session:
        auth.revoke_key(session, prefix, ctx.clock.now())
    console.print(say("cli.key_revoked", locale_language(), prefix=prefix))


PasswordStdin = Annotated[bool, typer.Option(
    "--password-stdin",
    help="Read the password from standard input (first line), for scripts; without it, a "
         "terminal prompts twice without echo. Never an argument: it would show in ps and the "
         "shell's history / Leer la contraseña de la entrada estándar")]


def _read_password(from_stdin: bool) -> str:
    lang = locale_language()
    if from_stdin:
        line = sys.stdin.readline().rstrip("\r\n")
        if not line:
            typer.echo(say("cli.password_empty", lang), err=True)
            raise typer.Exit(code=2)
        return line
    if not sys.stdin.isatty():
        typer.echo(say("cli.password_needs_stdin", lang), err=True)
        raise typer.Exit(code=2)
    password: str = typer.prompt(say("cli.password_prompt", lang), hide_input=True,
                                 confirmation_prompt=say("cli.password_confirm", lang))
    return password


def _user_command(action: Callable[[Session, datetime], object]) -> None:
    """Run ``action`` in one transaction; a refusal is printed as one line, exit code 2."""
    from circulo.errors import CirculoError

    ctx = _context()
    try:
        with ctx.db.unit_of_work() as session:
            action(session, ctx.clock.now())
    except CirculoError as exc:
        details = "; ".join(f"{e['field']}: {e['detail']}" for e in exc.errors or [])
        typer.echo(details or str(exc), err=True)
        raise typer.Exit(code=2) from exc


@users_app.command("create")
def users_create(
    username: Annotated[str, typer.Option(help="Sign-in name, any case / Nombre de acceso")],
    name: Annotated[str, typer.Option(help="Display name / Nombre visible")],
    role: Annotated[str, typer.Option(help="agent, supervisor or admin")],
    agent_id: Annotated[str | None, typer.Option(
        help="The routing agent this user is / El agente de enrutamiento que es")] = None,
    site: Annotated[str | None, typer.Option(help="Site / Sede")] = None,
    card_role: Annotated[str | None, typer.Option(
        help="Card template role shown / Rol de la ficha que ve")] = None,
    email: Annotated[str | None, typer.Option(help="Email / Correo")] = None,
    language: Annotated[str, typer.Option(help="es or en / es o en")] = "es",
    time_zone: Annotated[str, typer.Option(help="IANA zone / Zona horaria")] = "Europe/Madrid",
    password_stdin: PasswordStdin = False,
) -> None:
    """Create a user; the password is asked for, never an argument.

    Crear un usuario; la contraseña se pide, nunca como argumento.
    """
    from circulo.auth import users

    password = _read_password(password_stdin)
    spec = users.UserSpec(username=username, name=name, role=role, email=email,
                          card_role=card_role, site=site, agent_id=agent_id,
                          language=language, time_zone=time_zone)
    _user_command(lambda session, now: users.create_user(session, spec, password, now))
    console.print(say("cli.user_created", locale_language(), username=username, role=role))


@users_app.command("list")
def users_list() -> None:
    """List users, never their passwords. / Listar los usuarios, nunca sus contraseñas."""
    from circulo.auth import users

    ctx = _context()
    with ctx.db.unit_of_work(write=False) as session:
        for user in users.list_users(session):
            state = "disabled" if user.disabled else "active"
            typer.echo(f"{user.username}\t{user.name}\t{user.role}\t{user.agent_id or '-'}\t"
                       f"{user.site or '-'}\t{state}")


@users_app.command("disable")
def users_disable(username: Annotated[str, typer.Argument(help="The user name")]) -> None:
    """Disable a user and end their sessions. / Desactivar un usuario y cerrar sus sesiones."""
    from circulo.auth import users

    _user_command(lambda session, now: users.disable_user(session, username, now))
    console.print(say("cli.user_disabled", locale_language(), username=username))


@users_app.command("set-password")
def users_set_password(
    username: Annotated[str, typer.Argument(help="The user name")],
    password_stdin: PasswordStdin = False,
) -> None:
    """Set a user's password; their sessions end. / Cambiar la contraseña; sus sesiones
    terminan."""
    from circulo.auth import users

    password = _read_password(password_stdin)
    _user_command(lambda session, now: users.set_password(session, username, password, now))
    console.print(say("cli.password_set", locale_language(), username=username))


@app.command("import")
def import_file(
    path: Annotated[Path, typer.Argument(help="A .csv, .json or .jsonl file", exists=True,
                                         dir_okay=False)],
    kind: Annotated[str, typer.Option(help="customers or events")] = "customers",
    source: Annotated[str, typer.Option(help="Source system of the rows")] = "import",
    batch_size: Annotated[int, typer.Option(help="Events per transaction")] = 1000,
    errors_file: Annotated[Path | None, typer.Option(help="Write the error report here")] = None,
) -> None:
    """Bulk-load customers (CSV/JSON) or events (JSON/JSONL), with an error report.

    Carga masiva de clientes (CSV/JSON) o eventos (JSON/JSONL), con informe de errores.
    """
    from circulo.ingest.importer import run_import

    ctx = _context()
    report = run_import(ctx, path, kind=kind, source=source, batch_size=batch_size,
                        console=console)
    console.print(say("cli.import_summary", locale_language(), accepted=report.accepted,
                      duplicates=report.duplicates, rejected=len(report.errors),
                      total=report.total))
    if report.suppressed:
        console.print(say("cli.import_suppressed", locale_language(), count=report.suppressed))
    if report.errors:
        for line in report.errors[:20]:
            console.print(say("cli.import_row", locale_language(), **line), markup=False)
        if errors_file:
            report.write_errors(errors_file)
            console.print(say("cli.import_report", locale_language(), path=errors_file))
        raise typer.Exit(code=1 if report.accepted == 0 else 0)


@app.command()
def demo(
    host: Annotated[str | None, typer.Option(
        help="Address to listen on (CIRCULO_HOST, default 127.0.0.1)")] = None,
    port: Annotated[int | None, typer.Option(
        min=1, max=65535, help="Port (CIRCULO_PORT, default 8000)")] = None,
    customers: Annotated[int, typer.Option(help="How many customers")] = 3000,
    live: Annotated[bool, typer.Option(
        help="Simulated contacts and agents (CIRCULO_DEMO_TRAFFIC) / Contactos y agentes "
             "simulados")] = True,
    journeys: Annotated[Path | None, typer.Option(
        exists=True, file_okay=False,
        help="Load and switch on every journey (*.yaml) of this folder / Cargar y activar "
             "los recorridos de esta carpeta")] = None,
    serve_after: Annotated[bool, typer.Option("--serve/--no-serve", help="Start the API")] = True,
) -> None:
    """Create the demo company and its users (once), print the desktop's address, the
    users' passwords and the API key (the same on every run), and serve it as `circulo serve`
    does, with simulated contacts and agents.

    Crea la empresa de demostración y sus usuarios (una vez), muestra la dirección del
    escritorio, las contraseñas y la clave (las mismas en cada ejecución) y la sirve como
    `circulo serve`, con contactos y agentes simulados.
    """
    from circulo import server
    from circulo.demo.accounts import ensure_users
    from circulo.demo.loader import (
        DEMO_ROUTING,
        demo_key,
        ensure_churn_model,
        load_demo,
        load_journeys,
    )
    from circulo.demo.recordings import load_recordings

    address = _listen_on(host, port, check=serve_after)
    ctx = _context(new_ok=True)
    lang = locale_language()
    load_demo(ctx, customers=customers, console=console, lang=lang)
    if load_recordings(ctx):  # transcribed by the serving process's speech worker
        console.print(say("cli.demo_recordings", lang))
    apply_routing_file(ctx, DEMO_ROUTING)
    if journeys is not None:
        load_journeys(ctx, journeys, console=console, lang=lang)
    ensure_churn_model(ctx, console=console, lang=lang)
    secret = demo_key(ctx)
    with ctx.db.unit_of_work() as session:
        people = ensure_users(session, ctx.settings.data_dir, ctx.clock.now())
    url = f"http://{address[0]}:{address[1]}"
    console.print("\n" + say("cli.demo_banner", lang, url=url), style="bold green")
    console.print(say("cli.demo_desktop", lang, url=f"{url}/"), style="bold green",
                  soft_wrap=True)
    for person in people:
        console.print(say("cli.demo_user", lang, role=person.role, username=person.username,
                          password=person.password), style="bold", soft_wrap=True,
                      markup=False)
    console.print(say("cli.demo_users_kept", lang, path=ctx.settings.data_dir), soft_wrap=True)
    console.print(say("cli.demo_key", lang, secret=secret, path=ctx.settings.data_dir),
                  style="bold", soft_wrap=True)
    if live:
        console.print(say("cli.demo_traffic", lang))
    console.print(say("cli.demo_try", lang))
    typer.echo(f"  curl -H 'Authorization: Bearer {secret}' '{url}/v1/cards?phone=600123456'\n")
    if not serve_after:
        return
    # The simulated contacts and agents run beside the routing loop (serving.start_background).
    ctx.settings = ctx.settings.with_overrides(demo_traffic=live)
    server.serve(ctx, host=address[0], port=address[1])


@app.command()
def simulate(
    scenario: Annotated[Path, typer.Argument(
        help="Scenario YAML (examples/routing/) / Escenario YAML", dir_okay=False)],
    seed: Annotated[int | None, typer.Option(
        help="Random seed; default: the scenario's / Semilla; por defecto, la del escenario")
    ] = None,
    days: Annotated[int | None, typer.Option(
        min=1, help="Days to simulate; default: the scenario's / Días que simular; por "
                    "defecto, los del escenario")
    ] = None,
    chart: Annotated[Path, typer.Option(
        help="Write the HTML chart here / Escribir aquí el gráfico HTML", dir_okay=False)
    ] = Path("simulation.html"),
) -> None:
    """Simulate days of traffic through the real routing engine: policy vs FIFO.

    Simula días de tráfico con el motor de enrutado real: política frente a FIFO.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from circulo.routing.scenario import ScenarioError, load_scenario
    from circulo.routing.sim_report import print_comparison, write_html
    from circulo.routing.simulator import compare, erlang_reference

    lang = locale_language()
    try:
        loaded = load_scenario(scenario)
    except ScenarioError as exc:  # one line, and exit code 2 like any bad argument
        typer.echo(say("sim.bad_scenario", lang, error=exc), err=True)
        raise typer.Exit(code=2) from exc
    runs = days or loaded.days
    expected = round(2 * runs * loaded.expected_calls())
    with Progress("[progress.description]{task.description}", BarColumn(),
                  MofNCompleteColumn(), TimeRemainingColumn(), console=console,
                  transient=True) as progress:
        bar = progress.add_task(say("sim.progress", lang), total=expected)
        result = compare(loaded, seed=seed, days=runs,
                         progress=lambda calls: progress.advance(bar, calls))
    reference = erlang_reference(loaded)
    print_comparison(console, result, lang, reference)
    try:
        write_html(chart, result, lang, reference)
    except OSError as exc:
        typer.echo(say("sim.cannot_write", lang, path=chart, error=exc.strerror), err=True)
        raise typer.Exit(code=1) from exc
    console.print(say("sim.chart_written", lang, path=chart))


@journeys_app.command("try")
def journeys_try(
    path: Annotated[Path, typer.Argument(help="Journey YAML / YAML del recorrido",
                                         exists=True, dir_okay=False)],
    since: Annotated[str, typer.Option(help="How far back to replay (30d, 12h) / "
                                            "Cuánto histórico reproducir")] = "30d",
    examples: Annotated[int, typer.Option(help="Examples to show / Ejemplos")] = 5,
) -> None:
    """Replay history through a journey without acting: who would have entered, which
    actions would have fired, with examples.

    Reproduce el histórico en un recorrido sin actuar: quién habría entrado, qué acciones se
    habrían disparado, con ejemplos.
    """
    import orjson

    from circulo.errors import ValidationFailed
    from circulo.journeys import dryrun
    from circulo.journeys import service as journeys

    ctx = _context()
    try:
        with ctx.db.unit_of_work(write=False) as session:
            journey = journeys.parse(session, ctx.settings, text=path.read_text("utf-8"),
                                     data=None, origin=str(path))
            report = dryrun.replay(session, journey, since=dryrun.since_seconds(since),
                                   settings=ctx.settings, policies=ctx.policies,
                                   now=ctx.clock.now(), examples=examples)
    except ValidationFailed as exc:
        console.print(str(exc), markup=False)
        raise typer.Exit(code=2) from exc
    lang = locale_language()
    console.print(f"{report['journey']}: {report['events_replayed']} "
                  + ("eventos reproducidos" if lang == "es" else "events replayed"))
    console.print(("Habrían entrado" if lang == "es" else "Would have entered")
                  + f": {report['entered']} ({report['customers']} "
                  + ("clientes" if lang == "es" else "customers") + ")")
    console.print(orjson.dumps({k: report[k] for k in ("actions", "exits", "errors",
                                                       "still_waiting", "examples")},
                               option=orjson.OPT_INDENT_2).decode(), markup=False)
    console.print(report["note"][lang if lang in ("es", "en") else "en"])


@journeys_app.command("load")
def journeys_load(
    path: Annotated[Path, typer.Argument(help="Journey YAML / YAML del recorrido",
                                         exists=True, dir_okay=False)],
    activate: Annotated[bool, typer.Option(help="Switch it on / Activarlo")] = False,
) -> None:
    """Save a journey (a new version if it changed), optionally switching it on.

    Guarda un recorrido (una versión nueva si ha cambiado) y, si se pide, lo activa.
    """
    from circulo.errors import ValidationFailed
    from circulo.journeys import service as journeys

    ctx = _context()
    text = path.read_text("utf-8")
    try:
        with ctx.db.unit_of_work() as session:
            journey = journeys.parse(session, ctx.settings, text=text, data=None,
                                     origin=str(path))
            row, created = journeys.save(session, journey, text, actor="cli",
                                         now=ctx.clock.now(), activate=activate)
            status, version = row.status, row.latest_version
    except ValidationFailed as exc:
        console.print(str(exc), markup=False)
        raise typer.Exit(code=2) from exc
    console.print(f"{journey.key} v{version} ({status})"
                  + ("" if created else " = "), markup=False)


@app.command()
def purge(
    days: Annotated[int | None, typer.Option(
        min=1, help="Delete events older than this many days (default "
        "CIRCULO_EVENT_RETENTION_DAYS) / Borrar los eventos de más de estos días")] = None,
) -> None:
    """Delete events (and delivered webhooks) older than the retention period; indicators
    keep their totals. `circulo serve` does it hourly when CIRCULO_EVENT_RETENTION_DAYS is set.

    Borra los eventos (y los webhooks entregados) más antiguos que el plazo de conservación;
    los indicadores conservan sus totales.
    """
    from circulo.privacy.retention import purge as purge_old

    lang = locale_language()
    ctx = _context()
    days = days or ctx.settings.event_retention_days
    if days is None:
        console.print(say("cli.purge_no_retention", lang))
        raise typer.Exit(code=2)
    purged = purge_old(ctx.db, days, ctx.clock.now())
    console.print(say("cli.purged", lang, events=purged.events, messages=purged.messages,
                      before=purged.before.isoformat(timespec="minutes")))


@identity_app.command("dedupe")
def identity_dedupe(
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="Score and report, write nothing / Puntuar e informar sin escribir")
    ] = False,
    suggest_at: Annotated[float | None, typer.Option(
        min=0.01, max=0.9999, help="Suggest pairs at or above this match probability "
        "(CIRCULO_DEDUPE_SUGGEST_AT) / Sugerir parejas desde esta probabilidad")] = None,
    auto_merge_at: Annotated[float | None, typer.Option(
        min=0.5, max=1.0, help="Merge without review at or above this probability; off "
        "unless given (CIRCULO_DEDUPE_AUTO_MERGE_AT) / Fusionar sin revisión desde esta "
        "probabilidad; desactivado si no se indica")] = None,
    fresh: Annotated[bool, typer.Option(
        "--fresh", help="Abandon an interrupted run instead of resuming it / Abandonar una "
        "ejecución interrumpida en vez de reanudarla")] = False,
    output: Annotated[Path | None, typer.Option(
        help="Dry run: write the pairs to this CSV file / Simulación: escribir las parejas "
        "en este CSV", dir_okay=False)] = None,
) -> None:
    """Find customers that are probably one person (Splink, trained on your own profiles):
    suggest them for review, or merge the surest ones if you ask. An interrupted run resumes.

    Encuentra clientes que probablemente son la misma persona (Splink, entrenado con sus
    propios perfiles): los sugiere para revisión, o fusiona los más seguros si se pide. Una
    ejecución interrumpida se reanuda.
    """
    import csv

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from circulo.identity import dedupe
    from circulo.identity.linkage import LinkageUnavailable

    lang = locale_language()
    ctx = _context()
    options = dedupe.options_from(ctx.settings, suggest_at=suggest_at,
                                  auto_merge_at=auto_merge_at, dry_run=dry_run, fresh=fresh)
    stages = {"read": say("dedupe.stage.read", lang), "train": say("dedupe.stage.train", lang),
              "score": say("dedupe.stage.score", lang), "apply": say("dedupe.stage.apply", lang)}
    columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn()]
    with Progress(*columns, console=console, transient=True) as bar:
        tasks: dict[str, object] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stages.get(stage, stage), total=total)
            bar.update(tasks[stage], completed=done, total=total)  # type: ignore[arg-type]

        try:
            summary = dedupe.run(ctx.db, ctx.settings, ctx.clock, options, actor="cli",
                                 progress=progress)
        except LinkageUnavailable as exc:
            console.print(str(exc), markup=False)
            raise typer.Exit(code=2) from exc
        except dedupe.Interrupted as exc:
            console.print(say("dedupe.interrupted", lang, run=exc.run_id,
                              at=exc.started_at.isoformat(timespec="minutes"),
                              options=", ".join(f"{k}={v}" for k, v in exc.options.items())),
                          markup=False)
            raise typer.Exit(code=2) from exc
    if summary.resumed:
        console.print(say("dedupe.resumed", lang, run=summary.run_id))
    console.print(say("dedupe.summary", lang, profiles=summary.profiles,
                      compared=summary.compared, candidates=summary.candidates,
                      columns=", ".join(summary.columns) or "-"))
    for reason, count in sorted(summary.excluded.items()):
        console.print(say(f"dedupe.excluded.{reason}", lang, count=count))
    key = "dedupe.would" if summary.dry_run else "dedupe.done"
    console.print(say(key, lang, suggested=summary.suggested, merged=summary.merged,
                      seconds=f"{summary.seconds:.1f}"))
    for reason, count in sorted(summary.skipped.items()):
        console.print(say("dedupe.skipped", lang, reason=reason, count=count))
    if output is not None and summary.dry_run:
        with output.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["customer_a", "customer_b", "probability", "match_weight",
                             "evidence_score", "action"])
            for planned in summary.planned:
                writer.writerow([planned.pair.a, planned.pair.b,
                                 f"{planned.pair.probability:.6f}",
                                 f"{planned.pair.weight:.2f}", planned.evidence.score,
                                 planned.action])
        console.print(say("cli.import_report", lang, path=output))



@prompts_app.command("synthesize")
def prompts_synthesize(
    path: Annotated[Path, typer.Argument(help="Prompts YAML (prompts: id: {es: ..., en: ...}) "
                                         "/ YAML de locuciones", exists=True, dir_okay=False)],
    out: Annotated[Path, typer.Option("--out", file_okay=False,
                                      help="Folder for the WAV files / Carpeta de los WAV")],
) -> None:
    """Speak every prompt of the file with espeak-ng (Spanish voice es, English en-us) into
    OUT/<id>.<language>.wav (mono, 16-bit, 22,050 Hz). Every prompt is checked first.

    Convierte cada locución del fichero en OUT/<id>.<idioma>.wav con espeak-ng (voz española
    es, inglesa en-us). Se comprueban todas antes de empezar.
    """
    from circulo.speech import prompts
    from circulo.speech.engines import synthesizer_for
    from circulo.speech.model import SpeechError

    lang = locale_language()
    try:
        loaded = prompts.load(path)
    except prompts.PromptsError as exc:
        console.print(say("cli.prompts_refused", lang, reason=str(exc)), markup=False)
        raise typer.Exit(code=2) from None
    try:
        written = prompts.synthesize_all(
            loaded, synthesizer_for(get_settings()), out,
            lambda prompt: console.print(f"  {out / prompt.filename}", markup=False))
    except SpeechError as exc:
        console.print(say("cli.prompts_failed", lang, reason=exc.detail), markup=False)
        raise typer.Exit(code=1) from None
    console.print(say("cli.prompts_written", lang, count=len(written), out=str(out)),
                  markup=False)


if __name__ == "__main__":  # pragma: no cover
    app()
