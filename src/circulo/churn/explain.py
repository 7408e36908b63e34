"""A customer's main reasons to leave, in words (Spanish and English). Pure.

The model gives each feature's contribution to the risk; the features that raise it most
become phrases an agent can read out or act on: "3 contactos insatisfechos en 30 días",
"cliente desde hace 2 meses", "NPS detractor".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from circulo.churn.features import COUNT_PREFIX

TOP = 3
# Event types counted over 90 days, in words (singular, plural) per language; any other type
# is named as sent.
EVENT_WORDS: dict[str, tuple[tuple[str, str], tuple[str, str]]] = {
    "call.completed": (("llamada atendida", "llamadas atendidas"),
                       ("answered call", "answered calls")),
    "call.abandoned": (("llamada abandonada", "llamadas abandonadas"),
                       ("abandoned call", "abandoned calls")),
    "email.received": (("correo recibido", "correos recibidos"),
                       ("e-mail received", "e-mails received")),
    "chat.completed": (("chat", "chats"), ("chat", "chats")),
    "survey.answered": (("encuesta respondida", "encuestas respondidas"),
                        ("survey answered", "surveys answered")),
    "order.placed": (("pedido", "pedidos"), ("order", "orders")),
    "order.delivered": (("pedido entregado", "pedidos entregados"),
                        ("order delivered", "orders delivered")),
    "order.canceled": (("pedido cancelado", "pedidos cancelados"),
                       ("order canceled", "orders canceled")),
    "shipment.created": (("envío", "envíos"), ("shipment", "shipments")),
    "shipment.delivered": (("envío entregado", "envíos entregados"),
                           ("shipment delivered", "shipments delivered")),
    "invoice.paid": (("factura pagada", "facturas pagadas"), ("invoice paid", "invoices paid")),
    "invoice.overdue": (("factura vencida", "facturas vencidas"),
                        ("overdue invoice", "overdue invoices")),
    "dispute.opened": (("reclamación de cargo", "reclamaciones de cargo"),
                       ("dispute", "disputes")),
    "ticket.opened": (("incidencia abierta", "incidencias abiertas"),
                      ("ticket opened", "tickets opened")),
    "ticket.closed": (("incidencia cerrada", "incidencias cerradas"),
                      ("ticket closed", "tickets closed")),
    "complaint.filed": (("queja", "quejas"), ("complaint", "complaints")),
    "card.used": (("compra con tarjeta", "compras con tarjeta"),
                  ("card purchase", "card purchases")),
    "device.alert": (("alerta de aparato", "alertas de aparatos"),
                     ("device alert", "device alerts")),
}


@dataclass(frozen=True, slots=True)
class Factor:
    feature: str
    value: float | str | None
    contribution: float  # log-odds the feature adds to the risk
    es: str
    en: str

    def as_dict(self) -> dict[str, Any]:
        return {"feature": self.feature, "value": self.value,
                "contribution": round(self.contribution, 4), "es": self.es, "en": self.en}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Factor:
        return cls(str(data["feature"]), data.get("value"), float(data["contribution"]),
                   str(data["es"]), str(data["en"]))


def _n(value: float | str | None) -> int:
    return round(float(value)) if isinstance(value, int | float) else 0


def _plural(count: int, one: str, many: str) -> str:
    return one if count == 1 else many


def _tenure(days: int) -> tuple[str, str]:
    if days < 60:
        return (f"cliente desde hace {days} {_plural(days, 'día', 'días')}",
                f"customer for {days} {_plural(days, 'day', 'days')}")
    if days < 730:
        months = days // 30
        return (f"cliente desde hace {months} {_plural(months, 'mes', 'meses')}",
                f"customer for {months} {_plural(months, 'month', 'months')}")
    years = days // 365
    return f"cliente desde hace {years} años", f"customer for {years} years"


def _counted(count: int, es: tuple[str, str], en: tuple[str, str], days: int
             ) -> tuple[str, str]:
    return (f"{count} {_plural(count, *es)} en {days} días",
            f"{count} {_plural(count, *en)} in {days} days")


def phrase(feature: str, value: float | str | None) -> tuple[str, str]:
    """(Spanish, English) words for a feature's value."""
    n = _n(value)
    match feature:
        case "tenure_days":
            return _tenure(n) if value is not None else ("antigüedad desconocida",
                                                         "unknown tenure")
        case "unsatisfied_30d" | "unsatisfied_90d":
            return _counted(n, ("contacto insatisfecho", "contactos insatisfechos"),
                            ("unsatisfied contact", "unsatisfied contacts"),
                            int(feature[-3:-1]))
        case "contacts_7d" | "contacts_30d" | "contacts_90d":
            return _counted(n, ("contacto", "contactos"), ("contact", "contacts"),
                            int(feature.split("_")[1][:-1]))
        case "abandoned_30d" | "abandoned_90d":
            return _counted(n, ("llamada abandonada", "llamadas abandonadas"),
                            ("abandoned call", "abandoned calls"), int(feature[-3:-1]))
        case "negative_30d":
            return _counted(n, ("mensaje negativo", "mensajes negativos"),
                            ("negative message", "negative messages"), 30)
        case "urgent_30d":
            return _counted(n, ("mensaje urgente", "mensajes urgentes"),
                            ("urgent message", "urgent messages"), 30)
        case "csat_last":
            return ((f"última satisfacción {n}/5", f"last CSAT {n}/5") if value is not None
                    else ("sin encuestas de satisfacción", "no satisfaction surveys"))
        case "csat_average":
            shown = f"{float(value):.1f}" if isinstance(value, int | float) else "-"
            return f"satisfacción media {shown}/5", f"average CSAT {shown}/5"
        case "nps_detractor":
            return (("NPS detractor", "NPS detractor") if n else
                    ("no es detractor (NPS)", "not an NPS detractor"))
        case "nps_promoter":
            return (("NPS promotor", "NPS promoter") if n else
                    ("no es promotor (NPS)", "not an NPS promoter"))
        case "days_since_contact":
            return ((f"sin contactar desde hace {n} días", f"no contact for {n} days")
                    if value is not None else ("nunca ha contactado", "never got in touch"))
        case "spend_90d":
            return f"{n} € de compras en 90 días", f"{n} € spent in 90 days"
        case "value":
            return f"valor {n}", f"value {n}"
        case "tier":
            return f"nivel {value or '-'}", f"tier {value or '-'}"
        case "segment":
            return f"segmento {value or '-'}", f"segment {value or '-'}"
    if feature.startswith(COUNT_PREFIX):
        event_type = feature[len(COUNT_PREFIX):]
        words = EVENT_WORDS.get(event_type)
        if words is None:
            return f"{n} × {event_type} en 90 días", f"{n} × {event_type} in 90 days"
        return _counted(n, words[0], words[1], 90)
    return f"{feature}: {value}", f"{feature}: {value}"


def _family(feature: str) -> str:
    """Windows of one measure say one thing: "6 unsatisfied contacts in 30 days" and "... in
    90 days" are one reason, not two."""
    for family in ("unsatisfied", "abandoned", "contacts"):
        if feature.startswith(family + "_"):
            return family
    return feature


def top_factors(features: Mapping[str, float | str | None], contributions: Mapping[str, float],
                top: int = TOP) -> list[Factor]:
    """The features that raise this customer's risk most (above the average customer's),
    in words, one per measure; none when nothing raises it."""
    rising = sorted(((c, name) for name, c in contributions.items() if c > 0.01),
                    reverse=True)
    factors: list[Factor] = []
    said: set[str] = set()
    for contribution, name in rising:
        if _family(name) in said:
            continue
        said.add(_family(name))
        es, en = phrase(name, features.get(name))
        factors.append(Factor(name, features.get(name), contribution, es, en))
        if len(factors) == top:
            break
    return factors
