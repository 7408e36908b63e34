"""What the living demo does next, as pure decisions over plain data: which contact arrives
(a call, a chat, an e-mail, a callback, from whom, saying what in the IVR), what each
simulated agent does with their offers and conversations, and which waiting callers hang up.

The randomness comes in (a seeded ``random.Random``), time too (``now`` and the tick's length
``dt``), so a test replays a run exactly. Delays are drawn per tick as hazards: an agent who
may accept after two seconds accepts in each later second with a fixed chance, which gives
the spread of real reaction times without remembering a plan per task.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

MARIA = "+34600123456"
SHARED_LANDLINE = "+34915550123"  # the Ruiz family's: two customers answer on it

# -- contacts -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DemoCustomer:
    """A customer of the demo company the traffic may come from."""

    phone: str | None
    email: str | None
    language: str = "es"


@dataclass(frozen=True, slots=True)
class Contact:
    """A contact to put in the queues through the real intake path."""

    channel: str  # voice, chat, email
    kind: str  # contact or callback
    queue: str
    identifiers: dict[str, Any]
    reason: str
    language: str
    attributes: dict[str, Any] = field(default_factory=dict)
    # What the caller answered in the IVR before reaching the queue (voice only).
    ivr: dict[str, Any] | None = None
    window_minutes: int = 0  # a callback's window, from now
    # What a chat or e-mail says (its subject and text), recorded as chat.message or
    # email.received for analysis on ingest; None for calls and callbacks.
    message: dict[str, str] | None = None


REASONS = {
    "es": [("order_status", "estado del pedido", "¿Dónde está mi pedido?"),
           ("return", "devolución", "Quiero devolver un artículo"),
           ("invoice", "factura", "Necesito una copia de la factura"),
           ("unrecognised_charge", "cargo no reconocido", "Tengo un cargo que no reconozco"),
           ("address_change", "cambio de dirección", "He cambiado de dirección"),
           ("assembly", "incidencia de montaje", "Falta una pieza del montaje"),
           ("financing", "financiación", "Quiero financiar una compra"),
           ("warranty", "garantía", "Mi aspiradora no carga")],
    "en": [("order_status", "order status", "Where is my order?"),
           ("return", "return", "I would like to return an item"),
           ("invoice", "invoice", "I need a copy of my invoice"),
           ("unrecognised_charge", "unrecognised charge", "There is a charge I don't know"),
           ("address_change", "address change", "I have moved house"),
           ("assembly", "assembly issue", "A part is missing from my table"),
           ("financing", "financing", "Can I pay in instalments?"),
           ("warranty", "warranty", "My vacuum cleaner does not charge")],
}
# Now and then a written contact is upset or urgent (S16): analysis on ingest reads it, puts
# the chat or e-mail ahead in the queue and raises the console's angry-customer alert.
UPSET_SHARE = 0.3
UPSET = {
    "es": [("unrecognised_charge", "cargo no reconocido", "Cargo duplicado",
            "Me habéis cobrado dos veces el transporte. Es una vergüenza, voy a poner una "
            "reclamación y hablaré con mi abogado."),
           ("return", "devolución", "Tercera vez que escribo",
            "Es la tercera vez que escribo y nadie me contesta. Estoy harto: si no me "
            "devolvéis el dinero esta semana me doy de baja."),
           ("assembly", "incidencia de montaje", "Sofá roto",
            "El sofá llegó roto y nadie viene a recogerlo. Pésimo servicio, estoy muy "
            "enfadada."),
           ("unrecognised_charge", "cargo no reconocido", "Fraude con mi tarjeta",
            "Hay compras con mi tarjeta que no reconozco, es un fraude: me la han robado. "
            "¡BLOQUEADLA YA!")],
    "en": [("unrecognised_charge", "unrecognised charge", "Double charge",
            "You charged me twice for delivery. This is unacceptable, I will file a "
            "complaint and talk to my lawyer."),
           ("return", "return", "Third time I write",
            "This is the third time I write and nobody answers. I am fed up: refund me this "
            "week or I will cancel my account."),
           ("assembly", "assembly issue", "Broken sofa",
            "The sofa arrived broken and nobody comes to collect it. Terrible service, I am "
            "very angry."),
           ("unrecognised_charge", "unrecognised charge", "Fraud on my card",
            "There are purchases on my card I do not recognise, this is fraud: it was "
            "stolen. BLOCK IT NOW!")],
}
# What the IVR's menu option was for each reason ("pulse 1 para pedidos...").
IVR_OPTION = {"order_status": "1", "return": "1", "assembly": "1", "invoice": "2",
              "unrecognised_charge": "2", "financing": "2", "address_change": "3",
              "warranty": "4"}
CHANNEL_WEIGHTS = (("voice", 50), ("chat", 22), ("email", 16), ("callback", 12))


def phone_as_dialled(phone: str, rng: random.Random) -> str:
    """The same Spanish number the ways switches and people write it: +34600123456,
    600 123 456, 0034600123456, 600123456, +34 600 12 34 56."""
    if not phone.startswith("+34") or len(phone) != 12:
        return phone
    local = phone[3:]
    return rng.choice([phone, f"{local[:3]} {local[3:6]} {local[6:]}", f"0034{local}", local,
                       f"+34 {local[:3]} {local[3:5]} {local[5:7]} {local[7:]}"])


def next_gap(rng: random.Random, shortest: float, longest: float) -> float:
    """Seconds until the next contact arrives."""
    return rng.uniform(shortest, max(shortest, longest))


def next_contact(rng: random.Random, customers: Sequence[DemoCustomer]) -> Contact:
    """The next contact: mostly calls, then chats, e-mails and callbacks; now and then from
    María López (any format of her number), from the shared family landline, or from a
    number nobody knows."""
    channel = rng.choices([c for c, _ in CHANNEL_WEIGHTS], [w for _, w in CHANNEL_WEIGHTS])[0]
    roll = rng.random()
    if roll < 0.12:
        customer = DemoCustomer(MARIA, "maria.lopez@example.es", "es")
    elif roll < 0.18 and channel in ("voice", "callback"):
        customer = DemoCustomer(SHARED_LANDLINE, None, "es")
    elif roll < 0.24 and channel == "voice":
        customer = DemoCustomer(f"+346{rng.randint(10, 99)}{rng.randint(100000, 999999)}",
                                None, "es")
    elif customers:
        customer = rng.choice(list(customers))
    else:
        customer = DemoCustomer(MARIA, "maria.lopez@example.es", "es")
    language = customer.language if customer.language in REASONS else "es"
    code, reason, said = rng.choice(REASONS[language])
    phone, email = customer.phone, customer.email
    if email is None or (channel in ("voice", "callback") and phone is not None):
        if phone is None:
            raise ValueError("a demo customer needs a phone or an e-mail")
        if channel == "callback":
            return Contact(channel="voice", kind="callback", queue="rellamadas",
                           identifiers={"phone": phone}, reason=reason, language=language,
                           window_minutes=rng.choice([30, 60, 120]),
                           attributes={"reason_code": code, "requested_from": "web"})
        ivr = {"language": language, "option": IVR_OPTION[code], "said": said}
        if code in ("order_status", "return", "assembly") and rng.random() < 0.6:
            ivr["order_number"] = f"PED-{rng.randint(100000, 999999)}"
        return Contact(channel="voice", kind="contact", queue="atencion",
                       identifiers={"phone": phone_as_dialled(phone, rng)},
                       reason=reason, language=language, ivr=ivr,
                       attributes={"reason_code": code, "ivr": ivr})
    chat = channel == "chat" or (channel in ("voice", "callback") and rng.random() < 0.5)
    subject, text = said, said
    if rng.random() < UPSET_SHARE:
        code, reason, subject, text = rng.choice(UPSET[language])
    if chat:
        return Contact(channel="chat", kind="contact", queue="atencion",
                       identifiers={"email": email}, reason=reason,
                       language=language, attributes={"reason_code": code,
                                                      "first_message": text},
                       message={"text": text})
    return Contact(channel="email", kind="contact", queue="atencion",
                   identifiers={"email": email}, reason=reason, language=language,
                   attributes={"reason_code": code, "subject": subject},
                   message={"subject": subject, "text": text})


# -- simulated agents -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Held:
    """A task an agent holds, and since when it is in its state (offered, assigned, ended)."""

    task_id: str
    state: str  # reserved, assigned or wrapping
    channel: str
    kind: str  # contact or callback
    since: datetime
    until: datetime | None = None  # an offer's end


@dataclass(frozen=True, slots=True)
class SimAgent:
    id: str
    presence: str  # available, away, offline
    presence_since: datetime
    held: tuple[Held, ...] = ()


@dataclass(frozen=True, slots=True)
class Span:
    """A delay: at least ``least`` seconds, then on average ``mean`` more."""

    least: float
    mean: float

    def due(self, elapsed: float, dt: float, rng: random.Random) -> bool:
        if elapsed < self.least:
            return False
        return rng.random() < 1.0 - math.exp(-dt / max(self.mean, 1e-6))


@dataclass(frozen=True, slots=True)
class Tuning:
    """How the simulated agents behave. They take most offers; while a person's agent is
    available they pass on a share of them, so the person gets work within a minute."""

    answer: Span = Span(2.0, 2.0)
    talk: dict[str, Span] = field(default_factory=lambda: {
        "voice": Span(20.0, 25.0), "chat": Span(25.0, 35.0), "email": Span(15.0, 15.0)})
    wrap: Span = Span(3.0, 5.0)
    pass_share: float = 0.05
    pass_share_person_available: float = 0.35
    break_every: float = 900.0  # mean seconds available-and-idle before a break
    break_length: Span = Span(30.0, 60.0)
    callback_reached: float = 0.8
    hang_up_after: Span = Span(90.0, 120.0)  # a caller waiting this long hangs up


# Each is one of the wrap-up codes demo/routing.yaml lists for the queues calls reach
DISPOSITIONS = {"order_status": "informed", "return": "return_started",
                "invoice": "invoice_sent", "unrecognised_charge": "dispute_opened",
                "address_change": "data_updated", "assembly": "technician_booked",
                "financing": "financing_offered", "warranty": "warranty_claim"}


@dataclass(frozen=True, slots=True)
class Action:
    """One step of a simulated agent: ``verb`` is presence, accept, reject, end or complete."""

    verb: str
    agent_id: str
    task_id: str | None = None
    presence: str | None = None
    disposition: str | None = None
    outcome: str | None = None


def decide(agents: Sequence[SimAgent], now: datetime, dt: float, *,
           person_available: bool, rng: random.Random, tuning: Tuning | None = None,
           reasons: dict[str, str] | None = None) -> list[Action]:
    """What each simulated agent does in this tick of ``dt`` seconds. ``reasons``: the
    reason code of held tasks, for the wrap-up code."""
    tuning = tuning or Tuning()
    reasons = reasons or {}
    actions: list[Action] = []
    for agent in agents:
        actions.extend(_agent_step(agent, now, dt, person_available, rng, tuning, reasons))
    return actions


def _agent_step(agent: SimAgent, now: datetime, dt: float, person_available: bool,
                rng: random.Random, tuning: Tuning, reasons: dict[str, str]) -> list[Action]:
    if agent.presence == "offline":
        return [Action("presence", agent.id, presence="available")]
    if agent.presence == "away":
        on_break = (now - agent.presence_since).total_seconds()
        if tuning.break_length.due(on_break, dt, rng):
            return [Action("presence", agent.id, presence="available")]
        return []
    actions: list[Action] = []
    for held in agent.held:
        elapsed = (now - held.since).total_seconds()
        if held.state == "reserved":
            if held.until is not None and held.until <= now:
                continue  # too late: the dispatcher takes it back
            if tuning.answer.due(elapsed, dt, rng):
                share = tuning.pass_share_person_available if person_available \
                    else tuning.pass_share
                verb = "reject" if rng.random() < share else "accept"
                actions.append(Action(verb, agent.id, held.task_id))
        elif held.state == "assigned":
            talk = tuning.talk.get(held.channel, tuning.talk["voice"])
            if talk.due(elapsed, dt, rng):
                actions.append(Action("end", agent.id, held.task_id))
        elif held.state == "wrapping" and tuning.wrap.due(elapsed, dt, rng):
            actions.append(_wrap_up(agent.id, held, rng, tuning, reasons))
    if not agent.held and rng.random() < 1.0 - math.exp(-dt / tuning.break_every):
        actions.append(Action("presence", agent.id, presence="away"))
    return actions


def _wrap_up(agent_id: str, held: Held, rng: random.Random, tuning: Tuning,
             reasons: dict[str, str]) -> Action:
    if held.kind == "callback":
        reached = rng.random() < tuning.callback_reached
        return Action("complete", agent_id, held.task_id,
                      disposition="called_back" if reached else None,
                      outcome="reached" if reached else "no_answer")
    code = reasons.get(held.task_id)
    disposition = DISPOSITIONS.get(code or "", "resolved")
    if rng.random() < 0.15:
        disposition = "escalated"
    return Action("complete", agent_id, held.task_id, disposition=disposition)


@dataclass(frozen=True, slots=True)
class Waiting:
    task_id: str
    channel: str
    kind: str
    waited: float


def hang_ups(waiting: Sequence[Waiting], dt: float, rng: random.Random,
             tuning: Tuning | None = None) -> list[str]:
    """The callers who give up this tick: only calls (chats and e-mails wait), only after
    a while."""
    tuning = tuning or Tuning()
    return [w.task_id for w in waiting
            if w.channel == "voice" and w.kind == "contact"
            and tuning.hang_up_after.due(w.waited, dt, rng)]
