"""A deterministic, realistic multi-source customer data set for measuring identity resolution.

It is what the systems of a Spanish mid-size home-goods company send in a year: the CRM
(``customer.updated``), the web shop (``order.placed``), billing (``invoice.issued``), the
helpdesk (``ticket.opened``) and the PBX (``call.completed``/``call.abandoned``), each writing
names, phones and e-mails its own way. Ground truth comes with it: the person behind each event,
the source records to score pairwise, and every identifier that several people really share.

Proportions chosen (of people, as a Spanish mid-size retailer would see them):
- 75% Spanish-speaking, 25% English-speaking (of these half live in Spain with Spanish phones,
  35% have UK numbers, 15% US ones); 1.2% are Chinese or Russian residents whose name the shop or
  the helpdesk sometimes receives in their own script. Catalan, Basque and Galician given names
  and surnames are likelier in their regions. The CRM and the shop write 12% of UK and US numbers
  in national format, without the country code, as customers type them.
- 11% belong to households of 2-4 sharing a landline (Spanish two-surname rules; 15% of the
  households with two children have twins; 12% of couples share one e-mail address).
- 5% are colleagues in companies of 2-5 sharing a switchboard; 35% of those companies also share
  a generic e-mail (info@, pedidos@, ...) that colleagues use in the shop, billing or helpdesk.
- One pair of namesakes per 400 people (same given names and surnames, no identifier shared),
  besides the people who happen to share a common full name.
- The rest are ordinary: 1-4 records (30/35/23/12%) among CRM, shop, billing and helpdesk; 5% of
  CRM contacts are entered twice. 30% of CRM contacts carry a CRM id.
- 4% change e-mail and 3% change mobile during the year (a later CRM update says so).
- Per record: placeholder phone or e-mail on 2.5%, placeholder name 0.8%, empty name 0.4%,
  typos 2-6% by system, nicknames 6-22% by system, initials on 35% of helpdesk names, ALL CAPS
  and "SURNAMES, GIVEN" on 55% of billing names, an emoji or an all-caps CRM name on 1%; 2% of
  shop customers order by phone and the staff type a placeholder e-mail.
- Calls: 0-5 per person, from the mobile or (45%) the household line or (50%) the switchboard;
  2% withheld ("anonymous", still attributed to the caller in ``person_of``); 5% of calls come
  from numbers of nobody in the data set (not in ``person_of``).
Records are the first event of each contact or account a system holds (CRM contact, shop account
per e-mail, billing contract, helpdesk requester); later orders, invoices, tickets and CRM updates
are in ``person_of`` but not in ``records``. Lookups list the phones and e-mails that the events
show used by 2+ people (cases family, twins, family_email, switchboard, shared_email), written as
an agent types them; placeholders are left out (junk, not shared identifiers).
"""

from __future__ import annotations

import json
import random
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

NOW = datetime(2026, 11, 1, tzinfo=UTC)
SOURCES = ("crm", "shop", "billing", "helpdesk")
JUNK_PHONES = ("000000000", "000000000", "0")
JUNK_EMAILS = ("test@test.com", "noreply@noreply.com", "sin@email.com")
JUNK_NAMES = ("unknown", "-")
EMOJIS = ("🙂", "🌸", "⚽", "❤️", "✨", "🏠")
DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"
OFFICE_HOURS = [0] * 8 + [3, 8, 10, 10, 9, 6, 5, 8, 9, 8, 6, 3] + [0] * 4
SHOP_HOURS = [2, 1, 1, 0, 0, 0, 1, 2, 4, 5, 6, 6, 7, 6, 6, 6, 6, 7, 8, 9, 10, 10, 8, 4]
NICK_RATE = {"crm": 0.06, "shop": 0.22, "billing": 0.0, "helpdesk": 0.15}
TYPO_RATE = {"crm": 0.02, "shop": 0.06, "billing": 0.02, "helpdesk": 0.03}
DROP_SECOND_SURNAME = {"crm": 0.25, "shop": 0.55, "billing": 0.05, "helpdesk": 0.6}
ABBREVIATIONS = (("María ", "Mª "), ("Francisco ", "Fco. "), (" María", " Mª"), ("José ", "J. "),
                 ("Francisco", "Fco."))


class _Pool:
    """Names in order of frequency, drawn with Zipf-like weights."""

    def __init__(self, text: str, skew: float = 0.5) -> None:
        self.items = [word.replace("_", " ") for word in text.split()]
        self.cum: list[float] = []
        total = 0.0
        for rank in range(len(self.items)):
            total += 1 / (rank + 1) ** skew
            self.cum.append(total)

    def pick(self, rng: random.Random) -> str:
        return rng.choices(self.items, cum_weights=self.cum)[0]


