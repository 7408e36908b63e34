"""Spanish and English for everything a person reads. ``Accept-Language`` picks the language."""

from __future__ import annotations

import os

SUPPORTED = ("es", "en")

MESSAGES: dict[str, dict[str, str]] = {
    # record kinds
    "record.order": {"es": "Pedido", "en": "Order"},
    "record.invoice": {"es": "Factura", "en": "Invoice"},
    "record.dispute": {"es": "Reclamación de cargo", "en": "Dispute"},
    "record.ticket": {"es": "Incidencia", "en": "Ticket"},
    "record.subscription": {"es": "Suscripción", "en": "Subscription"},
    "record.shipment": {"es": "Envío", "en": "Shipment"},
    "record.complaint": {"es": "Queja", "en": "Complaint"},
    "record.appointment": {"es": "Cita", "en": "Appointment"},
    "record.case": {"es": "Caso", "en": "Case"},
    "record.payment": {"es": "Pago", "en": "Payment"},
    # statuses
    "status.placed": {"es": "Realizado", "en": "Placed"},
    "status.shipped": {"es": "Enviado", "en": "Shipped"},
    "status.delivered": {"es": "Entregado", "en": "Delivered"},
    "status.canceled": {"es": "Cancelado", "en": "Canceled"},
    "status.delayed": {"es": "Retrasado", "en": "Delayed"},
    "status.created": {"es": "Creado", "en": "Created"},
    "status.opened": {"es": "Abierta", "en": "Open"},
    "status.open": {"es": "Abierta", "en": "Open"},
    "status.updated": {"es": "Actualizada", "en": "Updated"},
    "status.pending": {"es": "Pendiente", "en": "Pending"},
    "status.in_progress": {"es": "En curso", "en": "In progress"},
    "status.escalated": {"es": "Escalada", "en": "Escalated"},
    "status.closed": {"es": "Cerrada", "en": "Closed"},
    "status.resolved": {"es": "Resuelta", "en": "Resolved"},
    "status.issued": {"es": "Emitida", "en": "Issued"},
    "status.overdue": {"es": "Vencida", "en": "Overdue"},
    "status.paid": {"es": "Pagada", "en": "Paid"},
    "status.started": {"es": "Activa", "en": "Active"},
    "status.active": {"es": "Activa", "en": "Active"},
    "status.refunded": {"es": "Reembolsado", "en": "Refunded"},
    "status.filed": {"es": "Presentada", "en": "Filed"},
    "status.scheduled": {"es": "Programada", "en": "Scheduled"},
    # channels
    "channel.voice": {"es": "Teléfono", "en": "Phone"},
    "channel.email": {"es": "Correo", "en": "Email"},
    "channel.chat": {"es": "Chat", "en": "Chat"},
    "channel.sms": {"es": "SMS", "en": "SMS"},
    "channel.whatsapp": {"es": "WhatsApp", "en": "WhatsApp"},
    "channel.web": {"es": "Web", "en": "Web"},
    "channel.mobile": {"es": "App móvil", "en": "Mobile app"},
    "channel.in_person": {"es": "Presencial", "en": "In person"},
    "channel.other": {"es": "Otro", "en": "Other"},
    # event types shown in history
    "event.call.completed": {"es": "Llamada atendida", "en": "Call answered"},
    "event.identity.confirmed": {"es": "El agente confirmó quién llamaba",
                                 "en": "The agent confirmed who was calling"},
    "event.pin.locked": {"es": "PIN bloqueado por intentos fallidos",
                         "en": "PIN locked after wrong attempts"},
    "event.call.recorded": {"es": "Llamada grabada", "en": "Call recorded"},
    "event.call.transcribed": {"es": "Llamada transcrita", "en": "Call transcribed"},
    "event.call.abandoned": {"es": "Llamada abandonada", "en": "Call abandoned"},
    "event.call.missed": {"es": "Llamada perdida", "en": "Missed call"},
    "event.call.wrapped_up": {"es": "Llamada cerrada", "en": "Call wrapped up"},
    "event.chat.completed": {"es": "Chat atendido", "en": "Chat handled"},
    "event.chat.abandoned": {"es": "Chat abandonado", "en": "Chat abandoned"},
    "event.email.received": {"es": "Correo recibido", "en": "Email received"},
    "event.email.replied": {"es": "Correo respondido", "en": "Email answered"},
    "event.sms.received": {"es": "SMS recibido", "en": "SMS received"},
    "event.message.received": {"es": "Mensaje recibido", "en": "Message received"},
    "event.interaction.completed": {"es": "Interacción", "en": "Interaction"},
    "event.visit.completed": {"es": "Visita en tienda", "en": "Store visit"},
    "event.complaint.filed": {"es": "Queja presentada", "en": "Complaint filed"},
    "event.churn.risk_rose": {"es": "Subió su riesgo de baja", "en": "Churn risk rose"},
    "event.account.closed": {"es": "Cuenta cerrada (baja)", "en": "Account closed"},

    "event.chat.message": {"es": "Mensaje de chat", "en": "Chat message"},
    "event.survey.answered": {"es": "Encuesta respondida", "en": "Survey answered"},
    "event.text.analyzed": {"es": "Mensaje analizado", "en": "Message analysed"},
    # the sentiment trend of a customer's messages (indicators.trend)
    "trend.improving": {"es": "Mejorando", "en": "Improving"},
    "trend.worsening": {"es": "Empeorando", "en": "Worsening"},
    "trend.steady": {"es": "Estable", "en": "Steady"},
    # card chrome
    "card.new_caller": {"es": "Nuevo llamante", "en": "New caller"},
    "card.new_caller.hint": {
        "es": "Número desconocido: pida nombre y correo para crear la ficha.",
        "en": "Unknown number: ask for name and email to create the record.",
    },
    # command line
    "cli.db_ready": {"es": "Base de datos lista: {url}", "en": "Database ready: {url}"},
    "cli.key_created": {"es": "Clave {name} ({scopes}), prefijo {prefix}:",
                        "en": "Key {name} ({scopes}), prefix {prefix}:"},
    "cli.purged": {"es": "Borrados {events} eventos y {messages} mensajes anteriores a {before}",
                   "en": "Deleted {events} events and {messages} messages before {before}"},
    "cli.purge_no_retention": {
        "es": "Sin plazo de conservación: indique --days o CIRCULO_EVENT_RETENTION_DAYS",
        "en": "No retention period: give --days or set CIRCULO_EVENT_RETENTION_DAYS"},
    "cli.prompts_refused": {"es": "Locuciones rechazadas: {reason}",
                            "en": "Prompts refused: {reason}"},
    "cli.prompts_failed": {"es": "No se pudo generar la voz: {reason}",
                           "en": "Speech could not be made: {reason}"},
    "cli.prompts_written": {"es": "{count} ficheros WAV en {out}",
                            "en": "{count} WAV files in {out}"},
    "cli.key_revoked": {"es": "Clave {prefix} revocada", "en": "Revoked {prefix}"},
    "cli.user_created": {"es": "Usuario {username} ({role}) creado",
                         "en": "User {username} ({role}) created"},
    "cli.user_disabled": {"es": "Usuario {username} desactivado; sus sesiones han terminado",
                          "en": "User {username} disabled; their sessions have ended"},
    "cli.password_set": {"es": "Contraseña de {username} cambiada; sus sesiones han terminado",
                         "en": "Password of {username} changed; their sessions have ended"},
    "cli.password_prompt": {"es": "Contraseña", "en": "Password"},
    "cli.password_confirm": {"es": "Repita la contraseña", "en": "Repeat the password"},
    "cli.password_needs_stdin": {
        "es": "Sin terminal: pase la contraseña por la entrada estándar con --password-stdin",
        "en": "No terminal: pass the password on standard input with --password-stdin"},
    "cli.password_empty": {"es": "La entrada estándar no trae ninguna contraseña",
                           "en": "Standard input holds no password"},
    "cli.import_summary": {
        "es": ("{accepted} aceptadas, {duplicates} duplicadas, {rejected} rechazadas "
               "de {total} filas"),
        "en": "{accepted} accepted, {duplicates} duplicates, {rejected} rejected of {total} rows",
    },
    "cli.import_suppressed": {
        "es": "{count} filas llevan datos de personas suprimidas (borradas): no se guardan",
        "en": "{count} rows carry identifiers of erased people: not stored"},
    "cli.import_row": {"es": "  fila {row}: {field}: {detail}",
                       "en": "  row {row}: {field}: {detail}"},
    "cli.import_report": {"es": "Informe completo de errores: {path}",
                          "en": "Full error report: {path}"},
    "cli.demo_banner": {"es": "Demo de Círculo en {url}  (documentación del API: {url}/docs)",
                        "en": "Círculo demo on {url}  (API docs: {url}/docs)"},
    "cli.demo_key": {"es": "Clave del API (guardada en {path}/demo-key): {secret}",
                     "en": "API key (kept in {path}/demo-key): {secret}"},
    "cli.demo_recordings": {
        "es": "Llamadas grabadas de ejemplo: se transcriben en segundo plano (Grabaciones)",
        "en": "Sample recorded calls: transcribed in the background (Recordings)"},
    "cli.demo_journeys": {"es": "Recorridos activos: {keys}", "en": "Journeys on: {keys}"},
    "cli.demo_desktop": {"es": "Escritorio: {url}  (entre con uno de estos usuarios)",
                         "en": "Desktop: {url}  (sign in as one of these users)"},
    "cli.demo_user": {"es": "  {role:<11} usuario {username:<11} contraseña {password}",
                      "en": "  {role:<11} user {username:<11} password {password}"},
    "cli.demo_users_kept": {
        "es": "  (contraseñas guardadas en {path}/demo-users; las mismas en cada ejecución)",
        "en": "  (passwords kept in {path}/demo-users; the same on every run)"},
    "cli.demo_traffic": {
        "es": "Tráfico simulado: llegan llamadas, chats, correos y rellamadas y los agentes "
              "simulados atienden la mayoría; entre como «agent», póngase disponible y "
              "recibirá ofertas en menos de un minuto. --no-live lo apaga.",
        "en": "Simulated traffic: calls, chats, e-mails and callbacks arrive and simulated "
              "agents take most of them; sign in as 'agent', go available and offers reach "
              "you within a minute. --no-live switches it off."},
    "cli.port_unavailable": {
        "es": "No se puede servir en {error}. Elija otro puerto: --port, CIRCULO_PORT o "
              "PORT=8080 make demo.",
        "en": "Cannot listen on {error}. Choose another port: --port, CIRCULO_PORT or "
              "PORT=8080 make demo."},
    "cli.new_database": {
        "es": "Aviso: no hay base de datos en {path}; se crea una nueva, vacía. Para usar la "
              "de un servidor, indique su directorio con --data-dir o CIRCULO_DATA_DIR "
              "(make demo usa data/demo).",
        "en": "Warning: no database at {path}; creating a new, empty database. To use a "
              "server's, give its directory with --data-dir or CIRCULO_DATA_DIR (make demo "
              "uses data/demo)."},
    "cli.routing_applied": {"es": "Política de enrutamiento v{version} en vigor ({path}).",
                            "en": "Routing policy v{version} in force ({path})."},
    "cli.demo_try": {"es": "Pruebe (S1, María López llama desde el 600 123 456):",
                     "en": "Try (S1, María López calling from 600 123 456):"},
    "cli.demo_loading": {"es": "Creando la empresa de demostración (Aurora Hogar)...",
                         "en": "Creating the demo company (Aurora Hogar)..."},
    "cli.demo_churn": {"es": "Entrenando el modelo de bajas", "en": "Training the churn model"},
    "cli.churn_step.read": {"es": "Leyendo clientes", "en": "Reading customers"},
    "cli.churn_step.features": {"es": "Calculando variables", "en": "Computing features"},
    "cli.churn_step.fit": {"es": "Entrenando el modelo", "en": "Fitting the model"},
    "cli.churn_step.score": {"es": "Puntuando clientes", "en": "Scoring customers"},
    "cli.churn_trained": {
        "es": "Modelo de bajas v{version} guardado y activo: {customers} clientes, "
              "{cancellations} bajas (tasa {base_rate:.1%}); AUC en {test} clientes "
              "reservados: {auc:.3f}",
        "en": "Churn model v{version} stored and active: {customers} customers, "
              "{cancellations} cancellations (base rate {base_rate:.1%}); AUC on {test} "
              "held-out customers: {auc:.3f}"},
    "cli.churn_refused": {"es": "No se entrena: {detail}. No se ha guardado nada.",
                          "en": "Not trained: {detail}. Nothing was stored."},
    "cli.churn_no_models": {"es": "Aún no hay modelos de bajas: `circulo churn train`.",
                            "en": "No churn model yet: `circulo churn train`."},
    "cli.churn_no_active": {"es": "No hay un modelo activo: nada que puntuar.",
                            "en": "No active model: nothing to score."},
    "cli.churn_scored": {
        "es": "{customers} clientes puntuados con el modelo v{version}; {rose} superan ahora "
              "el umbral",
        "en": "{customers} customers scored with model v{version}; {rose} now above the "
              "threshold"},
    "cli.churn_activated": {"es": "Modelo v{version} activo.",
                            "en": "Model v{version} active."},
    "cli.churn_unknown": {"es": "No existe el modelo v{version}.",
                          "en": "There is no model v{version}."},
    "cli.demo_loaded": {"es": "Empresa de demostración cargada: {count} clientes.",
                        "en": "Demo company loaded: {count} customers."},
    "cli.demo_exists": {"es": "Los datos de demostración ya estaban cargados.",
                        "en": "Demo data already loaded."},
    # routing simulator (circulo simulate)
    "sim.title": {"es": "Simulación: {name}", "en": "Simulation: {name}"},
    "sim.run": {"es": "{days} día(s), semilla {seed}, {calls} llamadas por ejecución",
                "en": "{days} day(s), seed {seed}, {calls} calls per run"},
    "sim.progress": {"es": "Simulando política y FIFO", "en": "Simulating policy and FIFO"},
    "sim.segment": {"es": "Segmento", "en": "Segment"},
    "sim.offered": {"es": "Llamadas", "en": "Calls"},
    "sim.sl": {"es": "Nivel de servicio", "en": "Service level"},
    "sim.sl_short": {"es": "NS %", "en": "SL %"},
    "sim.asa": {"es": "Tiempo medio de respuesta", "en": "Average speed of answer"},
    "sim.asa_short": {"es": "TMR s", "en": "ASA s"},
    "sim.abandon": {"es": "Abandono", "en": "Abandonment"},
    "sim.abandon_short": {"es": "Ab. %", "en": "Ab. %"},
    "sim.policy": {"es": "política", "en": "policy"},
    "sim.fifo": {"es": "FIFO", "en": "FIFO"},
    "sim.dim.all": {"es": "Todas", "en": "All"},
    "sim.dim.queue": {"es": "Cola", "en": "Queue"},
    "sim.dim.tier": {"es": "Nivel", "en": "Tier"},
    "sim.dim.customer": {"es": "Cliente", "en": "Customer"},
    "sim.dim.language": {"es": "Idioma", "en": "Language"},
    "sim.dim.reason": {"es": "Motivo", "en": "Reason"},
    "sim.occupancy": {"es": "Ocupación de los agentes: política {policy}, FIFO {fifo}",
                      "en": "Agent occupancy: policy {policy}, FIFO {fifo}"},
    "sim.sl_note": {
        "es": "NS: atendidas dentro del umbral de su cola ({threshold}) / atendidas.",
        "en": "SL: answered within their queue's threshold ({threshold}) / answered.",
    },
    "sim.erlang": {
        "es": ("Erlang C con {agents} agentes y {load} erlangs: NS {sl}, TMR {asa}, "
               "espera el {wait} de las llamadas"),
        "en": ("Erlang C with {agents} agents and {load} Erlangs: SL {sl}, ASA {asa}, "
               "{wait} of the calls wait"),
    },
    "sim.interval_sl": {"es": "Nivel de servicio por intervalo", "en": "Service level by interval"},
    "sim.calls_axis": {"es": "Barras grises: llamadas ofrecidas por intervalo (máximo {most})",
                       "en": "Grey bars: calls offered per interval (peak {most})"},
    "sim.target": {"es": "objetivo {target}", "en": "target {target}"},
    "sim.speed": {"es": "{rate} llamadas simuladas por segundo",
                  "en": "{rate} calls simulated per second"},
    "sim.chart_written": {"es": "Gráfico: {path}", "en": "Chart: {path}"},
    "sim.bad_scenario": {"es": "Escenario no válido: {error}", "en": "Invalid scenario: {error}"},
    "sim.cannot_write": {"es": "No se puede escribir {path}: {error}",
                         "en": "Cannot write {path}: {error}"},
    "dedupe.stage.read": {"es": "Leyendo clientes", "en": "Reading customers"},
    "dedupe.stage.train": {"es": "Entrenando el modelo", "en": "Training the model"},
    "dedupe.stage.score": {"es": "Comparando parejas", "en": "Comparing pairs"},
    "dedupe.stage.apply": {"es": "Aplicando", "en": "Applying"},
    "dedupe.interrupted": {
        "es": "Hay una ejecución interrumpida ({run}, del {at}) con otras opciones ({options}): "
              "repita la orden con esas opciones para terminarla, o añada --fresh para "
              "abandonarla.",
        "en": "A run was interrupted ({run}, from {at}) with other options ({options}): run "
              "the command again with them to finish it, or add --fresh to abandon it.",
    },
    "dedupe.resumed": {"es": "Reanudada la ejecución {run}, interrumpida antes.",
                       "en": "Resumed run {run}, interrupted before."},
    "dedupe.summary": {
        "es": "{profiles} clientes, {compared} parejas comparadas, {candidates} por encima "
              "del umbral (rasgos usados: {columns}).",
        "en": "{profiles} customers, {compared} pairs compared, {candidates} above the "
              "threshold (traits used: {columns}).",
    },
    "dedupe.excluded.different_ids": {
        "es": "  {count} descartadas: ids distintos en el mismo sistema (son dos personas)",
        "en": "  {count} left out: different ids in the same system (two people)"},
    "dedupe.excluded.known_apart": {
        "es": "  {count} descartadas: alguien ya dijo que son dos personas",
        "en": "  {count} left out: someone already said they are two people"},
    "dedupe.excluded.evidence_against": {
        "es": "  {count} descartadas: las pruebas dicen que son dos personas (otro nombre, "
              "otra fecha de nacimiento)",
        "en": "  {count} left out: the evidence says two people (another given name, another "
              "date of birth)"},
    "dedupe.excluded.already_suggested": {
        "es": "  {count} descartadas: ya estaban sugeridas o revisadas",
        "en": "  {count} left out: already suggested or reviewed"},
    "dedupe.would": {
        "es": "Simulación: se sugerirían {suggested} parejas y se fusionarían {merged} "
              "({seconds} s). No se ha escrito nada.",
        "en": "Dry run: {suggested} pairs would be suggested and {merged} merged "
              "({seconds} s). Nothing was written.",
    },
    "dedupe.done": {
        "es": "{suggested} parejas sugeridas para revisión (GET /v1/identity/suggestions), "
              "{merged} fusionadas ({seconds} s).",
        "en": "{suggested} pairs suggested for review (GET /v1/identity/suggestions), "
              "{merged} merged ({seconds} s).",
    },
    "dedupe.skipped": {"es": "  {count} omitidas: {reason}", "en": "  {count} skipped: {reason}"},
    "card.ambiguous.hint": {
        "es": "Este identificador lo comparten varios clientes: confirme con quién habla.",
        "en": "Several customers share this identifier: confirm who is calling.",
    },
}


