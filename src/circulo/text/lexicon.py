"""The words the default engine knows, Spanish and English, written for customer service.

Entries are folded (lower case, no accents: ``prep.fold``). A trailing ``*`` marks a stem:
``decepcion*`` matches decepcionado, decepcionada, decepcionante. Valences are VADER's scale
(-4 … +4), chosen by hand for how the word reads in a complaint or a thank-you, not in a
review of a film: "rapido" is good news here, "esperar" is not.
"""

from __future__ import annotations

POSITIVE: dict[str, float] = {
    # Spanish
    "gracias": 1.0, "agradec*": 2.0, "agradezco": 2.0, "genial": 2.5, "perfect*": 2.5,
    "excelente*": 3.0, "estupend*": 2.5, "fantastic*": 3.0, "maravill*": 3.0, "encant*": 2.5,
    "content*": 2.0, "feliz": 2.5, "felices": 2.5, "satisfech*": 2.0, "bien": 1.0,
    "buen": 1.5, "buena": 1.5, "buenas": 0.5, "bueno": 1.0, "buenisim*": 2.5, "rapid*": 1.5,
    "amable*": 2.0, "atent*": 1.5, "profesional*": 1.5, "eficaz": 2.0, "eficien*": 2.0,
    "resuelto": 1.5, "solucionado": 1.5, "recomiendo": 2.5, "recomendar*": 2.0,
    "increible": 2.0, "mejor": 1.5, "util": 1.5, "ayuda": 0.5, "ayudado": 1.5,
    "facil": 1.0, "comod*": 1.5, "guay": 2.0, "chul*": 2.0, "top": 1.5, "de lujo": 2.5,
    "encantad*": 2.5, "majo": 1.5, "maja": 1.5, "majos": 1.5, "puntual*": 1.5,
    "impecable*": 3.0, "bonit*": 2.0, "precios*": 2.0, "ideal": 2.0, "alegr*": 2.0,
    "tranquil*": 1.0, "fenomenal": 3.0, "crack": 2.0, "super": 1.0, "gusta": 1.5,
    "gustado": 2.0, "gusto": 1.0, "correct*": 0.5, "enhorabuena": 2.5, "felicit*": 2.5,
    "mil gracias": 2.5, "un placer": 2.0,
    # greetings and sign-offs are politeness, not praise: matched first, worth nothing
    "buenos dias": 0.0, "buenas tardes": 0.0, "buenas noches": 0.0, "un saludo": 0.0,
    "good morning": 0.0, "good afternoon": 0.0, "good evening": 0.0, "kind regards": 0.0,
    "best regards": 0.0, "all the best": 0.0, "muy buenas": 0.0, "buen dia": 0.0,
    # English
    "thanks": 1.0, "thank": 1.0, "thx": 1.0, "ty": 1.0, "great": 2.5, "perfect": 2.5,
    "excellent": 3.0, "amazing": 3.0, "awesome": 3.0, "fantastic": 3.0, "wonderful": 3.0,
    "brilliant": 3.0, "love": 2.5, "loved": 2.5, "lovely": 2.5, "happy": 2.5, "glad": 2.0,
    "pleased": 2.0, "satisfied": 2.0, "good": 1.5, "nice": 1.5, "fine": 0.5, "quick*": 1.5,
    "fast": 1.5, "friendly": 2.0, "kind": 1.5, "helpful": 2.0, "professional": 1.5,
    "efficient": 2.0, "resolved": 1.5, "sorted": 1.5, "fixed": 1.0, "recommend*": 2.5,
    "best": 2.0, "better": 1.0, "easy": 1.0, "smooth*": 1.5, "appreciate*": 2.0,
    "superb": 3.0, "outstanding": 3.0, "spot on": 2.5, "cheers": 1.0, "impressed": 2.5,
    "delighted": 3.0, "grateful": 2.5, "gorgeous": 2.5, "beautiful": 2.5, "well done": 2.5,
    "on time": 1.5, "promptly": 1.5, "prompt": 1.5, "works": 0.5, "working": 0.5,
    "brill": 2.5, "cool": 1.5, "yay": 2.0,
}

