"""What the CRM widget says, in Spanish and English. ``widget.js`` receives the texts of its
language from ``GET /v1/widget/me`` (keys without the ``widget.`` prefix)."""

from __future__ import annotations

CATALOGUE: dict[str, dict[str, str]] = {
    "widget.region": {"es": "Círculo: llamadas", "en": "Círculo: calls"},
    "widget.ready": {"es": "Sin llamadas. Pulse un número para llamar.",
                     "en": "No calls. Press a number to call it."},
    "widget.call": {"es": "Llamar a", "en": "Call"},
    "widget.dialing": {"es": "Llamando…", "en": "Calling…"},
    "widget.incoming": {"es": "Llamada entrante", "en": "Incoming call"},
    "widget.ongoing": {"es": "Llamada en curso", "en": "Call in progress"},
    "widget.outbound": {"es": "Llamada saliente", "en": "Outgoing call"},
    "widget.wrap_up": {"es": "Cierre de la llamada", "en": "Call wrap-up"},
    "widget.accept": {"es": "Aceptar", "en": "Accept"},
    "widget.reject": {"es": "Rechazar", "en": "Decline"},
    "widget.end": {"es": "Colgar", "en": "Hang up"},
    "widget.code": {"es": "Código de cierre", "en": "Wrap-up code"},
    "widget.notes": {"es": "Notas", "en": "Notes"},
    "widget.save": {"es": "Guardar en la ficha", "en": "Save to the record"},
    "widget.saved": {"es": "Cierre guardado en la ficha", "en": "Wrap-up saved to the record"},
    "widget.record": {"es": "Ficha del CRM", "en": "CRM record"},
    "widget.queue": {"es": "Cola", "en": "Queue"},
    "widget.unknown_caller": {"es": "Número desconocido", "en": "Unknown number"},
    "widget.expired": {"es": "La sesión del widget ha caducado: recargue la página.",
                       "en": "The widget's session has expired: reload the page."},
    "widget.offline": {"es": "Sin conexión con Círculo; reintentando…",
                       "en": "No connection to Círculo; retrying…"},
    "widget.failed": {"es": "No se pudo completar la acción", "en": "The action failed"},
    "widget.withdrawn": {"es": "La llamada ya no está disponible.",
                         "en": "The call is no longer available."},
    "widget.code.resolved": {"es": "Resuelto", "en": "Resolved"},
    "widget.code.follow_up": {"es": "Requiere seguimiento", "en": "Needs follow-up"},
    "widget.code.sale": {"es": "Venta", "en": "Sale"},
    "widget.code.no_answer": {"es": "No contesta", "en": "No answer"},
    "widget.code.voicemail": {"es": "Buzón de voz", "en": "Voicemail"},
    "widget.code.wrong_number": {"es": "Número equivocado", "en": "Wrong number"},
}
CODES = ("resolved", "follow_up", "sale", "no_answer", "voicemail", "wrong_number")
