"""A realistic demo company: "Aurora Hogar", a Spanish home-goods retailer with an online shop,
a loyalty programme, financing for professionals and customers in Spain, the UK and the US.

Everything is sent through the real ingest pipeline as the company's systems would send it:
the CRM (customers, consent), the shop (orders, shipments), billing (invoices, disputes), the
helpdesk (tickets), the PBX and the chat/email tools (interactions), and the survey tool.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

ES_FIRST_F = ["María", "Carmen", "Lucía", "Ana", "Laura", "Marta", "Elena", "Sara", "Paula",
              "Isabel", "Cristina", "Pilar", "Rosa", "Nuria", "Raquel", "Silvia", "Alba"]
ES_FIRST_M = ["Antonio", "José", "Manuel", "Francisco", "David", "Juan", "Javier", "Carlos",
              "Daniel", "Miguel", "Alejandro", "Pablo", "Sergio", "Jorge", "Alberto", "Luis"]
ES_LAST = ["García", "Fernández", "González", "Rodríguez", "López", "Martínez", "Sánchez",
           "Pérez", "Gómez", "Martín", "Jiménez", "Ruiz", "Hernández", "Díaz", "Moreno",
           "Muñoz", "Álvarez", "Romero", "Alonso", "Gutiérrez", "Navarro", "Torres", "Domínguez",
           "Vázquez", "Ramos", "Gil", "Ramírez", "Serrano", "Blanco", "Molina", "Ortega"]
ES_CITIES = [("Madrid", "280"), ("Barcelona", "080"), ("Valencia", "460"), ("Sevilla", "410"),
             ("Zaragoza", "500"), ("Málaga", "290"), ("Bilbao", "480"), ("Murcia", "300"),
             ("Valladolid", "470"), ("Alicante", "030"), ("Córdoba", "140"), ("Vigo", "362")]
EN_FIRST_F = ["Emma", "Olivia", "Sophie", "Charlotte", "Amelia", "Grace", "Emily", "Hannah"]
EN_FIRST_M = ["James", "Oliver", "Harry", "George", "William", "Thomas", "Jack", "Michael"]
EN_LAST = ["Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies",
           "Evans", "Thomas", "Roberts", "Walker", "Wright", "Clarke", "Hughes", "Green"]
EN_CITIES = [("London", "GB"), ("Manchester", "GB"), ("Leeds", "GB"), ("Bristol", "GB"),
             ("Miami", "US"), ("Austin", "US"), ("New York", "US")]
PRODUCTS = [("Sofá 3 plazas Nórdico", 899.0), ("Colchón viscoelástico", 459.0),
            ("Lámpara de pie Arco", 129.0), ("Juego de sartenes", 79.9),
            ("Mesa extensible roble", 649.0), ("Aspiradora sin cable", 299.0),
            ("Set de toallas", 39.9), ("Cafetera espresso", 189.0), ("Estantería modular", 159.0),
            ("Robot de cocina", 499.0), ("Silla de oficina ergonómica", 249.0)]
CARRIERS = ["Transportes Rápidos", "PaqExpress", "Correos Express", "DHL"]
REASONS_ES = ["estado del pedido", "devolución", "factura", "cargo no reconocido",
              "cambio de dirección", "incidencia de montaje", "financiación", "garantía"]
REASONS_EN = ["order status", "return", "invoice", "unrecognised charge", "address change",
              "assembly issue", "financing", "warranty"]
ADVISORS = ["Lucía Marín", "Pedro Sanz", "Ana Ruiz", "Tom Baker", "Carmen Vidal"]


def _phone_es(rng: random.Random) -> str:
    return f"6{rng.randint(10, 99)} {rng.randint(100, 999)} {rng.randint(100, 999)}"


def _phone_en(rng: random.Random, country: str) -> str:
    if country == "GB":
        return f"+44 7{rng.randint(100, 999)} {rng.randint(100000, 999999)}"
    area = rng.choice(["305", "512", "212"])
    return f"+1 {area} {rng.randint(200, 999)} {rng.randint(1000, 9999)}"


def _ascii(text: str) -> str:
    table = str.maketrans("áéíóúüñÁÉÍÓÚÑ", "aeiouunAEIOUN")
    return text.translate(table).lower().replace(" ", "")


class DemoCompany:
    """Yields batches of events for ``customers`` customers over ``days`` of history."""

    def __init__(self, now: datetime, customers: int = 3000, days: int = 120,
                 seed: int = 7) -> None:
        self.now = now
        self.customers = customers
        self.days = days
        self.rng = random.Random(seed)
        self.seq = 0

    def _id(self, prefix: str) -> str:
        self.seq += 1
        return f"{prefix}-{self.seq:07d}"

    def _at(self, days_ago_max: float, days_ago_min: float = 0.0) -> str:
        ago = self.rng.uniform(days_ago_min, days_ago_max)
        moment = self.now - timedelta(days=ago)
        # contact-center hours, mostly
        moment = moment.replace(hour=self.rng.choice([9, 10, 11, 12, 13, 16, 17, 18, 19]),
                                minute=self.rng.randint(0, 59))
        if moment > self.now:
            moment -= timedelta(days=1)
        return moment.isoformat()

    def batches(self, size: int = 1000) -> Iterator[list[dict[str, Any]]]:
        batch: list[dict[str, Any]] = []
        for events in self._all_customers():
            batch.extend(events)
            if len(batch) >= size:
                yield batch
                batch = []
        if batch:
            yield batch

    def _all_customers(self) -> Iterator[list[dict[str, Any]]]:
        yield self._maria()
        yield from self._shared_landline()
        yield from self._family_without_ids()
        for n in range(self.customers - 5):
            yield self._customer(n)

    # -- the scenario customers ----------------------------------------------------------------

    def _maria(self) -> list[dict[str, Any]]:
        """S1: María López, VIP, open dispute, recent contacts, phone 600 123 456."""
        ids = {"phone": "+34600123456", "email": "maria.lopez@example.es",
               "external_ids": {"crm": "CRM-000001"}}
        events = [self._crm_profile(ids, {
            "first_name": "María", "last_name": "López", "title": "Sra.", "language": "es",
            "tier": "vip", "segment": "individual", "city": "Madrid", "postal_code": "28013",
            "preferred_channel": "sms", "advisor": "Lucía Marín", "customer_since": "2015-03-02",
        }, days_ago=110)]
        order = "PED-900001"
        events.append(self._event("order.placed", "shop", ids, 20, properties={
            "order_id": order, "amount": 1499.0, "currency": "EUR",
            "title": "Sofá 3 plazas Nórdico + Mesa extensible roble"}))
        events.append(self._event("invoice.paid", "billing", ids, 19, properties={
            "invoice_id": "FAC-900001", "amount": 1499.0, "currency": "EUR"}))
        events.append(self._event("dispute.opened", "billing", ids, 3, properties={
            "dispute_id": "DSP-900001", "amount": 89.0, "currency": "EUR",
            "reason": "cargo no reconocido", "title": "Cargo duplicado de transporte"}))
        for days_ago, etype, reason in [(6, "call.completed", "estado del pedido"),
                                        (3, "call.completed", "cargo no reconocido"),
                                        (1, "email.received", "cargo no reconocido")]:
            events.append(self._event(etype, "pbx" if etype.startswith("call") else "mail", ids,
                                      days_ago, channel="voice" if "call" in etype else "email",
                                      properties={"reason": reason, "duration": 240}))
        events.append(self._event("survey.answered", "surveys", ids, 3,
                                  properties={"csat": 3, "nps": 8}))
        return events

    def _shared_landline(self) -> Iterator[list[dict[str, Any]]]:
        """S1: a family landline shared by two customers with their own CRM records."""
        landline = "+34915550123"
        for crm, first, email in [("CRM-000002", "Antonio", "antonio.ruiz@example.es"),
                                  ("CRM-000003", "Pilar", "pilar.ruiz@example.es")]:
            ids = {"phone": landline, "email": email, "external_ids": {"crm": crm}}
            yield [self._crm_profile(ids, {
                "first_name": first, "last_name": "Ruiz", "language": "es", "tier": "standard",
                "city": "Madrid", "postal_code": "28003" if first == "Antonio" else "28039",
                "title": "Sr." if first == "Antonio" else "Sra.",
            }, days_ago=90),
                self._event("call.completed", "pbx", ids, 10, channel="voice",
                            properties={"reason": "estado del pedido", "duration": 180})]

    def _family_without_ids(self) -> Iterator[list[dict[str, Any]]]:
        """S1 with no CRM ids (an old CRM export): the Pujol Riera family in Barcelona shares
        a landline. The evidence (another name, another e-mail and mobile from the CRM) tells
        Jordi from Montse: a call from the landline shows both, and the declined link waits
        in the review queue (GET /v1/identity/suggestions)."""
        landline = "+34935550123"
        people = [("Jordi", "Pujol Riera", "jordi.pujol@example.cat", "+34655100200", "Sr."),
                  ("Montserrat", "Riera Vidal", "montse.riera@example.cat", "+34655100300",
                   "Sra.")]
        for first, last, email, mobile, title in people:
            ids = {"phone": [landline, mobile], "email": email}
            yield [self._crm_profile(ids, {
                "first_name": first, "last_name": last, "language": "es", "title": title,
                "tier": "standard", "city": "Barcelona", "postal_code": "08012",
            }, days_ago=80),
                self._event("order.placed", "shop", {"email": email}, 30, properties={
                    "order_id": f"PED-9{mobile[-5:]}", "amount": 64.9, "currency": "EUR",
                    "title": "Juego de sábanas"}),
                self._event("call.completed", "pbx", {"phone": mobile}, 12, channel="voice",
                            properties={"reason": "estado del pedido", "duration": 150})]

    # -- everybody else --------------------------------------------------------------------------

    def _customer(self, n: int) -> list[dict[str, Any]]:
        rng = self.rng
        spanish = rng.random() < 0.72
        female = rng.random() < 0.5
        if spanish:
            first = rng.choice(ES_FIRST_F if female else ES_FIRST_M)
            last = f"{rng.choice(ES_LAST)} {rng.choice(ES_LAST)}"
            city, cp = rng.choice(ES_CITIES)
            phone = _phone_es(rng)
            title = "Sra." if female else "Sr."
            postal = f"{cp}{rng.randint(1, 99):02d}"
            lang = "es"
        else:
            first = rng.choice(EN_FIRST_F if female else EN_FIRST_M)
            last = rng.choice(EN_LAST)
            city, country = rng.choice(EN_CITIES)
            phone = _phone_en(rng, country)
            title = "Ms" if female else "Mr"
            postal = None
            lang = "en"
        crm = f"CRM-{n + 10:06d}"
        email = f"{_ascii(first)}.{_ascii(last.split()[0])}{n}@example.{'es' if spanish else 'com'}"
        ids: dict[str, Any] = {"phone": phone, "email": email, "external_ids": {"crm": crm}}
        roll = rng.random()
        tier = "vip" if roll < 0.05 else "gold" if roll < 0.2 else "standard"
        segment = "professional" if rng.random() < 0.15 else "individual"
        since_days = rng.randint(5, 3000)
        traits = {"first_name": first, "last_name": last, "title": title, "language": lang,
                  "tier": tier, "segment": segment, "city": city,
                  "preferred_channel": rng.choice(["email", "sms", "voice", "email", "whatsapp"]),
                  "customer_since": (self.now - timedelta(days=since_days)).date().isoformat(),
                  "churn_risk": round(rng.betavariate(2, 6), 2)}
        if postal:
            traits["postal_code"] = postal
        if tier == "vip":
            traits["advisor"] = rng.choice(ADVISORS)
        if segment == "professional":
            trade = rng.choice(["Interiores", "Reformas", "Design"])
            traits["company"] = f"{last.split()[0]} {trade}"
        events = [self._crm_profile(ids, traits, days_ago=min(since_days, self.days))]
        # The shop only knows the email; the PBX only the phone (in its own format).
        shop_ids = {"email": email.upper() if rng.random() < 0.1 else email,
                    "external_ids": {"shop": f"SHOP-{n:06d}"}}
        pbx_phone = phone.replace(" ", "") if rng.random() < 0.5 else phone
        if spanish and rng.random() < 0.3:
            pbx_phone = "0034 " + phone
        pbx_ids = {"phone": pbx_phone}
        reasons = REASONS_ES if spanish else REASONS_EN
        for _ in range(rng.choice([0, 1, 1, 2, 2, 3, 5])):
            events.extend(self._order(shop_ids, ids, rng))
        for _ in range(rng.choice([0, 0, 1, 2, 3, 4, 6])):
            events.extend(self._contact(pbx_ids, ids, reasons, rng))
        if rng.random() < 0.07:
            events.append(self._event("dispute.opened", "billing", ids, rng.uniform(0, 20),
                                      properties={"dispute_id": self._id("DSP"),
                                                  "amount": round(rng.uniform(5, 150), 2),
                                                  "currency": "EUR",
                                                  "reason": reasons[3]}))
        if rng.random() < 0.12:
            ticket = self._id("TKT")
            days_ago = rng.uniform(0, 40)
            events.append(self._event("ticket.opened", "helpdesk", ids, days_ago, properties={
                "ticket_id": ticket, "subject": rng.choice(reasons)}))
            if rng.random() < 0.6:
                events.append(self._event("ticket.closed", "helpdesk", ids,
                                          max(0.0, days_ago - rng.uniform(0.5, 5)),
                                          properties={"ticket_id": ticket}))
        if rng.random() < 0.05:
            events.append(self._event("invoice.overdue", "billing", ids, rng.uniform(0, 30),
                                      properties={"invoice_id": self._id("FAC"),
                                                  "amount": round(rng.uniform(30, 900), 2),
                                                  "currency": "EUR"}))
        return events

    def _order(self, shop_ids: dict[str, Any], ids: dict[str, Any], rng: random.Random
               ) -> list[dict[str, Any]]:
        product, price = rng.choice(PRODUCTS)
        order = self._id("PED")
        days_ago = rng.uniform(0, self.days)
        events = [self._event("order.placed", "shop", shop_ids, days_ago, channel="web",
                              properties={"order_id": order, "amount": price, "currency": "EUR",
                                          "title": product})]
        shipped = days_ago - rng.uniform(0.5, 2)
        if shipped > 0:
            events.append(self._event("shipment.created", "shop", shop_ids, shipped, properties={
                "shipment_id": f"ENV-{order[4:]}", "order_id": order,
                "carrier": rng.choice(CARRIERS)}))
            delivered = shipped - rng.uniform(1, 4)
            if delivered > 0:
                events.append(self._event("order.delivered", "shop", shop_ids, delivered,
                                          properties={"order_id": order}))
                events.append(self._event("shipment.delivered", "shop", shop_ids, delivered,
                                          properties={"shipment_id": f"ENV-{order[4:]}"}))
        if rng.random() < 0.04:
            events.append(self._event("order.canceled", "shop", shop_ids,
                                      max(0.0, days_ago - 0.2), properties={"order_id": order}))
        return events

    def _contact(self, pbx_ids: dict[str, Any], ids: dict[str, Any], reasons: list[str],
                 rng: random.Random) -> list[dict[str, Any]]:
        days_ago = rng.uniform(0, self.days)
        kind = rng.random()
        reason = rng.choice(reasons)
        if kind < 0.55:
            abandoned = rng.random() < 0.12
            events = [self._event("call.abandoned" if abandoned else "call.completed", "pbx",
                                  pbx_ids, days_ago, channel="voice", properties={
                                      "reason": None if abandoned else reason,
                                      "wait_seconds": rng.randint(5, 400),
                                      "duration": 0 if abandoned else rng.randint(60, 900),
                                      "outcome": rng.choice(["resolved"] * 5 + ["unresolved"]),
                                  })]
            if abandoned:
                return events
        elif kind < 0.8:
            events = [self._event("email.received", "mail", {"email": ids["email"]}, days_ago,
                                  channel="email", properties={"reason": reason})]
        else:
            events = [self._event("chat.completed", "chat", {"email": ids["email"]}, days_ago,
                                  channel="chat", properties={"reason": reason})]
        if rng.random() < 0.35:
            csat = rng.choices([1, 2, 3, 4, 5], weights=[6, 8, 16, 35, 35])[0]
            events.append(self._event("survey.answered", "surveys", ids,
                                      max(0.0, days_ago - 0.05), properties={
                                          "csat": csat,
                                          "nps": min(10, max(0, csat * 2 + rng.randint(-1, 1))),
                                      }))
        return events

    # -- envelopes --------------------------------------------------------------------------------

    def _crm_profile(self, ids: dict[str, Any], traits: dict[str, Any], days_ago: float
                     ) -> dict[str, Any]:
        consent = [{"channel": "email", "purpose": "service", "granted": True},
                   {"channel": "sms", "purpose": "service", "granted": True},
                   {"channel": "email", "purpose": "marketing",
                    "granted": self.rng.random() < 0.6},
                   {"channel": "sms", "purpose": "marketing", "granted": self.rng.random() < 0.4}]
        return {**self._event("customer.updated", "crm", ids, days_ago), "traits": traits,
                "consent": consent}

    def _event(self, event_type: str, source: str, ids: dict[str, Any], days_ago: float,
               *, channel: str | None = None, properties: dict[str, Any] | None = None
               ) -> dict[str, Any]:
        event: dict[str, Any] = {
            "type": event_type, "id": self._id("EV"), "source": source,
            "occurred_at": self._at(days_ago + 0.001, max(0.0, days_ago - 0.001))
            if days_ago >= 1 else (self.now - timedelta(hours=days_ago * 24)).isoformat(),
            "identifiers": ids,
        }
        if channel:
            event["channel"] = channel
        if properties:
            event["properties"] = {k: v for k, v in properties.items() if v is not None}
        return event


def live_event(rng: random.Random, now: datetime, phones: list[str]) -> dict[str, Any]:
    """One event of the live trickle: a call, an abandon or a survey from a known number."""
    phone = rng.choice(phones)
    kind = rng.random()
    if kind < 0.6:
        return {"type": "call.completed", "source": "pbx", "channel": "voice",
                "occurred_at": now.isoformat(), "identifiers": {"phone": phone},
                "properties": {"reason": rng.choice(REASONS_ES), "duration": rng.randint(60, 600)}}
    if kind < 0.8:
        return {"type": "call.abandoned", "source": "pbx", "channel": "voice",
                "occurred_at": now.isoformat(), "identifiers": {"phone": phone},
                "properties": {"wait_seconds": rng.randint(20, 300)}}
    return {"type": "survey.answered", "source": "surveys", "occurred_at": now.isoformat(),
            "identifiers": {"phone": phone}, "properties": {"csat": rng.randint(1, 5)}}