NEGATIVE: dict[str, float] = {
    # Spanish
    "mal": -1.5, "mala": -2.0, "malo": -2.0, "malisim*": -3.0, "fatal": -3.0, "horrible*": -3.0,
    "terrible*": -3.0, "pesim*": -3.0, "desastre*": -3.0, "desastros*": -3.0,
    "vergüenza": -3.0, "verguenza": -3.0, "vergonzos*": -3.0, "decepcion*": -2.5,
    "decepcionad*": -2.5, "enfad*": -2.5, "cabread*": -3.0, "harto": -3.0, "harta": -3.0,
    "hartos": -3.0, "indignad*": -3.0, "indignante": -3.0, "molest*": -2.0, "queja*": -2.0,
    "reclamacion*": -1.5, "reclamar": -1.5, "problema*": -1.5, "roto": -2.0, "rota": -2.0,
    "rotos": -2.0, "rotas": -2.0, "averiad*": -2.0, "defectuos*": -2.5, "estropead*": -2.0,
    "danad*": -2.0, "dañad*": -2.0, "golpead*": -2.0, "rayad*": -1.5, "falta": -1.0,
    "faltan": -1.5, "retraso*": -2.0, "tarde": -1.0, "esperando": -1.5, "espera": -1.0,
    "todavia no": -1.5, "aun no": -1.5, "sigo sin": -2.0, "seguimos sin": -2.0,
    "ni caso": -2.5, "nadie": -1.5, "nunca": -1.0, "ninguna respuesta": -2.5,
    "sin respuesta": -2.5, "imposible": -2.0, "inaceptable": -3.0, "lament*": -1.5,
    "incompeten*": -3.0, "inutil*": -3.0, "ladron*": -3.5, "estafa*": -3.5, "timo": -3.0,
    "engan*": -3.0, "mentira*": -3.0, "mienten": -3.0, "abuso": -3.0, "abusivo": -3.0,
    "caos": -2.5, "lamentable": -3.0, "penos*": -3.0, "cutre": -2.5, "triste*": -2.0,
    "preocupad*": -1.5, "perdido": -1.5, "perdida": -1.5, "error*": -1.5, "equivocad*": -1.5,
    "incorrect*": -1.5, "cobrado de mas": -2.5, "doble cobro": -2.5, "no funciona": -2.0,
    "no sirve": -2.0, "basura": -3.0, "asco": -3.0, "asqueros*": -3.0, "nefast*": -3.0,
    "deficiente*": -2.5, "insoportable": -3.0, "ridicul*": -2.5, "absurd*": -2.0,
    "frustra*": -2.5, "desesper*": -2.5, "peor": -2.5, "fallo*": -1.5, "falla": -1.5,
    "no me ha llegado": -2.0, "no ha llegado": -1.5, "no me a llegado": -2.0, "no llega": -1.5,
    "no llego": -1.5, "ni rastro": -2.0, "semanas": -0.5, "tampoco": -1.0, "caro": -1.0,
    "abogado": -1.5, "denuncia*": -2.0, "baja": -0.5,
    # what goes wrong with goods and services, said plainly (a plain complaint is negative)
    "abollad*": -1.5, "gotea": -1.5, "goteando": -1.5, "inundad*": -2.0, "hundid*": -1.5,
    "rechazad*": -1.5, "denegad*": -1.5, "sin terminar": -1.5, "no cierra": -1.5,
    "no enfria": -2.0, "no calienta": -2.0, "no enciende": -2.0, "ha dejado de": -1.5,
    "no he recibido": -1.5, "no me han devuelto": -2.0, "sin noticias": -1.5,
    "sin solucion": -2.0, "cobrado dos veces": -2.5, "dos cargos": -2.0, "ni una llamada": -2.0,
    "nadie me": -1.5, "nadie ha": -1.5, "sin avisar": -1.5, "pelad*": -1.0, "torcid*": -1.5,
    "rajad*": -1.5, "desconchad*": -1.5, "mancha*": -1.0, "ruido*": -1.0, "suelto": -1.0,
    "no me deja": -1.5, "no puedo": -1.0, "no entiendo": -1.0, "no se que": -0.5,
    # English
    "bad": -2.0, "worst": -3.5, "worse": -2.5, "awful": -3.0, "terrible": -3.0,
    "horrible": -3.0, "appalling": -3.5, "disgrace*": -3.5, "disgust*": -3.0,
    "pathetic": -3.0, "rubbish": -3.0, "useless": -3.0, "joke": -2.0, "ridiculous": -2.5,
    "unacceptable": -3.0, "disappoint*": -2.5, "annoy*": -2.0, "angry": -3.0, "furious": -3.5,
    "fed up": -3.0, "sick of": -3.0, "tired of": -2.5, "frustrat*": -2.5, "upset": -2.5,
    "unhappy": -2.5, "poor": -2.0, "poorly": -2.0, "broken": -2.0, "damaged": -2.0,
    "faulty": -2.5, "defective": -2.5, "scratched": -1.5, "missing": -1.5, "late": -1.5,
    "delay*": -2.0, "waiting": -1.5, "still waiting": -2.5, "still not": -2.0,
    "never": -1.0, "nobody": -1.5, "no one": -1.5, "no response": -2.5, "no reply": -2.5,
    "ignored": -2.5, "ignoring": -2.5, "problem*": -1.5, "issue*": -1.0, "wrong": -1.5,
    "mistake*": -1.5, "complain*": -2.0, "scam*": -3.5, "fraud*": -2.5,
    "thie*": -3.0, "rip off": -3.0, "ripped off": -3.0, "lie*": -2.5, "lying": -3.0,
    "incompetent": -3.0, "idiot*": -3.5, "shambles": -3.0, "mess": -2.0, "nightmare": -3.0,
    "hopeless": -3.0, "sad": -2.0, "worried": -1.5, "concerned": -1.0, "lost": -1.5,
    "not working": -2.0, "doesn t work": -2.0, "stopped working": -2.0, "failed": -2.0,
    "fail*": -1.5, "overcharged": -2.5, "charged twice": -2.5, "hate": -3.0, "sucks": -3.0,
    "crap": -3.0, "shocking": -3.0, "dreadful": -3.0, "sorry": -0.5, "hasn t arrived": -1.5,
    "not arrived": -1.5, "never arrived": -2.5, "lawyer": -1.5, "sue": -2.0,
    "cancel": -0.5, "weeks": -0.5, "expensive": -1.0, "unfortunately": -1.5,
    "lamentablemente": -1.5, "desafortunadamente": -1.5,
    "dent": -1.5, "dented": -1.5, "scratch": -1.5, "snapped": -2.0, "frayed": -1.5,
    "leaking": -1.5, "leaks": -1.5, "flooding": -2.0, "flooded": -2.0, "sagged": -1.5,
    "sagging": -1.5, "declined": -1.5, "refused": -2.0, "turned down": -1.5,
    "still nothing": -2.0, "haven t received": -1.5, "not received": -1.5,
    "didn t receive": -1.5, "never received": -2.0, "without finishing": -1.5,
    "won t close": -1.5, "not cooling": -2.0, "isn t cooling": -2.0, "won t turn on": -2.0,
    "hasn t heated": -2.0, "two charges": -2.0,
    "no explanation": -2.0, "without telling": -2.0, "without warning": -1.5,
    "nobody has": -1.5, "can t": -0.5, "don t understand": -1.0,
    "what a service": -2.0, "call that": -1.5, "wrong size": -1.5, "loan sharks": -3.0,
}