ES_MALE = _Pool("""Antonio José Manuel Francisco David Juan Javier José_Antonio Daniel José_Luis
Francisco_Javier Carlos Jesús Alejandro Miguel José_Manuel Rafael Pablo Pedro Ángel Sergio
José_María Fernando Jorge Luis Alberto Juan_Carlos Juan_José Álvaro Diego Adrián Juan_Antonio Raúl
Enrique Ramón Vicente Iván Rubén Óscar Andrés Joaquín Juan_Manuel Santiago Eduardo Víctor Roberto
Jaime Francisco_José Mario Ignacio Alfonso Salvador Ricardo Marcos Emilio Julián Julio Guillermo
Gabriel Tomás Agustín Hugo Gonzalo Félix José_Ignacio Lucas Ismael Cristian Samuel Martín Nicolás
Héctor Mariano Domingo Sebastián Alfredo Felipe Rodrigo Lorenzo César Borja Mohamed Gregorio
Esteban Arturo Benito Ernesto Bruno Leo Mateo""")
ES_FEMALE = _Pool("""María_del_Carmen María Carmen Ana_María Josefa Isabel María_Pilar
María_Dolores Laura Cristina María_Teresa Ana Marta María_Ángeles Lucía Francisca María_Isabel
María_José Antonia Dolores Sara Paula Elena María_Luisa Raquel Rosa_María Pilar Concepción Manuela
Mercedes Julia Beatriz Nuria Silvia Rosario Juana Alba Irene Teresa Encarnación Patricia Andrea
Rocío Mónica Alicia Rosa María_Jesús Sonia Sandra Marina Ángela Susana Natalia Yolanda Margarita
María_Josefa Claudia Eva Inmaculada Sofía Ana_Isabel Esther Noelia Carla Verónica Ángeles Nerea
Daniela Amparo Inés Miriam Lorena Victoria Martina Gloria Consuelo Guadalupe Aurora Remedios
Milagros Emilia Lidia Celia Olga Adriana Valeria Alejandra Clara Gemma Montserrat""")
REGIONAL_GIVEN = {
    ("ca", False): _Pool("""Jordi Josep Joan Marc Pere Pau Arnau Oriol Xavier Sergi Francesc Lluís
        Gerard Pol Albert Ferran Enric Jaume Joaquim Martí Roger Biel Nil"""),
    ("ca", True): _Pool("""Montserrat Núria Anna Laia Marta Mireia Meritxell Mercè Neus Roser Gemma
        Júlia Clara Berta Aina Queralt Judit Jana Ona Carla Eulàlia"""),
    ("eu", False): _Pool("""Iñaki Aitor Mikel Jon Unai Gorka Asier Iker Ander Eneko Xabier Joseba
        Koldo Ibai Oier Julen"""),
    ("eu", True): _Pool("""Ainhoa Amaia Itziar Leire Maite Nerea Arantxa Idoia Miren Garazi Nahia
        Irati June Uxue Iratxe Nekane"""),
    ("gl", False): _Pool("Xosé Xoán Brais Antón Roi Anxo Iago Uxío Breogán Martiño Xurxo"),
    ("gl", True): _Pool("Uxía Antía Iria Sabela Xiana Noa Carme Lucía Alba Aldara Olalla Rosalía"),
}
ES_SURNAMES = _Pool("""García Rodríguez González Fernández López Martínez Sánchez Pérez Gómez Martín
Jiménez Hernández Ruiz Díaz Moreno Muñoz Álvarez Romero Gutiérrez Alonso Navarro Torres Domínguez
Ramos Vázquez Ramírez Gil Serrano Morales Molina Blanco Suárez Castro Ortega Delgado Ortiz Marín
Rubio Núñez Medina Sanz Castillo Iglesias Cortés Garrido Santos Guerrero Lozano Cano Cruz Méndez
Flores Prieto Herrera Peña León Márquez Cabrera Gallego Calvo Vidal Campos Reyes Vega Fuentes
Carrasco Díez Aguilar Caballero Nieto Santana Vargas Pascual Giménez Herrero Hidalgo Montero
Lorenzo Santiago Benítez Durán Ibáñez Arias Mora Ferrer Carmona Vicente Rojas Soto Crespo Román
Pastor Velasco Parra Sáez Moya Bravo Rivera Gallardo Soler Esteban Pardo Rivas Merino Franco
Espinosa Izquierdo Lara Montes Trujillo Mendoza""")
REGIONAL_SURNAMES = {
    "ca": _Pool("""Puig Vila Serra Ferrer Soler Font Pujol Roca Casas Vidal Sala Mas Riera Bosch
        Costa Prat Camps Martí Grau Roig Segura Coll Pons Batlle Oliver Esteve Valls Pla Rovira
        Vives Fàbregas Casals"""),
    "eu": _Pool("""Etxeberria Agirre Garmendia Goikoetxea Zubizarreta Arrieta Urrutia Elizondo
        Mendizabal Aranburu Larrañaga Uriarte Ibarra Otxoa Zabala Arana Gorostiza Olaizola Iturbe
        Azkue Echevarría Aguirre"""),
    "gl": _Pool("""Otero Rey Souto Barreiro Varela Pereira Carballo Couto Seoane Piñeiro Regueiro
        Figueroa Lamas Mosquera Bouzas Castiñeira Outeiro Vázquez Castro"""),
}
EN_MALE = _Pool("""James John Robert Michael William David Richard Joseph Thomas Charles
Christopher Daniel Matthew Anthony Mark Steven Paul Andrew Joshua Kevin Brian George Timothy Edward
Jason Ryan Jacob Gary Nicholas Eric Jonathan Stephen Justin Scott Brandon Benjamin Samuel Gregory
Alexander Patrick Frank Raymond Jack Dennis Tyler Aaron Adam Nathan Henry Peter Douglas Harold
Oliver Harry Alfie Charlie Oscar Leo Archie Noah Theo Freddie Arthur Liam Ian Neil Graham Stuart
Colin Keith Alan Simon Martin Gavin Craig Lee Dean Kenneth Donald Ronald Philip Luke Callum
Jamie""")
EN_FEMALE = _Pool("""Mary Patricia Jennifer Linda Elizabeth Barbara Susan Jessica Sarah Karen Lisa
Nancy Margaret Sandra Ashley Kimberly Emily Donna Michelle Carol Amanda Melissa Deborah Stephanie
Rebecca Sharon Laura Cynthia Kathleen Amy Angela Anna Brenda Pamela Emma Nicole Helen Samantha
Katherine Christine Rachel Janet Catherine Olivia Amelia Isla Ava Mia Grace Sophie Chloe Lucy
Charlotte Hannah Ellie Lauren Gemma Claire Joanne Julie Louise Victoria Alison Fiona Gillian
Tracey Wendy Jane Kate Abigail Megan Holly Zoe Natalie Heather Ruth Sally""")
EN_SURNAMES = _Pool("""Smith Jones Williams Taylor Brown Davies Evans Wilson Thomas Johnson Roberts
Robinson Thompson Wright Walker White Edwards Hughes Green Hall Lewis Harris Clarke Patel Jackson
Wood Turner Martin Cooper Hill Ward Morris Moore Clark Lee King Baker Harrison Morgan Allen James
Scott Phillips Watson Davis Parker Price Bennett Young Griffiths Mitchell Kelly Cook Carter
Richardson Bailey Collins Bell Shaw Murphy Miller Cox Richards Khan Marshall Anderson Simpson Ellis
Adams Singh Wilkinson Foster Chapman Powell Webb Rogers Gray Mason Ali Hunt Hussain Campbell
Matthews Owen Palmer Holmes Mills Barnes Knight Lloyd Butler Russell Barker Fisher Stevens Jenkins
Murray Dixon Harvey Graham Pearson Ahmed Fletcher Walsh Gibson Howard Andrews Stewart Elliott
Reynolds Saunders Payne Fox Ford Pearce Day Brooks West Lawrence Cole Atkinson Bradley Spencer Gill
Dawson Ball Burton O'Brien Watts Rose Booth Perry Ryan Grant Wells Armstrong Francis Rees Hayes
Hart Hudson Newman Barrett Kennedy Robertson Johnston McDonald O'Connor MacLeod""")


def _pairs(text: str) -> list[tuple[str, str]]:
    return [(a, b) for a, b in (item.split(":") for item in text.split())]


CN_SURNAMES = _pairs("王:Wang 李:Li 张:Zhang 刘:Liu 陈:Chen 杨:Yang 黄:Huang 赵:Zhao 吴:Wu 周:Zhou "
                     "徐:Xu 孙:Sun 胡:Hu 朱:Zhu 林:Lin")
CN_GIVEN = _pairs("伟:Wei 芳:Fang 娜:Na 敏:Min 静:Jing 丽:Li 强:Qiang 磊:Lei 军:Jun 洋:Yang "
                  "勇:Yong 艳:Yan 杰:Jie 涛:Tao 明:Ming 超:Chao 秀英:Xiuying 霞:Xia 平:Ping")
RU_GIVEN = {False: _pairs("Сергей:Sergei Дмитрий:Dmitri Алексей:Alexei Андрей:Andrei Иван:Ivan "
                          "Михаил:Mikhail Николай:Nikolai Владимир:Vladimir"),
            True: _pairs("Ольга:Olga Елена:Elena Наталья:Natalia Анна:Anna Ирина:Irina "
                         "Светлана:Svetlana Татьяна:Tatiana Екатерина:Ekaterina")}