def t(key: str, lang: str, default: str | None = None) -> str:
    entry = MESSAGES.get(key)
    if entry is None:
        return default if default is not None else key.rsplit(".", 1)[-1].replace("_", " ")
    return entry.get(lang) or entry.get("en") or key


def pick_language(accept_language: str | None, default: str = "es") -> str:
    """The best of es/en from an ``Accept-Language`` header (q-values honoured)."""
    if not accept_language:
        return default
    best: tuple[float, str] | None = None
    for part in accept_language.split(","):
        piece = part.strip()
        if not piece:
            continue
        tag, _, params = piece.partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        lang = tag.strip().lower().split("-", 1)[0]
        if lang == "*":
            lang = default
        if lang in SUPPORTED and (best is None or quality > best[0]):
            best = (quality, lang)
    return best[1] if best else default


def locale_language() -> str:
    """The language of the person at the terminal, from the usual locale variables."""
    for name in ("LC_ALL", "LC_MESSAGES", "LANGUAGE", "LANG"):
        value = os.environ.get(name, "")
        if value and value not in ("C", "POSIX") and not value.startswith("C."):
            return "es" if value.lower().startswith("es") else "en"
    return "en"


def say(key: str, lang: str, **values: object) -> str:
    return t(key, lang).format(**values)