NEGATORS = frozenset({"no", "not", "never", "nunca", "ni", "tampoco", "sin", "jamas",
                      "nothing", "nada", "none", "without", "cannot", "cant", "dont", "didnt",
                      "doesnt", "isnt", "wasnt", "wont", "arent", "havent", "hasnt",
                      "couldnt", "wouldnt", "nor", "t"})  # "don't" splits as don + t
INTENSIFIERS: dict[str, float] = {
    "muy": 0.5, "mucho": 0.3, "muchisimo": 0.6, "super": 0.5, "tan": 0.4, "totalmente": 0.5,
    "absolutamente": 0.6, "completamente": 0.5, "realmente": 0.3, "bastante": 0.2,
    "demasiado": 0.4, "increiblemente": 0.6, "extremadamente": 0.6, "very": 0.5,
    "really": 0.4, "so": 0.4, "extremely": 0.6, "totally": 0.5, "absolutely": 0.6,
    "completely": 0.5, "incredibly": 0.6, "truly": 0.3, "such": 0.3, "utterly": 0.6,
    "most": 0.3, "too": 0.3, "fatal": 0.0,
}
DIMINISHERS = frozenset({"algo", "poco", "un poco", "slightly", "bit", "somewhat", "kinda",
                         "little", "casi", "almost", "fairly", "bastante"})
