"""Why a message is urgent: seven reasons, each a rule a supervisor can read. Pure.

Patterns run on folded text (lower case, no accents), so "abogado" and "ABOGADO", "límite" and
"limite" read alike; each is linear (no nested repetition) over at most 20,000 characters.

- churn_threat: the customer says they will leave ("me doy de baja", "I'll take my business
  elsewhere", "cancel my account");
- legal_threat: lawyers, courts, consumer bodies ("abogado", "denuncia", "OCU", "hoja de
  reclamaciones", "sue", "small claims", "trading standards");
- fraud: charges not made, cloned cards, phishing, stolen identity;
- safety: smoke, sparks, fire, gas or water leaks, injuries, something fallen on someone;
- shouting: most letters capitals (at least 12 letters, 70 %), or "!!!" / "???";
- repetition: "es la tercera vez", "ya os lo dije", "again", "for the fourth time";
- insult: "ladrones", "incompetentes", "useless idiots".
"""

from __future__ import annotations

import re

from circulo.text.model import URGENCY_REASONS, Urgency

_B = r"(?<![a-zñ0-9])"  # word start
_E = r"(?![a-zñ0-9])"  # word end


def _any(*alternatives: str) -> re.Pattern[str]:
    return re.compile(_B + "(?:" + "|".join(alternatives) + ")" + _E)