RU_SURNAMES = _pairs("Иванов:Ivanov Смирнов:Smirnov Кузнецов:Kuznetsov Попов:Popov Соколов:Sokolov "
                     "Лебедев:Lebedev Козлов:Kozlov Новиков:Novikov Морозов:Morozov Петров:Petrov "
                     "Волков:Volkov")
NICKS = {name.replace("_", " "): [n.replace("_", " ") for n in nicks.split(",")]
         for name, nicks in (item.split("=") for item in """José=Pepe Francisco=Paco,Curro,Fran
Dolores=Lola,Loli María_Dolores=Lola,Loli Montserrat=Montse José_María=Chema,Josema Jorge=Jordi
Jordi=Jorge Josep=Pep,José Ignacio=Nacho,Iñaki Iñaki=Ignacio Manuel=Manolo,Manu Antonio=Toni
Concepción=Concha,Conchi Rosario=Charo Consuelo=Chelo Enrique=Quique Alejandro=Álex Jesús=Chus
Mercedes=Merche Pilar=Pili María_Pilar=Pili,Pilar Isabel=Isa María_Isabel=Maribel Cristina=Cris
María_del_Carmen=Maricarmen,Mari_Carmen,Carmen Francisco_Javier=Javi,Javier Juan_José=Juanjo
Guadalupe=Lupe Encarnación=Encarna Inmaculada=Inma Remedios=Reme Xosé=José Xoán=Juan Joan=Juan
Francesc=Cesc,Francisco Josefa=Pepa Ana_Isabel=Anabel María_José=Marijose Robert=Bob,Rob,Bobby
William=Bill,Will,Liam Elizabeth=Liz,Beth,Lizzie James=Jim,Jamie Michael=Mike Richard=Rich,Rick
Thomas=Tom Christopher=Chris Daniel=Dan,Danny Matthew=Matt Anthony=Tony Andrew=Andy Joseph=Joe
Jonathan=Jon Stephen=Steve Steven=Steve Katherine=Kate,Katie Catherine=Cathy,Kate
Margaret=Maggie,Meg Jennifer=Jen,Jenny Patricia=Pat,Trish Samantha=Sam Alexander=Alex
Nicholas=Nick Edward=Ed,Eddie
Benjamin=Ben Samuel=Sam Rebecca=Becky Deborah=Debbie Susan=Sue Victoria=Vicky Abigail=Abby
Charles=Charlie Timothy=Tim Gregory=Greg Kimberly=Kim Jessica=Jess Kenneth=Ken
Donald=Don""".split())}
ES_CITIES = [(c.replace("_", " "), postal, area, int(weight), region) for c, postal, area, weight,
             region in (item.split(":") for item in """Madrid:28:91:30: Barcelona:08:93:14:ca
Valencia:46:96:8: Sevilla:41:954:7: Zaragoza:50:976:4: Málaga:29:952:5: Murcia:30:968:4:
Palma:07:971:3:ca Las_Palmas_de_Gran_Canaria:35:928:3: Bilbao:48:94:4:eu Alicante:03:965:4:
Córdoba:14:957:3: Valladolid:47:983:3: Vigo:36:986:3:gl Gijón:33:985:2: A_Coruña:15:981:3:gl
Granada:18:958:3: Vitoria-Gasteiz:01:945:2:eu Donostia-San_Sebastián:20:943:2:eu Girona:17:972:2:ca
Santander:39:942:2: Pamplona:31:948:2: Tarragona:43:977:2:ca Salamanca:37:923:2: Oviedo:33:985:2:
Almería:04:950:2: Santiago_de_Compostela:15:981:1:gl Cádiz:11:956:2: Marbella:29:952:1:
Benidorm:03:966:1:""".split())]  # city, postal prefix, landline prefix, weight, language region
EXPAT_CITIES = [c for c in ES_CITIES if c[0] in ("Málaga", "Marbella", "Alicante", "Benidorm",
                                                 "Palma", "Valencia", "Barcelona", "Madrid")]
GB_CITIES = [("London", "20", "SW N E SE NW W"), ("Manchester", "161", "M"),
             ("Birmingham", "121", "B"), ("Bristol", "117", "BS"), ("Leeds", "113", "LS"),
             ("Edinburgh", "131", "EH"), ("Glasgow", "141", "G"), ("Liverpool", "151", "L")]
US_CITIES = [("San Francisco", "415", "941"), ("New York", "212", "100"), ("Chicago", "312", "606"),
             ("Boston", "617", "021"), ("Miami", "305", "331"), ("Austin", "512", "787"),
             ("Seattle", "206", "981")]
DOMAINS = {
    "ES": ("gmail.com:40 hotmail.com:18 hotmail.es:8 yahoo.es:5 outlook.es:6 outlook.com:4 "
           "icloud.com:5 telefonica.net:3 movistar.es:1 yahoo.com:2 live.com:2 gmx.es:1"),
    "GB": ("gmail.com:35 hotmail.co.uk:12 yahoo.co.uk:10 outlook.com:10 btinternet.com:6 "
           "icloud.com:8 sky.com:4 live.co.uk:4 aol.com:2"),
    "US": "gmail.com:45 yahoo.com:15 outlook.com:10 icloud.com:12 aol.com:5 hotmail.com:8",
}
DOMAIN_TYPOS = {"gmail.com": "gmial.com", "hotmail.com": "hotmial.com", "hotmail.es": "hotmal.es",
                "yahoo.es": "yaho.es", "outlook.es": "outlok.es", "icloud.com": "iclod.com"}
COMPANY_KINDS = {"es": "Reformas Gestoría Talleres Inmobiliaria Asesoría Clínica Ferretería "
                       "Construcciones Distribuciones Hostal Academia Limpiezas",
                 "en": "Lettings Builders Consulting Dental Property Cleaning Interiors"}
GENERIC_LOCALS = ("info", "admin", "administracion", "pedidos", "oficina", "facturacion")
CALL_REASONS = ("delivery", "billing", "return", "warranty", "product_info", "order_change",
                "complaint", "technical")
SUBJECTS = {"es": ("Pedido no recibido", "Factura duplicada", "Devolución", "Producto defectuoso",
                   "Cambio de dirección"),
            "en": ("Order not received", "Wrong invoice", "Return request", "Damaged item",
                   "Change of address")}

Phone = tuple[str, str]  # (country calling code, national number)


@dataclass(frozen=True)
class Lookup:
    kind: str
    value: str
    people: frozenset[str]
    case: str


@dataclass
class Dataset:
    events: list[dict[str, Any]]
    person_of: dict[str, str]
    records: list[str]
    lookups: list[Lookup]
    counts: dict[str, int]


@dataclass(frozen=True)
class _Home:
    country: str  # where the phones are: ES, GB, US
    city: str
    postal: str
    area: str  # landline prefix
    region: str = ""


@dataclass
class _Person:
    pid: str
    lang: str
    female: bool
    given: str
    surnames: list[str]
    birthday: date
    home: _Home
    middle: str = ""
    script: str | None = None  # the name in its own script
    national_id: str | None = None
    mobiles: list[Phone] = field(default_factory=list)  # [current] or [old, new]
    emails: list[str] = field(default_factory=list)  # [current] or [old, new]
    landline: Phone | None = None
    work_phone: Phone | None = None
    shared_email: str | None = None
    change_day: int = 0  # days before now of the e-mail or mobile change; 0: none
    start: int = 365  # days before now of the first record
    sources: list[str] = field(default_factory=list)

    def email_at(self, day: int) -> str:
        return self.emails[-1] if day <= self.change_day else self.emails[0]

    def mobile_at(self, day: int) -> Phone | None:
        if not self.mobiles:
            return None
        return self.mobiles[-1] if day <= self.change_day else self.mobiles[0]