# "pero"/"but": what follows weighs more (VADER's rule), what precedes less
CONTRASTS = frozenset({"pero", "but", "aunque", "however", "sin embargo", "though"})

EMOJI: dict[str, float] = {
    "😀": 2.0, "😃": 2.0, "😄": 2.0, "😁": 2.0, "😊": 2.0, "🙂": 1.0, "😍": 3.0, "🥰": 3.0,
    "😘": 2.0, "👍": 1.5, "👏": 2.0, "🙏": 1.0, "❤": 2.5, "💯": 2.0, "🎉": 2.5, "✅": 1.0,
    "😉": 1.0, "🤩": 3.0, "💪": 1.5, "👌": 1.5, "☺": 2.0, "😎": 1.5, "🥳": 2.5, ":)": 1.5,
    ":-)": 1.5, ":d": 2.0, "xd": 1.0, "<3": 2.5,
    "😡": -3.0, "😠": -3.0, "🤬": -3.5, "😤": -2.5, "😞": -2.0, "😔": -2.0, "😢": -2.0,
    "😭": -2.5, "😩": -2.5, "😫": -2.5, "🙄": -2.0, "😒": -2.0, "👎": -2.0, "💩": -3.0,
    "😑": -1.0, "😐": -0.5, "😕": -1.5, "🙁": -1.5, "☹": -2.0, "😣": -2.0, "😖": -2.0,
    "🤦": -2.0, "😱": -2.0, "😬": -1.0, "💔": -2.5, ":(": -1.5, ":-(": -1.5,
}

# Sarcasm: praise followed, within a few words, by what praise never comes with
# ("genial, otra semana sin lavadora", "great, another week without my sofa",
# "gracias por nada", "thanks for nothing").
SARCASM_AFTER_PRAISE = frozenset({"otra", "otro", "otra vez", "de nuevo", "otra semana",
                                  "another", "again", "still", "todavia", "sin", "nada",
                                  "nothing", "without", "ya van", "wasted"})
SARCASM_PHRASES = ("gracias por nada", "thanks for nothing", "muchas gracias por nada",
                   "thanks a lot for nothing", "que bien, otra", "vaya servicio",
                   "menudo servicio", "great service, not", "oh great", "just great",
                   "yeah right", "genial, otra", "genial otra", "perfecto, otra",
                   "fantastico, otra", "brilliant, another", "great, another", "great another",
                   "love waiting", "me encanta esperar", "que maravilla de servicio")