RULES: dict[str, re.Pattern[str]] = {
    "churn_threat": _any(
        r"(?:me|nos) (?:doy|damos|voy a dar|vamos a dar|dare|daremos) de baja",
        r"dar(?:me|nos)? de baja", r"darme de baja", r"(?:quiero|quiere|voy a) (?:la )?baja",
        r"(?:cancelar|cancelen|cancelad|cancela|cancelo|cerrar|cierren|cerrad|cierra|cierro|"
        r"anular|anulad|anulen) (?:mi|la|el|nuestra|nuestro|su|toda|todo) ?(?:tarjeta|cuenta|"
        r"contrato|suscripcion|ficha)", r"(?:cierro|cerrar|cerrad|cierren) (?:la )?cuenta",
        r"baja de (?:la|mi) (?:tarjeta|cuenta)", r"da(?:os|dme|rme|nos) de baja",
        r"no quiero seguir siendo cliente", r"(?:cancelad|cancelar|cerrad|cerrar) todo",
        r"(?:me|nos) (?:voy|vamos|paso|pasamos|cambio|cambiamos) a "
        r"(?:la )?(?:competencia|otra (?:tienda|empresa)|ikea|leroy|amazon|conforama)",
        r"(?:dejo|dejare|dejamos|dejar) de (?:ser cliente|comprar|confiar)",
        r"no (?:vuelvo|volvere|volveremos|vuelvo nunca) a (?:comprar|pedir|confiar)",
        r"nunca mas (?:compro|comprare|os compro|vuelvo)", r"ultima vez que (?:compro|os compro)",
        r"perdeis un cliente", r"habeis perdido un cliente", r"has perdido un cliente",
        r"me largo", r"adios para siempre",
        r"(?:take|taking) my (?:business|money|custom) (?:elsewhere|somewhere else)",
        r"(?:cancel|close|closing|cancelling|canceling) (?:my|the|her|his|our) (?:store |"
        r"aurora )?(?:account|card|membership|subscription|contract)",
        r"(?:cancel|close) everything", r"(?:i m|i am|im) done with you",
        r"(?:going|go|move|moving) to another (?:shop|store|company|retailer)",
        r"(?:i m|i am|im) (?:leaving|done with you|switching)",
        r"(?:switch|switching|moving|go|going) to (?:a )?(?:competitor|another (?:store|shop|"
        r"company|retailer)|ikea|amazon)", r"never (?:shop|order|buy|buying|shopping|ordering) "
        r"(?:here|from you|with you)", r"(?:lost|losing) (?:a|me as a) customer",
        r"(?:won t|will not|wont|never) (?:be )?(?:shop|order|buy|com)(?:ping|ing)? "
        r"(?:from|with|here)(?: you| again)?", r"last time i (?:shop|order|buy)",
        r"stop being a customer", r"no longer (?:be )?a customer"),
    "legal_threat": _any(
        r"abogad[oa]s?", r"denuncia(?:r|re|remos|ndo|do)?", r"demanda(?:r|re|remos|ndo)?",
        r"juzgados?", r"tribunal(?:es)?", r"ocu", r"facua", r"(?:oficina (?:municipal )?de )?"
        r"consumo", r"omic", r"hoja de reclamaciones", r"libro de reclamaciones",
        r"via judicial", r"accion(?:es)? legal(?:es)?", r"medidas legales", r"profeco",
        r"defensa del consumidor", r"arbitraje",
        r"lawyers?", r"solicitors?", r"attorneys?", r"sue", r"suing", r"legal action",
        r"small claims", r"trading standards", r"court", r"ombudsman", r"legal advice",
        r"citizens advice", r"which\?", r"bbb", r"better business bureau", r"chargeback"),
    "fraud": _any(
        r"cargos? (?:no (?:autorizad|reconocid)[oa]s?|desconocid[oa]s?|sospechos[oa]s?)",
        r"que (?:yo )?no (?:he|hemos|hice) (?:hecho|comprado|autorizado|realizado)",
        r"no (?:es|era) mio", r"yo no (?:he sido|fui)", r"alguien ha (?:comprado|usado|pagado)",
        r"(?:did not|didn t|never) (?:buy|order|purchase) anything",
        r"(?:isn t|is not|wasn t|was not) (?:mine|me)", r"someone(?: s| has)? used my",
        r"(?:that|which) i (?:didn t|did not|never) (?:make|made|authori[sz]e)",
        r"(?:no he|no hice|yo no he) (?:hecho|realizado) (?:ese|esa|este|esta|esos|esas|"
        r"ningun[oa]?) (?:cargo|compra|pago|pedido)", r"(?:me han|han) clonado",
        r"clonad[oa]", r"suplanta(?:cion|ndo|do)", r"phishing", r"fraude", r"fraudulent[oa]s?",
        r"robad[oa] (?:la|mi) (?:tarjeta|cuenta|identidad)", r"me han robado",
        r"(?:me han|han) hackeado", r"hackead[oa]", r"sms falso", r"correo falso",
        r"fraud(?:ulent)?", r"scam(?:med)?", r"phish(?:ing)?", r"identity theft",
        r"(?:didn t|did not|never) (?:make|made|authori[sz]e) (?:this|that|these|those|the|"
        r"any)? ?(?:charge|purchase|payment|transaction)s?",
        r"unauthori[sz]ed (?:charge|payment|transaction|purchase)s?",
        r"(?:card|account) (?:was |has been |got )?(?:cloned|stolen|hacked|compromised)",
        r"(?:charge|transaction)s? i (?:don t|do not) recogni[sz]e", r"someone used my card",
        r"alguien (?:ha usado|uso|usa) mi tarjeta", r"cobro (?:no autorizado|desconocido)"),
    "safety": _any(
        r"humo", r"chispas?", r"chispazos?", r"fuego", r"incendio", r"llamas",
        r"quemad[oa]s?", r"se ha quemado", r"olor a (?:quemado|gas)", r"fuga de (?:gas|agua)",
        r"fuga", r"descarga electrica", r"calambre", r"(?:me|le|nos) ha dado (?:la )?corriente",
        r"electrocut\w*", r"se (?:me |le |nos )?(?:ha )?caido encima", r"cayo encima",
        r"herid[oa]s?", r"hospital", r"urgencias", r"sangr\w*", r"peligro(?:so|sa)?",
        r"explot\w*", r"cortocircuito", r"ardiendo", r"(?:bebe|nino|nina|hijo) debajo",
        r"se ha desplomado", r"lesion(?:es|ado|ada)?",
        r"smoke", r"smoking", r"sparks?", r"sparking", r"fire", r"flames?", r"burn(?:t|ed|ing)?",
        r"burning smell", r"gas leak", r"leak(?:ing)?", r"electric shock", r"shocked me",
        r"injur(?:ed|y|ies)", r"hurt", r"fell on", r"collapsed", r"a&e", r"emergency room",
        r"bleeding", r"dangerous", r"on fire", r"caught fire",
        r"baby sleeps underneath", r"hazard(?:ous)?", r"exploded", r"short circuit",
        r"overheat(?:ed|ing|s)?", r"se recalienta", r"recalentad[oa]"),
    "repetition": _any(
        r"(?:segunda|tercera|cuarta|quinta|enesima|\d+a) (?:vez|reparacion|llamada|queja|"
        r"reclamacion|incidencia)", r"ya (?:os|te|se|les) (?:lo )?(?:he |habia )?(?:dije|dicho|"
        r"explicado|explique|conte|comente|pedi|avise)", r"otra vez",
        r"(?:otra vez|de nuevo) (?:lo mismo|"
        r"os escribo|escribo|llamo|os llamo)", r"vuelvo a (?:escribir|llamar|reclamar)",
        r"(?:llamado|escrito|reclamado|llamar|escribir|reclamar) (?:\w+ )?(?:\d+|dos|tres|"
        r"cuatro|cinco|varias|muchas|mil) veces", r"(?:\d+|tres|cuatro|cinco|seis|varias|mil) "
        r"(?:llamadas|correos|emails|mensajes)", r"sigo esperando",
        r"como ya (?:dije|indique|comente)", r"una y otra vez", r"cada vez que llamo",
        r"(?:second|third|fourth|fifth|nth|\d+(?:st|nd|rd|th)) (?:time|repair|call|complaint)",
        r"(?<!use )(?<!buy )(?<!shop )(?<!order )(?<!shopping )(?<!here )(?<!come )again",
        r"once again", r"(?:i ve|i have|we ve|we have) (?:already )?(?:called|rung|written|"
        r"emailed|phoned|contacted you|chased|call|write)(?: \w+)? (?:\d+|two|three|four|five|"
        r"several|many|multiple) times", r"(?:\d+|three|four|five|six|several|multiple) "
        r"(?:times|calls|emails|messages)", r"as i (?:already )?(?:said|told|mentioned|"
        r"explained)", r"i (?:already |have already )?(?:told|explained to) you",
        r"still waiting",
        r"keep (?:calling|chasing|asking)", r"over and over"),
    "insult": _any(
        r"ladron(?:es|a|as)?", r"estafador(?:es|a|as)?", r"sinverguenzas?", r"caraduras?",
        r"incompetentes?", r"incompetencia", r"inutil(?:es)?", r"idiotas?", r"imbecil(?:es)?",
        r"maleducad[oa]s?", r"(?:sois|son|eres|es) una verguenza", r"payasos?",
        r"chapuceros?", r"gentuza", r"mafiosos?", r"mafia", r"sinvergüenzas?", r"estupidos?",
        r"tontos?", r"pringados?", r"cutres?", r"panda de \w+", r"banda de \w+",
        r"una mierda", r"de mierda", r"vergüenza de empresa", r"verguenza de empresa",
        r"thie(?:f|ves)", r"crooks?", r"con artists?", r"scammers?", r"incompet(?:ent|ence)",
        r"(?:you re|you are|your) a disgrace",
        r"useless", r"idiots?", r"morons?", r"clowns?", r"stupid", r"imbeciles?",
        r"muppets?", r"cowboys", r"bunch of \w+", r"pathetic", r"joke of a company",
        r"crap company", r"shit", r"bloody \w+"),
}