def _madrid_offset(t: datetime) -> int:
    """Hours Madrid is ahead of UTC at the instant t (EU summer time rule)."""
    def last_sunday(month: int) -> datetime:
        end = datetime(t.year, month, 31, 1, tzinfo=UTC)
        return end - timedelta(days=(end.weekday() + 1) % 7)
    return 2 if last_sunday(3) <= t < last_sunday(10) else 1


def _plain(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _slug(text: str) -> str:
    return "".join(c for c in _plain(text).lower() if c.isascii() and c.isalnum())


def _spaced(digits: str, sizes: tuple[int, ...]) -> str:
    parts, i = [], 0
    for size in sizes:
        parts.append(digits[i:i + size])
        i += size
    return " ".join(parts)


def _phone_forms(phone: Phone) -> tuple[list[str], str]:
    """International-safe forms of a number, and its national form (ambiguous abroad)."""
    cc, n = phone
    if cc == "34":
        grouped = _spaced(n, (3, 3, 3) if n[0] in "67" else (2, 3, 2, 2) if n[:2] in ("91", "93")
                          else (3, 2, 2, 2))
        alt = _spaced(n, (3, 2, 2, 2))
        forms = [grouped, grouped, alt, n, f"+34 {grouped}", f"+34{n}", f"0034 {alt}", f"(+34) {n}"]
        return forms, grouped
    if cc == "44":
        grouped = _spaced(n, (4, 6) if n[0] == "7" else (2, 4, 4) if n[:2] == "20" else (3, 3, 4))
        national = f"0{grouped}" if n[0] == "7" else f"(0{grouped.split()[0]}) " + " ".join(
            grouped.split()[1:])
        return [f"+44 {grouped}", f"+44{n}", f"+44 (0){grouped}", f"0044 {grouped}"], national
    a, b, c = n[:3], n[3:6], n[6:]
    return [f"+1 {a}-{b}-{c}", f"+1{n}", f"+1 ({a}) {b}-{c}", f"001 {a} {b} {c}"], f"({a}) {b}-{c}"


def _typed(phone: Phone) -> str:
    """How an agent types the number into the search box."""
    forms, national = _phone_forms(phone)
    return national if phone[0] == "34" else forms[0]


def _typo(rng: random.Random, word: str) -> str:
    if len(word) < 4:
        return word + word[-1]
    i = rng.randint(1, len(word) - 2)
    kind = rng.randrange(3)
    if kind == 0:
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    return word[:i] + word[i + 1:] if kind == 1 else word[:i] + word[i] + word[i:]


def _initials(given: str) -> str:
    return " ".join(f"{w[0]}." for w in given.split() if w not in ("de", "del", "la"))


class _Gen:
    def __init__(self, seed: int, now: datetime) -> None:
        self.rng = random.Random(seed)
        self.now = now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)
        self.today = (self.now + timedelta(hours=_madrid_offset(self.now))).date()
        self.counts: Counter[str] = Counter()
        self.rows: list[tuple[datetime, int, dict[str, Any], tuple[Any, ...] | None]] = []
        self.person_of: dict[str, str] = {}
        self.people: list[_Person] = []
        self.usage: dict[tuple[str, str], set[str]] = {}
        self.display: dict[tuple[str, str], str] = {}
        self.case_of: dict[tuple[str, str], str] = {}
        self.taken_phones: set[Phone] = set()
        self.taken_emails: set[str] = set()
        self.domains = {k: _pairs(v) for k, v in DOMAINS.items()}
        self.pending: dict[str, tuple[str, str]] = {}  # rendered identifier -> its key
        self.seq = 0

    # -- people -------------------------------------------------------------------------
    def _home(self, lang: str) -> _Home:
        rng = self.rng
        where = "ES" if lang == "es" else rng.choices(["ES", "GB", "US"], [50, 35, 15])[0]
        if where == "GB":
            city, area, letters = rng.choice(GB_CITIES)
            postal = (f"{rng.choice(letters.split())}{rng.randint(1, 20)} {rng.randint(1, 9)}"
                      f"{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}")
            return _Home("GB", city, postal, area)
        if where == "US":
            city, area, zip3 = rng.choice(US_CITIES)
            return _Home("US", city, f"{zip3}{rng.randint(1, 99):02d}", area)
        cities = ES_CITIES if lang == "es" else EXPAT_CITIES
        city, prefix, area, _, region = rng.choices(cities, [c[3] for c in cities])[0]
        return _Home("ES", city, f"{prefix}0{rng.randint(1, 50):02d}", area, region)

    def _number(self, home: _Home, mobile: bool) -> Phone:
        rng = self.rng
        while True:
            if home.country == "ES":
                cc = "34"
                head = ("6" if rng.random() < 0.9 else f"7{rng.randint(1, 4)}") if mobile else \
                    home.area + str(rng.randint(2, 8))
            elif home.country == "GB":
                cc, head = "44", (f"7{rng.choice('4579')}" if mobile else home.area + "3")
            else:
                cc, head = "1", home.area + str(rng.randint(2, 9))
            size = 9 if cc == "34" else 10
            n = head + "".join(str(rng.randrange(10)) for _ in range(size - len(head)))
            if (cc, n) not in self.taken_phones and len(set(n[1:])) > 2:
                self.taken_phones.add((cc, n))
                return (cc, n)

    def _email(self, p: _Person, domain: str | None = None, local: str | None = None) -> str:
        rng = self.rng
        first = _slug(p.given.split()[0])
        if " " in p.given and rng.random() < 0.3:
            first = _slug(p.given)
        elif p.given in NICKS and rng.random() < 0.15:
            first = _slug(NICKS[p.given][0])
        last = _slug(p.surnames[0])
        last2 = _slug(p.surnames[1]) if len(p.surnames) > 1 else ""
        yy = f"{p.birthday.year % 100:02d}"
        if local is None:
            local = rng.choice([f"{first}.{last}", f"{first}{last}", f"{first[0]}{last}",
                                f"{first}.{last}{yy}", f"{first}{last}{last2[:1]}",
                                f"{first}_{last}", f"{last}.{first}", f"{first}{yy}"])
        if domain is None:
            names, weights = zip(*self.domains[p.home.country], strict=True)
            domain = rng.choices(names, [int(w) for w in weights])[0]
        address = f"{local}@{domain}"
        while address in self.taken_emails:
            address = f"{local}{rng.randint(1, 999)}@{domain}"
        self.taken_emails.add(address)
        return address

    def _person(self, lang: str, home: _Home, *, female: bool | None = None,
                given: str | None = None, surnames: list[str] | None = None,
                born: date | None = None, mobile: bool = True) -> _Person:
        rng = self.rng
        female = rng.random() < 0.52 if female is None else female
        if given is None:
            pool = (ES_FEMALE if female else ES_MALE) if lang == "es" else \
                (EN_FEMALE if female else EN_MALE)
            if home.region and lang == "es" and rng.random() < 0.45:
                pool = REGIONAL_GIVEN[(home.region, female)]
            given = pool.pick(rng)
        if surnames is None:
            surnames = [self._surname(lang, home) for _ in range(2 if lang == "es" else 1)]
        if born is None:
            year = int(rng.triangular(1940, 2006, 1978))
            born = date(year, rng.randint(1, 12), rng.randint(1, 28))
        p = _Person(f"P{len(self.people) + 1:05d}", lang, female, given, surnames, born, home)
        if lang == "en" and rng.random() < 0.3:
            p.middle = (EN_FEMALE if female else EN_MALE).pick(rng)
        if home.country == "ES":
            if lang == "es":
                num = rng.randint(10_000_000, 79_999_999)
                p.national_id = f"{num:08d}{DNI_LETTERS[num % 23]}"
            else:  # NIE of a foreign resident
                prefix, num = rng.randrange(2), rng.randint(0, 9_999_999)
                letter = DNI_LETTERS[int(f"{prefix}{num:07d}") % 23]
                p.national_id = f"{'XY'[prefix]}{num:07d}{letter}"
        if mobile:
            p.mobiles.append(self._number(home, mobile=True))
        p.start = rng.randint(30, 365)
        self.people.append(p)
        return p

    def _surname(self, lang: str, home: _Home) -> str:
        if lang == "en":
            return EN_SURNAMES.pick(self.rng)
        if home.region and self.rng.random() < 0.4:
            return REGIONAL_SURNAMES[home.region].pick(self.rng)
        return ES_SURNAMES.pick(self.rng)

    def _sources(self, k: int, must: tuple[str, ...] = ()) -> list[str]:
        chosen, weights = list(must), {"crm": 5.0, "shop": 4.0, "billing": 2.5, "helpdesk": 2.0}
        while len(chosen) < k:
            left = [s for s in SOURCES if s not in chosen]
            chosen.append(self.rng.choices(left, [weights[s] for s in left])[0])
        if "crm" in chosen and self.rng.random() < 0.05:
            chosen.append("crm_duplicate")
        return chosen

    def _share(self, kind: str, key: str, value: str, case: str) -> None:
        self.case_of[(kind, key)] = case
        self.display[(kind, key)] = value

    def _family(self, room: int) -> list[_Person]:
        rng = self.rng
        lang = "en" if rng.random() < 0.2 else "es"
        home = self._home(lang)
        size = min(room, rng.choices([2, 3, 4], [45, 32, 23])[0])
        shape = {2: rng.choice(["couple", "couple", "parent", "siblings"]),
                 3: rng.choice(["couple", "couple", "parent"]), 4: "couple"}[size]
        father = [self._surname(lang, home) for _ in range(2 if lang == "es" else 1)]
        mother = [self._surname(lang, home) for _ in range(2)] if lang == "es" else \
            (father if rng.random() < 0.8 else [self._surname(lang, home)])
        kids_surnames = [father[0], mother[0]] if lang == "es" else father[:1]
        top = int(rng.triangular(1942, 1980 if shape != "siblings" else 1995, 1962))
        members: list[_Person] = []
        n_parents = 2 if shape == "couple" else 1 if shape == "parent" else 0
        for i in range(n_parents):
            female = i == 1 or (n_parents == 1 and rng.random() < 0.6)
            born = date(top + (rng.randint(-4, 2) if female else 0), rng.randint(1, 12),
                        rng.randint(1, 28))
            members.append(self._person(lang, home, female=female, born=born,
                                        surnames=mother if female else father,
                                        mobile=born.year >= 1955 or rng.random() < 0.55))
        kids = size - n_parents
        twins = kids == 2 and rng.random() < 0.15
        first_kid = min(2006, top + rng.randint(24, 34)) if n_parents else top
        for i in range(kids):
            born = date(min(2007, first_kid + (0 if twins else i * rng.randint(1, 4))),
                        rng.randint(1, 12), rng.randint(1, 28))
            if twins and i == 1:
                born = members[-1].birthday
            kid = self._person(lang, home, born=born, surnames=list(kids_surnames))
            while any(m.given == kid.given for m in members):
                kid.given = (ES_FEMALE if kid.female else ES_MALE).pick(rng) if lang == "es" \
                    else (EN_FEMALE if kid.female else EN_MALE).pick(rng)
            members.append(kid)
        landline = self._number(home, mobile=False)
        self._share("phone", f"+{landline[0]}{landline[1]}", _typed(landline),
                    "twins" if twins else "family")
        self.counts["families"] += 1
        self.counts["family_members"] += size
        self.counts["twin_pairs"] += twins
        shared = None
        if shape == "couple" and rng.random() < 0.12:
            a, b = members[0], members[1]
            join = "y" if lang == "es" else "and"
            shared = self._email(a, local=f"{_slug(a.given.split()[0])}{join}"
                                 f"{_slug(b.given.split()[0])}")
            self._share("email", shared, shared, "family_email")
            self.counts["family_emails"] += 1
        for i, m in enumerate(members):
            m.landline = landline
            m.emails.append(shared if shared and i < 2 else self._email(m))
            m.sources = self._sources(rng.choices([1, 2, 3], [40, 40, 20])[0], must=("crm",))
        return members

    def _company(self, room: int) -> list[_Person]:
        rng = self.rng
        lang = "en" if rng.random() < 0.2 else "es"
        home = self._home(lang)
        kind = rng.choice(COMPANY_KINDS[lang].split())
        owner = self._surname(lang, home)
        tld = {"ES": ".es", "GB": ".co.uk", "US": ".com"}[home.country]
        domain = f"{_slug(kind)}{_slug(owner)}{tld}" if lang == "es" else \
            f"{_slug(owner)}{_slug(kind)}{tld}"
        switchboard = self._number(home, mobile=False)
        if home.country == "ES":  # a round number, as switchboards have
            switchboard = (switchboard[0], switchboard[1][:-2] + "00")
            self.taken_phones.add(switchboard)
        self._share("phone", f"+{switchboard[0]}{switchboard[1]}", _typed(switchboard),
                    "switchboard")
        generic = None
        if rng.random() < 0.35:
            generic = f"{rng.choice(GENERIC_LOCALS[:2 if lang == 'en' else None])}@{domain}"
            self._share("email", generic, generic, "shared_email")
            self.counts["shared_company_emails"] += 1
        size = min(room, rng.choices([2, 3, 4, 5], [40, 30, 20, 10])[0])
        members = []
        for _ in range(size):
            postal = f"{home.postal[:2]}0{rng.randint(1, 50):02d}"  # lives in the same town
            own = home if home.country != "ES" else \
                _Home("ES", home.city, postal, home.area, home.region)
            m = self._person(lang, own, mobile=rng.random() < 0.7)
            m.work_phone, m.shared_email = switchboard, generic
            m.emails.append(self._email(m, domain=domain, local=rng.choice(
                [f"{_slug(m.given.split()[0])[0]}{_slug(m.surnames[0])}",
                 f"{_slug(m.given.split()[0])}.{_slug(m.surnames[0])}"])))
            m.sources = self._sources(rng.choices([1, 2, 3], [30, 45, 25])[0], must=("crm",))
            members.append(m)
        self.counts["colleague_groups"] += 1
        self.counts["colleagues"] += size
        return members

    def _foreigner(self) -> _Person:
        rng = self.rng
        home = self._home("es")
        if rng.random() < 0.5:
            (s_script, s_latin), (g_script, g_latin) = rng.choice(CN_SURNAMES), rng.choice(CN_GIVEN)
            p = self._person("es", home, given=g_latin, surnames=[s_latin])
            p.script = s_script + g_script
        else:
            female = rng.random() < 0.6
            (g_script, g_latin), (s_script, s_latin) = rng.choice(RU_GIVEN[female]), rng.choice(
                RU_SURNAMES)
            if female:
                s_script, s_latin = s_script + "а", s_latin + "a"
            p = self._person("es", home, female=female, given=g_latin, surnames=[s_latin])
            p.script = f"{g_script} {s_script}"
        prefix, num = rng.randrange(2), rng.randint(0, 9_999_999)
        p.national_id = f"{'XY'[prefix]}{num:07d}{DNI_LETTERS[int(f'{prefix}{num:07d}') % 23]}"
        p.emails.append(self._email(p))
        p.sources = self._sources(rng.choices([1, 2, 3], [30, 45, 25])[0], must=("shop",))
        self.counts["people_with_name_in_other_script"] += 1
        return p

    def _ordinary(self, like: _Person | None = None) -> _Person:
        rng = self.rng
        if like is not None:  # a namesake: same name, nothing else in common
            home = self._home(like.lang)
            while home.city == like.home.city and home.country == like.home.country:
                home = self._home(like.lang)
            p = self._person(like.lang, home, female=like.female, given=like.given,
                             surnames=list(like.surnames))
        else:
            lang = "en" if rng.random() < 0.26 else "es"
            p = self._person(lang, self._home(lang))
        p.emails.append(self._email(p))
        k = 2 if like is not None else rng.choices([1, 2, 3, 4], [30, 35, 23, 12])[0]
        p.sources = self._sources(k, must=("crm",) if like is not None else ())
        return p

    def build(self, n: int) -> None:
        rng = self.rng
        plan = [("family", int(n * 0.11)), ("company", int(n * 0.05)),
                ("foreign", round(n * 0.012)), ("namesakes", 2 * (n // 400))]
        for what, target in plan:
            start = len(self.people)
            while len(self.people) - start < target and len(self.people) < n:
                room = min(target - (len(self.people) - start), n - len(self.people))
                if what == "family" and room >= 2:
                    self._family(room)
                elif what == "company" and room >= 2:
                    self._company(room)
                elif what == "foreign":
                    self._foreigner()
                elif what == "namesakes" and room >= 2:
                    self._ordinary(like=self._ordinary())
                    self.counts["namesake_pairs"] += 1
                else:
                    break
        while len(self.people) < n:
            self._ordinary()
        for p in self.people:  # changes of e-mail or mobile during the year
            r = rng.random()
            if r < 0.07:
                p.start = max(p.start, rng.randint(61, 365))
                p.change_day = rng.randint(5, p.start - 40)
                if r < 0.04 and p.emails[0] != p.shared_email and len(p.emails) == 1 and \
                        self.case_of.get(("email", p.emails[0])) is None:
                    p.emails.append(self._email(p))
                    self.counts["email_changes"] += 1
                elif r >= 0.04 and p.mobiles:
                    p.mobiles.append(self._number(p.home, mobile=True))
                    self.counts["mobile_changes"] += 1
                else:
                    p.change_day = 0
                if p.change_day and "crm" not in p.sources:
                    p.sources.insert(0, "crm")
        self.counts["people"] = len(self.people)
        self.counts["people_es"] = sum(p.lang == "es" for p in self.people)
        self.counts["people_en"] = sum(p.lang == "en" for p in self.people)
        same = Counter((p.given, *p.surnames) for p in self.people)
        self.counts["people_sharing_full_name"] = sum(c for c in same.values() if c > 1)

    # -- rendering ----------------------------------------------------------------------
    def _when(self, lo: int, hi: int, hours: list[int]) -> datetime:
        rng = self.rng
        day = self.today - timedelta(days=rng.randint(max(1, lo), max(1, lo, hi)))
        hour = rng.choices(range(24), hours)[0]
        local = datetime(day.year, day.month, day.day, hour, rng.randrange(60), rng.randrange(60),
                         tzinfo=UTC)
        return local - timedelta(hours=_madrid_offset(local))

    def _phone(self, phone: Phone, source: str, pid: str | None) -> str:
        forms, national = _phone_forms(phone)
        if source == "pbx":
            shown = f"+{phone[0]}{phone[1]}" if self.rng.random() < 0.8 else forms[3]
        elif phone[0] != "34" and source in ("crm", "shop") and self.rng.random() < 0.12:
            self.counts["foreign_numbers_without_country_code"] += 1
            shown = national
        else:
            shown = self.rng.choice(forms)
        key = ("phone", f"+{phone[0]}{phone[1]}")
        self.display.setdefault(key, _typed(phone))
        if pid is not None:
            self.pending[shown] = key
        return shown

    def _mail(self, address: str, source: str, pid: str) -> str:
        self.display.setdefault(("email", address), address)
        local, domain = address.split("@")
        r, shown = self.rng.random(), address
        if source == "crm" and r < 0.08:
            shown = ".".join(w.capitalize() for w in local.split(".")) + "@" + domain
        elif source == "shop" and r < 0.03:
            shown = address.capitalize()
        self.pending[shown] = ("email", address)
        return shown

    def _junk(self, ident: dict[str, Any]) -> None:
        if self.rng.random() >= 0.025:
            return
        kind = self.rng.choice(["phone", "email"])
        value = self.rng.choice(JUNK_PHONES if kind == "phone" else JUNK_EMAILS)
        self.counts[f"placeholder_{kind}s"] += 1
        current = ident.get(kind)
        if isinstance(current, list):  # a second field of the contact holds the placeholder
            ident[kind] = [*current[:-1], value]
        elif current is not None and len(ident) == 1:
            ident[kind] = [current, value]
        else:
            ident[kind] = value

    def _given(self, p: _Person, source: str) -> str:
        rng, given = self.rng, p.given
        if given in NICKS and rng.random() < NICK_RATE[source]:
            self.counts["nicknames"] += 1
            return rng.choice(NICKS[given])
        if source != "billing" and rng.random() < 0.3:
            for old, new in ABBREVIATIONS:
                if old in given:
                    self.counts["abbreviated_given_names"] += 1
                    return given.replace(old, new, 1)
        if " " in given and source in ("shop", "helpdesk") and rng.random() < 0.2:
            return given.split()[-1] if given.startswith("María") else given.split()[0]
        if p.middle and source in ("crm", "billing") and rng.random() < 0.4:
            return f"{given} {p.middle}" if rng.random() < 0.5 else f"{given} {p.middle[0]}."
        return given

    def _name(self, p: _Person, source: str) -> dict[str, str]:
        rng, counts = self.rng, self.counts
        if p.script and source in ("shop", "helpdesk") and rng.random() < 0.5:
            counts["names_in_other_script"] += 1
            return {"name": p.script}
        r = rng.random()
        if r < 0.004:
            counts["names_empty"] += 1
            return {"name": ""}
        if r < 0.012:
            counts["placeholder_names"] += 1
            return {"name": rng.choice(JUNK_NAMES)}
        given, surnames = self._given(p, source), list(p.surnames)
        if len(surnames) > 1 and rng.random() < DROP_SECOND_SURNAME[source]:
            surnames = surnames[:1]
        if rng.random() < TYPO_RATE[source]:
            counts["typos"] += 1
            if rng.random() < 0.5:
                given = _typo(rng, given)
            else:
                surnames[0] = _typo(rng, surnames[0])
        last = " ".join(surnames)
        if source == "billing":
            if rng.random() < 0.55:
                counts["billing_surnames_first"] += 1
                return {"name": _plain(f"{last}, {given}").upper()}
            return {"name": f"{given} {last}"}
        if source == "helpdesk" and rng.random() < 0.35:
            counts["initials"] += 1
            return {"name": f"{_initials(p.given)} {surnames[0]}"}
        if source == "crm":
            if rng.random() < 0.01:
                counts["names_all_caps"] += 1
                given, last = given.upper(), last.upper()
            return {"first_name": given, "last_name": last} if rng.random() < 0.65 else \
                {"name": f"{given} {last}"}
        name = f"{given} {last}"
        if source == "shop" and rng.random() < 0.45 and _plain(name) != name:
            counts["accents_dropped"] += 1
            name = _plain(name)
        if source == "shop" and rng.random() < 0.25:
            name = name.lower()
        if rng.random() < 0.01:
            counts["names_with_emoji"] += 1
            name = f"{name} {rng.choice(EMOJIS)}"
        return {"name": name}

    def _emit(self, source: str, etype: str, when: datetime, ident: dict[str, Any],
              pid: str | None, *, traits: dict[str, Any] | None = None,
              props: dict[str, Any] | None = None, channel: str | None = None,
              key: tuple[Any, ...] | None = None, eid: str | None = None) -> None:
        self.seq += 1
        eid = eid or f"{source}-{self.seq:06d}"
        hours = _madrid_offset(when) if source in ("crm", "billing", "pbx") else 0
        stamp = when.astimezone(timezone(timedelta(hours=hours))).isoformat()
        event: dict[str, Any] = {"type": etype, "id": eid, "source": source,
                                 "occurred_at": stamp, "identifiers": ident}
        if channel:
            event["channel"] = channel
        if traits:
            event["traits"] = traits
        if props:
            event["properties"] = props
        self.rows.append((when, self.seq, event, key))
        if pid is not None:
            self.person_of[eid] = pid
            for kind in ("phone", "email"):  # the identifiers this event really carries
                values = ident.get(kind, [])
                for value in [values] if isinstance(values, str) else values:
                    if value in self.pending:
                        self.usage.setdefault(self.pending[value], set()).add(pid)
        self.pending.clear()

    def _dni(self, p: _Person, source: str) -> str:
        nid = p.national_id or ""
        r = self.rng.random()
        if source == "billing" and r < 0.2:
            return f"{nid[:-1]}-{nid[-1]}"
        if source == "billing" and r < 0.3:
            return f"{nid[0]}-{nid[1:-1]}-{nid[-1]}" if nid[0] in "XY" else \
                f"{nid[:2]}.{nid[2:5]}.{nid[5:8]}-{nid[-1]}"
        return nid.lower() if r < 0.1 else nid

    # -- one person's records -----------------------------------------------------------
    def _crm(self, p: _Person, duplicate: bool = False) -> None:
        rng = self.rng
        day = rng.randint(p.change_day + 10, p.start) if p.change_day else rng.randint(1, p.start)
        contact = f"C-{10_000 + self.seq}"
        external = {"crm": contact} if not duplicate and rng.random() < 0.3 else None
        self.counts["crm_contacts_with_id"] += external is not None
        self.counts["crm_duplicate_contacts"] += duplicate

        def identifiers(at: int) -> dict[str, Any]:
            phones = [ph for ph in (p.mobile_at(at), p.landline, p.work_phone) if ph]
            emails = [p.email_at(at)]
            if p.shared_email and rng.random() < 0.3:
                emails.append(p.shared_email)
            if duplicate:  # re-entered by another agent with what the customer said then
                phones, emails = (phones[:1], []) if phones and rng.random() < 0.5 else ([],
                                                                                        emails[:1])
            ident: dict[str, Any] = {}
            shown = [self._phone(ph, "crm", p.pid) for ph in phones]
            mails = [self._mail(e, "crm", p.pid) for e in emails]
            if shown:
                ident["phone"] = shown[0] if len(shown) == 1 else shown
            if mails:
                ident["email"] = mails[0] if len(mails) == 1 else mails
            if external:
                ident["external_ids"] = dict(external)
            return ident

        traits: dict[str, Any] = {**self._name(p, "crm"), "language": p.lang}
        if rng.random() < 0.35:
            traits["birthday"] = p.birthday.isoformat()
        if rng.random() < 0.55:
            traits["postal_code"] = p.home.postal
        if rng.random() < 0.45:
            traits["city"] = p.home.city
        if p.national_id and rng.random() < 0.12:
            traits["national_id"] = self._dni(p, "crm")
        ident = identifiers(day)
        self._junk(ident)
        key = ("crm", p.pid, contact)
        self._emit("crm", "customer.updated", self._when(day, day, OFFICE_HOURS), ident, p.pid,
                   traits=traits, key=key)
        if p.change_day and not duplicate:  # the new e-mail or mobile, with what did not change
            name = {k: v for k, v in traits.items() if k in ("name", "first_name", "last_name")}
            self._emit("crm", "customer.updated", self._when(p.change_day, p.change_day,
                       OFFICE_HOURS), identifiers(p.change_day), p.pid, traits=name, key=key)
        elif day > 1 and rng.random() < 0.2:
            self._emit("crm", "customer.updated", self._when(1, day - 1, OFFICE_HOURS),
                       identifiers(1), p.pid, traits={"postal_code": p.home.postal}, key=key)

    def _shop(self, p: _Person) -> None:
        rng = self.rng
        days = sorted((rng.randint(1, p.start) for _ in range(
            rng.choices([1, 2, 3, 4, 6], [45, 25, 15, 10, 5])[0])), reverse=True)
        with_phone, generic = rng.random() < 0.4, p.shared_email and rng.random() < 0.5
        by_phone = rng.random() < 0.02  # orders taken by phone: the staff fill the e-mail field
        anonymous = f"web-{rng.getrandbits(48):012x}" if rng.random() < 0.45 else None
        anonymous = None if by_phone else anonymous
        misspelt = None
        if rng.random() < 0.012 and p.emails[0].split("@")[1] in DOMAIN_TYPOS:
            local, domain = p.emails[0].split("@")
            misspelt = f"{local}@{DOMAIN_TYPOS[domain]}"
            self.counts["email_typos"] += 1
        names: dict[str, dict[str, str]] = {}
        for day in days:
            address = misspelt or (p.shared_email if generic else None) or p.email_at(day)
            phone = p.mobile_at(day) or p.landline
            ident: dict[str, Any] = {}
            if by_phone and phone:
                ident["email"] = rng.choice(JUNK_EMAILS)
                self.counts["placeholder_emails"] += 1
            else:
                ident["email"] = self._mail(address, "shop", p.pid)
            if phone and (with_phone or by_phone or misspelt):
                ident["phone"] = self._phone(phone, "shop", p.pid)
            if anonymous:
                ident["anonymous_id"] = anonymous
            if address not in names:
                names[address] = self._name(p, "shop")
                if rng.random() < 0.5:
                    names[address]["language"] = p.lang
            order = f"PED-{self.seq + 100_000}"
            self._emit("shop", "order.placed", self._when(day, day, SHOP_HOURS), ident, p.pid,
                       traits=dict(names[address]), channel="voice" if by_phone else "web",
                       eid=f"shop-{order}",
                       props={"order_id": order, "currency": "EUR",
                              "amount": round(rng.lognormvariate(4.0, 0.8), 2)},
                       key=("shop", p.pid, address if not by_phone else "phone-order"))

    def _billing(self, p: _Person) -> None:
        rng = self.rng
        account = f"CT-{rng.randint(1_000_000, 9_999_999)}"
        first = rng.randint(1, p.start)
        ident: dict[str, Any] = {"account": account}
        r = rng.random()
        if r < 0.7:
            use_generic = p.shared_email and rng.random() < 0.6
            ident["email"] = self._mail(p.shared_email if use_generic else p.email_at(first),
                                        "billing", p.pid)
        phone = p.landline if p.landline and rng.random() < 0.5 else \
            p.mobile_at(first) or p.landline or p.work_phone
        if phone and (r >= 0.4 or "email" not in ident):
            ident["phone"] = self._phone(phone, "billing", p.pid)
        self._junk(ident)
        traits: dict[str, Any] = self._name(p, "billing")
        if p.national_id and rng.random() < 0.6:
            traits["national_id"] = self._dni(p, "billing")
        if rng.random() < 0.15:
            traits["birthday"] = p.birthday.strftime("%d/%m/%Y")
        if rng.random() < 0.4:
            traits["postal_code"] = p.home.postal
        for day in range(first, 0, -30)[: rng.choices([1, 2, 3, 4, 6], [35, 20, 15, 15, 15])[0]]:
            when = self._when(day, day, OFFICE_HOURS)
            invoice = f"FAC-{when.year}-{self.seq + 200_000}"
            self._emit("billing", "invoice.issued", when, dict(ident), p.pid, traits=dict(traits),
                       eid=f"billing-{invoice}", key=("billing", p.pid, account),
                       props={"invoice_id": invoice, "currency": "EUR",
                              "amount": round(rng.uniform(15, 400), 2)})

    def _helpdesk(self, p: _Person) -> None:
        rng = self.rng
        for day in sorted((rng.randint(1, p.start) for _ in range(rng.choice([1, 1, 1, 2]))),
                          reverse=True):
            generic = p.shared_email and rng.random() < 0.5
            address = (p.shared_email if generic else None) or p.email_at(day)
            ident: dict[str, Any] = {"email": self._mail(address, "helpdesk", p.pid)}
            self._junk(ident)
            traits = self._name(p, "helpdesk")
            if rng.random() < 0.7:
                traits["language"] = p.lang
            ticket = f"TCK-{self.seq + 300_000}"
            self._emit("helpdesk", "ticket.opened", self._when(day, day, SHOP_HOURS), ident, p.pid,
                       traits=traits, channel="email", eid=f"helpdesk-{ticket}",
                       key=("helpdesk", p.pid, address),
                       props={"ticket_id": ticket, "subject": rng.choice(SUBJECTS[p.lang])})

    def _call(self, phone: str, when: datetime, pid: str | None) -> None:
        rng = self.rng
        completed = rng.random() < 0.85
        props: dict[str, Any] = {"reason": rng.choice(CALL_REASONS),
                                 "wait_seconds": int(rng.expovariate(1 / 60))}
        if completed:
            props["duration_seconds"] = int(rng.lognormvariate(5.3, 0.6))
        self._emit("pbx", "call.completed" if completed else "call.abandoned", when,
                   {"phone": phone}, pid, props=props, channel="voice",
                   eid=f"pbx-{int(when.timestamp())}.{self.seq}")
        self.counts["pbx_calls"] += 1

    def _calls(self, p: _Person) -> None:
        rng = self.rng
        for _ in range(rng.choices([0, 1, 2, 3, 5], [40, 28, 17, 10, 5])[0]):
            day = rng.randint(1, p.start)
            phone = p.mobile_at(day)
            if p.landline and (phone is None or rng.random() < 0.45):
                phone = p.landline
            if p.work_phone and (phone is None or rng.random() < 0.5):
                phone = p.work_phone
            if phone is None:
                continue
            shown = "anonymous" if rng.random() < 0.02 else self._phone(phone, "pbx", p.pid)
            self.counts["withheld_calls"] += shown == "anonymous"
            self._call(shown, self._when(day, day, OFFICE_HOURS), p.pid)

    def run(self) -> Dataset:
        for p in self.people:
            for source in p.sources:
                if source == "crm_duplicate":
                    self._crm(p, duplicate=True)
                else:
                    getattr(self, f"_{source}")(p)
            self._calls(p)
        strangers = self.counts["pbx_calls"] // 20  # callers who are nobody's customer
        for _ in range(strangers):
            phone = self._number(_Home("ES", "", "", "91"), mobile=self.rng.random() < 0.8)
            self._call(self._phone(phone, "pbx", None), self._when(1, 365, OFFICE_HOURS), None)
            self.counts["unknown_caller_calls"] += 1
        self.rows.sort(key=lambda row: (row[0], row[1]))
        events, records, seen = [], [], set()
        for when, _, event, key in self.rows:
            assert when <= self.now
            events.append(event)
            if key is not None and key not in seen:
                seen.add(key)
                records.append(event["id"])
        lookups = [Lookup(kind, self.display[(kind, value)], frozenset(pids),
                          self.case_of.get((kind, value), "coincidence"))
                   for (kind, value), pids in self.usage.items() if len(pids) > 1]
        self.counts.update({"events": len(events), "records": len(records),
                            "lookups": len(lookups)})
        self.counts.update(f"lookups_{lookup.case}" for lookup in lookups)
        return Dataset(events, self.person_of, records, lookups, dict(sorted(self.counts.items())))


def generate(people: int = 4000, seed: int = 7, now: datetime | None = None) -> Dataset:
    """The data set for ``people`` people; the same arguments always give the same data."""
    gen = _Gen(seed, now or NOW)
    gen.build(people)
    return gen.run()


if __name__ == "__main__":
    data = generate()
    for name, value in data.counts.items():
        print(f"{name:40} {value}")
    shown: set[str] = set()
    for sample in data.events:
        if sample["type"] not in shown and len(shown) < 5:
            shown.add(sample["type"])
            print(json.dumps(sample, ensure_ascii=False))
