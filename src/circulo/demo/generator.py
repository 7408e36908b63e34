"""A realistic demo company: "Aurora Hogar", a Spanish home-goods retailer with an online shop,
a loyalty programme, financing for professionals and customers in Spain, the UK and the US.

Everything is sent through the real ingest pipeline as the company's systems would send it:
the CRM (customers, consent), the shop (orders, shipments), billing (invoices, disputes), the
helpdesk (tickets), the PBX and the chat/email tools (interactions), and the survey tool.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from circulo.demo.engine import REASONS, UPSET

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
# What a customer writes about each reason (the living demo's first lines, docs/demo.md).
SAID = {reason: said for lines in REASONS.values() for _, reason, said in lines}
ADVISORS = ["Lucía Marín", "Pedro Sanz", "Ana Ruiz", "Tom Baker", "Carmen Vidal"]
# The Tarjeta Aurora (the store card that finances purchases) and the appliances that report
# through the Aurora Connect app send events too.
MERCHANTS = ["Aurora Hogar Online", "Aurora Hogar Castellana", "Mercadona", "Repsol",
             "Amazon EU", "El Corte Inglés", "Renfe", "Zara"]
DEVICES = [("Robot de cocina Aurora Chef", ["sobrecalentamiento", "tapa abierta", "motor"]),
           ("Aspiradora robot Aurora Clean", ["batería", "atasco", "filtro"]),
           ("Caldera conectada Aurora Term", ["presión", "fuga", "llama"])]


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
        # Who leaves, and the bad spell before it, draw from their own generator and ids, so
        # the rest of the company stays what it was.
        self.story = random.Random(seed + 17)
        self.story_seq = 0

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
        scenes = [self._maria(), *self._shared_landline(), *self._family_without_ids(),
                  *self._journey_scenes()]
        yield from scenes[:self.customers]
        for n in range(self.customers - len(scenes)):
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

    # -- the customers the example journeys (examples/journeys/) act on ------------------------

    def _journey_scenes(self) -> list[list[dict[str, Any]]]:
        return [self._three_bad_contacts(), self._vip_hanging_up(), *self._carrier_incident(),
                self._small_dispute(), self._low_score_vip(), self._anniversary_gift(),
                self._card_fraud(), self._device_alert(), self._urgent_message()]

    def _scene_customer(self, crm: str, phone: str, email: str, traits: dict[str, Any],
                        *, marketing: bool = False) -> tuple[dict[str, Any], dict[str, Any]]:
        ids = {"phone": phone, "email": email, "external_ids": {"crm": crm}}
        profile = self._crm_profile(ids, {"language": "es", "tier": "standard",
                                          "segment": "individual", **traits}, days_ago=100)
        if marketing:
            for consent in profile["consent"]:
                consent["granted"] = True
        return ids, profile

    def _three_bad_contacts(self) -> list[dict[str, Any]]:
        """S6: three contacts this quarter, each scored 1 or 2 in the survey."""
        ids, profile = self._scene_customer("CRM-900006", "+34611600600",
                                            "raquel.navarro@example.es", {
            "first_name": "Raquel", "last_name": "Navarro Gil", "title": "Sra.",
            "tier": "gold", "city": "Valencia", "preferred_channel": "email"})
        events = [profile]
        for days_ago, csat, reason in [(25, 2, "devolución"), (14, 1, "devolución"),
                                       (4, 2, "incidencia de montaje")]:
            events.append(self._event("call.completed", "pbx", {"phone": ids["phone"]},
                                      days_ago, channel="voice", properties={
                                          "reason": reason, "duration": 420,
                                          "outcome": "unresolved"}))
            events.append(self._event("survey.answered", "surveys", ids, days_ago - 0.05,
                                      properties={"csat": csat, "nps": csat}))
        return events

    def _vip_hanging_up(self) -> list[dict[str, Any]]:
        """S7: a VIP customer called four times this morning and hung up each time."""
        ids, profile = self._scene_customer("CRM-900007", "+34622700700",
                                            "javier.ortega@example.es", {
            "first_name": "Javier", "last_name": "Ortega Molina", "title": "Sr.",
            "tier": "vip", "city": "Madrid", "advisor": "Pedro Sanz",
            "preferred_channel": "sms"})
        # Since (UTC) midnight, which has passed in Spain too: "this morning" whatever the hour.
        midnight = self.now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        elapsed = (self.now - midnight).total_seconds() / 86400
        return [profile, *(self._event("call.abandoned", "pbx", {"phone": ids["phone"]},
                                       elapsed * (1 - share), channel="voice",
                                       properties={"wait_seconds": 60 + 30 * n})
                           for n, share in enumerate((0.2, 0.4, 0.6, 0.8)))]

    def _carrier_incident(self) -> list[list[dict[str, Any]]]:
        """S8: PaqExpress reports an incident while two customers wait for its deliveries;
        its integration also marks each shipment as delayed."""
        scenes: list[list[dict[str, Any]]] = []
        for crm, first, last, phone, channel in [
                ("CRM-900008", "Luis", "Herrero Campos", "+34633800800", "sms"),
                ("CRM-900028", "Marta", "Iglesias Peña", "+34633800801", "email")]:
            email = f"{_ascii(first)}.{_ascii(last.split()[0])}@example.es"
            _, profile = self._scene_customer(crm, phone, email, {
                "first_name": first, "last_name": last, "city": "Zaragoza",
                "preferred_channel": channel})
            order = self._id("PED")
            shipment = f"ENV-{order[4:]}"
            scenes.append([profile,
                self._event("order.placed", "shop", {"email": email}, 3, channel="web",
                            properties={"order_id": order, "amount": 649.0, "currency": "EUR",
                                        "title": "Mesa extensible roble"}),
                self._event("shipment.created", "shop", {"email": email}, 2, properties={
                    "shipment_id": shipment, "order_id": order, "carrier": "PaqExpress"}),
                self._event("shipment.delayed", "paqexpress", {"email": email}, 0.2,
                            properties={"shipment_id": shipment, "order_id": order,
                                        "carrier": "PaqExpress",
                                        "reason": "carrier_incident"})])
        incident = self._event("carrier.incident", "paqexpress", {}, 0.25, properties={
            "carrier": "PaqExpress", "region": "Aragón", "incident_id": self._id("INC"),
            "description": "Avería en el centro de distribución de Zaragoza"})
        del incident["identifiers"]  # about no one in particular
        scenes[-1].append(incident)
        return scenes

    def _small_dispute(self) -> list[dict[str, Any]]:
        """S9: a professional customer with 1,800 EUR of orders disputes a 7.50 EUR charge."""
        ids, profile = self._scene_customer("CRM-900009", "+34644900900",
                                            "sergio@dominguezreformas.example.es", {
            "first_name": "Sergio", "last_name": "Domínguez Sanz", "title": "Sr.",
            "segment": "professional", "company": "Domínguez Reformas", "city": "Sevilla"})
        events = [profile]
        for days_ago, (product, price) in [(80, PRODUCTS[4]), (45, PRODUCTS[0]),
                                           (20, PRODUCTS[5])]:
            events.append(self._event("order.placed", "shop", ids, days_ago, channel="web",
                                      properties={"order_id": self._id("PED"), "amount": price,
                                                  "currency": "EUR", "title": product}))
        events.append(self._event("dispute.opened", "billing", ids, 1, properties={
            "dispute_id": self._id("DSP"), "charge_id": self._id("CHG"), "amount": 7.5,
            "currency": "EUR", "reason": "cargo no reconocido",
            "title": "Gastos de envío cobrados dos veces"}))
        return events

    def _low_score_vip(self) -> list[dict[str, Any]]:
        """S10: a VIP customer scores their last call 1 out of 5."""
        ids, profile = self._scene_customer("CRM-900010", "+34655010010",
                                            "elena.serrano@example.es", {
            "first_name": "Elena", "last_name": "Serrano Blanco", "title": "Sra.",
            "tier": "vip", "city": "Málaga", "advisor": "Ana Ruiz"})
        return [profile,
                self._event("call.completed", "pbx", {"phone": ids["phone"]}, 2,
                            channel="voice", properties={"reason": "garantía", "duration": 610,
                                                         "outcome": "unresolved"}),
                self._event("survey.answered", "surveys", ids, 1.9,
                            properties={"csat": 1, "nps": 2})]

    def _urgent_message(self) -> list[dict[str, Any]]:
        """S16: a customer writes, for the third time, that they will leave; analysis on
        ingest reads it as urgent and the retention journey hands them to the rescue desk."""
        ids, profile = self._scene_customer("CRM-900016", "+34677160160",
                                            "nuria.campos@example.es", {
            "first_name": "Nuria", "last_name": "Campos Vega", "title": "Sra.",
            "tier": "gold", "city": "Granada", "preferred_channel": "email"})
        _, _, subject, text = UPSET["es"][1]
        return [profile,
                self._event("email.received", "mail", {"email": ids["email"]}, 6,
                            channel="email", properties={
                                "reason": "devolución", "subject": "Devolución",
                                "text": SAID["devolución"]}),
                self._event("email.received", "mail", {"email": ids["email"]}, 0.2,
                            channel="email", properties={
                                "reason": "devolución", "subject": subject, "text": text})]

    def _anniversary_gift(self) -> list[dict[str, Any]]:
        """S15: a gift for a wedding anniversary that comes back in five days."""
        ids, profile = self._scene_customer("CRM-900015", "+34666150150",
                                            "pablo.molina@example.es", {
            "first_name": "Pablo", "last_name": "Molina Ramos", "title": "Sr.",
            "city": "Bilbao", "preferred_channel": "email"}, marketing=True)
        occasion = (self.now + timedelta(days=5)).date().replace(year=2012)  # a leap year
        order = self._id("PED")
        return [profile,
                self._event("order.placed", "shop", ids, 21, channel="web", properties={
                    "order_id": order, "amount": 89.0, "currency": "EUR",
                    "title": "Juego de copas de cristal (regalo)"}),
                self._event("order.completed", "shop", ids, 20, properties={
                    "order_id": order, "gift": True, "occasion": "su aniversario de boda",
                    "occasion_date": occasion.isoformat()})]

    def _card_fraud(self) -> list[dict[str, Any]]:
        """S18: the Tarjeta Aurora is used abroad at a suspicious merchant."""
        _, profile = self._scene_customer("CRM-900018", "+34677180180",
                                            "alberto.ramirez@example.es", {
            "first_name": "Alberto", "last_name": "Ramírez Ortega", "title": "Sr.",
            "city": "Murcia", "aurora_card": True})
        cards = {"external_ids": {"crm": "CRM-900018"}}
        return [profile,
                *(self._card_use(cards, "7311", days_ago, merchant, amount, 0.05)
                  for days_ago, merchant, amount in [(9, "Mercadona", 64.2),
                                                      (4, "Aurora Hogar Castellana", 299.0)]),
                self._card_use(cards, "7311", 0.5, "ELECTRO-DEALS LTD (Lagos)", 1249.0, 0.94)]

    def _device_alert(self) -> list[dict[str, Any]]:
        """S19: a connected boiler reports a gas-pressure alert."""
        ids, profile = self._scene_customer("CRM-900019", "+34688190190",
                                            "pilar.moreno@example.es", {
            "first_name": "Pilar", "last_name": "Moreno Gil", "title": "Sra.",
            "city": "Valladolid"})
        return [profile, self._event("device.alert", "aurora-connect", ids, 0.1, properties={
            "device": DEVICES[2][0], "device_id": "AT-55019", "kind": "presión",
            "severity": "critical"})]

    def _card_use(self, ids: dict[str, Any], last4: str, days_ago: float, merchant: str,
                  amount: float, risk: float) -> dict[str, Any]:
        return self._event("card.used", "cards", ids, days_ago, properties={
            "amount": amount, "currency": "EUR", "merchant": merchant, "last4": last4,
            "risk_score": risk, "card": "Tarjeta Aurora"})

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
                  "customer_since": (self.now - timedelta(days=since_days)).date().isoformat()}
        rng.betavariate(2, 6)  # the CRM's old guess at churn_risk: Círculo computes it now
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
        if rng.random() < 0.1:  # holds the Tarjeta Aurora
            last4 = f"{rng.randint(0, 9999):04d}"
            for _ in range(rng.randint(1, 4)):
                events.append(self._card_use(ids, last4, rng.uniform(0, 30),
                                             rng.choice(MERCHANTS),
                                             round(rng.uniform(8, 400), 2),
                                             round(rng.betavariate(1, 12), 2)))
        if rng.random() < 0.06:  # a connected appliance reports
            device, kinds = rng.choice(DEVICES)
            events.append(self._event("device.alert", "aurora-connect", ids,
                                      rng.uniform(0, 30), properties={
                                          "device": device, "kind": rng.choice(kinds),
                                          "device_id": f"AC-{n:05d}",
                                          "severity": rng.choices(
                                              ["low", "medium", "high"], [6, 3, 1])[0]}))
        if rng.random() < 0.05:
            events.append(self._event("invoice.overdue", "billing", ids, rng.uniform(0, 30),
                                      properties={"invoice_id": self._id("FAC"),
                                                  "amount": round(rng.uniform(30, 900), 2),
                                                  "currency": "EUR"}))
        events.extend(self._churn_story(ids, pbx_ids, tier, since_days, reasons))
        return events

    # -- who leaves (S17) -------------------------------------------------------------------------

    def _churn_story(self, ids: dict[str, Any], pbx_ids: dict[str, Any], tier: str,
                     since_days: int, reasons: list[str]) -> list[dict[str, Any]]:
        """Some customers go through a bad spell (unresolved calls, hang-ups, low scores);
        the newer, the less valued and the unhappier leave more often, a few days after the
        spell (``account.closed`` from the CRM). Spells still going on are today's at-risk
        customers: the churn model learns from those who left and spots them."""
        rng = self.story
        logit = -3.8 + (1.3 if since_days < 180 else 0.0) + (0.5 if tier == "standard" else 0.0) \
            - (0.9 if tier == "vip" else 0.0)
        events: list[dict[str, Any]] = []
        end_ago = rng.uniform(0, min(100, since_days - 1))
        if rng.random() < 0.3:
            for _ in range(rng.choice([1, 1, 2, 2, 3, 4])):
                ago = end_ago + rng.uniform(0, 30)
                kind = rng.random()
                if kind < 0.45:
                    events.append(self._story_event("call.completed", "pbx", pbx_ids, ago,
                                                    channel="voice", properties={
                        "reason": rng.choice(reasons), "duration": rng.randint(300, 1200),
                        "outcome": "unresolved"}))
                elif kind < 0.7:
                    events.append(self._story_event("call.abandoned", "pbx", pbx_ids, ago,
                                                    channel="voice", properties={
                        "wait_seconds": rng.randint(200, 900)}))
                else:
                    csat = rng.choice([1, 1, 2])
                    events.append(self._story_event("survey.answered", "surveys", ids, ago,
                                                    properties={"csat": csat,
                                                                "nps": rng.randint(0, 4)}))
                logit += 1.3
        if rng.random() < 1 / (1 + math.exp(-logit)) and end_ago > 1:
            events.append(self._story_event(
                "account.closed", "crm", {"external_ids": ids["external_ids"]},
                max(0.5, end_ago - rng.uniform(0.5, 6)),
                properties={"reason": rng.choice(["precio", "mal servicio", "mudanza",
                                                  "competencia"])}))
        return events

    def _story_event(self, event_type: str, source: str, ids: dict[str, Any], days_ago: float,
                     *, channel: str | None = None, properties: dict[str, Any]
                     ) -> dict[str, Any]:
        self.story_seq += 1
        moment = self.now - timedelta(days=days_ago)
        event: dict[str, Any] = {"type": event_type, "id": f"CH-{self.story_seq:07d}",
                                 "source": source, "occurred_at": moment.isoformat(),
                                 "identifiers": ids, "properties": properties}
        if channel:
            event["channel"] = channel
        return event

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
                                  channel="email", properties={
                                      "reason": reason, "subject": reason.capitalize(),
                                      "text": SAID.get(reason)})]
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
    """One event of the live trickle from a known number: a call, an abandon, a card
    purchase or a survey."""
    phone = rng.choice(phones)
    kind = rng.random()
    if kind < 0.6:
        return {"type": "call.completed", "source": "pbx", "channel": "voice",
                "occurred_at": now.isoformat(), "identifiers": {"phone": phone},
                "properties": {"reason": rng.choice(REASONS_ES), "duration": rng.randint(60, 600)}}
    if kind < 0.75:
        return {"type": "call.abandoned", "source": "pbx", "channel": "voice",
                "occurred_at": now.isoformat(), "identifiers": {"phone": phone},
                "properties": {"wait_seconds": rng.randint(20, 300)}}
    if kind < 0.85:  # the Tarjeta Aurora; now and then a purchase that looks like fraud
        return {"type": "card.used", "source": "cards", "occurred_at": now.isoformat(),
                "identifiers": {"phone": phone}, "properties": {
                    "amount": round(rng.uniform(5, 900), 2), "currency": "EUR",
                    "merchant": rng.choice(MERCHANTS), "last4": "7311", "card": "Tarjeta Aurora",
                    "risk_score": round(rng.choice([0.02, 0.05, 0.1, 0.91]), 2)}}
    return {"type": "survey.answered", "source": "surveys", "occurred_at": now.isoformat(),
            "identifiers": {"phone": phone}, "properties": {"csat": rng.randint(1, 5)}}