SHOUT_MIN_LETTERS = 12
SHOUT_CAPS = 0.7
_SHOUT_MARKS = re.compile(r"[!?]{3,}|(?:[!?]\s*){3,}")


def caps_ratio(text: str, min_letters: int = 8) -> float:
    """Share of capitals among the letters (0 when there are fewer than ``min_letters``)."""
    upper = lower = 0
    for c in text:
        if c.isupper():
            upper += 1
        elif c.islower():
            lower += 1
    total = upper + lower
    return upper / total if total >= min_letters else 0.0


def shouting(text: str) -> bool:
    """Mostly capitals (at least ``SHOUT_MIN_LETTERS`` letters), or "!!!"/"???"."""
    if caps_ratio(text, SHOUT_MIN_LETTERS) >= SHOUT_CAPS:
        return True
    return _SHOUT_MARKS.search(text) is not None


# A threat to leave that is denied ("al final no me doy de baja", "I don't want to close my
# account"), a question ("si cancelo la tarjeta, ¿tengo que pagar algo?") or about mailings
# ("darme de baja de la newsletter") is no threat.
_DENIED = re.compile(r"(?:^|[^a-zñ0-9])(?:(?:no|not|t|never|nunca|ya no)(?:[^a-zñ0-9]+"
                     r"[a-zñ0-9]+){0,2}[^a-zñ0-9]*|(?:si|if(?: i| we)?) )$")
_MAILINGS = re.compile(r"newsletter|boletin|publicidad|promociones|mailing|marketing|"
                       r"emails? comerciales|correos? comerciales|offers? by email")
_FILTERED = frozenset({"churn_threat"})


def _stated(rule: re.Pattern[str], folded: str) -> bool:
    """Some match of ``rule`` that is neither denied nor about mailings."""
    for match in rule.finditer(folded):
        before = folded[max(0, match.start() - 30):match.start()]
        after = folded[match.end():match.end() + 40]
        if not _DENIED.search(before) and not _MAILINGS.search(after):
            return True
    return False


def reasons_of(text: str, folded: str) -> tuple[str, ...]:
    found = {code for code, rule in RULES.items()
             if (_stated(rule, folded) if code in _FILTERED else rule.search(folded))}
    if shouting(text):
        found.add("shouting")
    return tuple(code for code in URGENCY_REASONS if code in found)


def assess(text: str, folded: str) -> Urgency:
    reasons = reasons_of(text, folded)
    return Urgency(bool(reasons), reasons)
