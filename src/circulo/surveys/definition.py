"""Survey definitions (``CIRCULO_SURVEYS_FILE``, YAML). Pure.

```yaml
surveys:
  after-contact:
    title: {es: "¿Qué tal le atendimos?", en: "How did we do?"}
    follows: {queues: [atencion, vip], channels: [voice, chat]}   # empty: every one
    send_by: [sms, email]          # tried in order (consent, a mobile, an e-mail); or [ivr]
    purpose: surveys               # the consent purpose the invitation needs
    delay: 5m                      # after the wrap-up
    lifetime: 3d                   # how long the link works
    questions:
      - {id: csat, kind: csat, text: {es: "...", en: "..."}}
      - {id: nps, kind: nps, text: {es: "...", en: "..."}}
      - {id: comment, kind: text, max_length: 1000, required: false, text: {...}}
    invite: {es: "... {link}", en: "... {link}"}
    subject: {es: "...", en: "..."}
low_score: {csat_at_most: 2, nps_at_most: 6}
```

Read with the one strict YAML loader and pydantic models that refuse unknown fields, so a
misspelt key is an error naming its line, not a survey silently sent without it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field

from circulo import docmodels, yaml_files
from circulo.docmodels import Doc, Duration, PositiveDuration, between, check
from circulo.documents import Where

KINDS = ("csat", "nps", "text")
CHANNELS = ("sms", "email", "ivr")
RANGES = {"csat": (1, 5), "nps": (0, 10)}
MAX_TEXT = 2000  # a comment longer than this is refused whatever the definition says
MAX_QUESTIONS = 10
Name = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]


class SurveyConfigError(ValueError):
    pass


class Texts(Doc):
    es: Annotated[str, check(lambda v: 0 < len(v.strip()) <= 500, "1–500 characters")]
    en: Annotated[str, check(lambda v: 0 < len(v.strip()) <= 500, "1–500 characters")]

    def of(self, language: str) -> str:
        return self.en if language == "en" else self.es


class QuestionDoc(Doc):
    id: Name
    kind: Literal["csat", "nps", "text"]
    text: Texts
    required: bool = True
    max_length: Annotated[int, between(1, MAX_TEXT)] = 1000


class FollowsDoc(Doc):
    queues: list[Name] = Field(default_factory=list, max_length=200)
    channels: list[Literal["voice", "chat", "email", "sms", "whatsapp", "social",
                           "backoffice"]] = Field(default_factory=list)


class SurveyDoc(Doc):
    title: Texts
    follows: FollowsDoc = Field(default_factory=FollowsDoc)
    send_by: list[Literal["sms", "email", "ivr"]] = Field(min_length=1, max_length=3)
    purpose: Literal["surveys", "service"] = "surveys"
    delay: Duration = 300.0
    lifetime: PositiveDuration = 3 * 86400.0
    questions: list[QuestionDoc] = Field(min_length=1, max_length=MAX_QUESTIONS)
    invite: Texts | None = None
    subject: Texts | None = None


class LowScoreDoc(Doc):
    csat_at_most: Annotated[int, between(1, 5)] = 2
    nps_at_most: Annotated[int, between(0, 10)] = 6


class SurveysDoc(Doc):
    surveys: dict[Name, SurveyDoc] = Field(max_length=100)
    low_score: LowScoreDoc = Field(default_factory=LowScoreDoc)


DEFAULT_INVITE = Texts(
    es="Gracias por su llamada. ¿Nos dedica un minuto? {link}",
    en="Thank you for contacting us. Could you spare a minute? {link}")
DEFAULT_SUBJECT = Texts(es="¿Qué tal le atendimos?", en="How did we do?")


@dataclass(frozen=True, slots=True)
class Question:
    id: str
    kind: str
    text: Texts
    required: bool
    max_length: int


@dataclass(frozen=True, slots=True)
class Survey:
    name: str
    title: Texts
    queues: frozenset[str]
    channels: frozenset[str]
    send_by: tuple[str, ...]
    purpose: str
    delay: float
    lifetime: float
    questions: tuple[Question, ...]
    invite: Texts
    subject: Texts

    def follows(self, queue: str | None, channel: str | None) -> bool:
        return ((not self.queues or queue in self.queues)
                and (not self.channels or channel in self.channels))


@dataclass(frozen=True, slots=True)
class LowScore:
    csat_at_most: int = 2
    nps_at_most: int = 6


@dataclass(frozen=True, slots=True)
class Catalogue:
    surveys: tuple[Survey, ...]
    low_score: LowScore = LowScore()

    def get(self, name: str) -> Survey | None:
        return next((s for s in self.surveys if s.name == name), None)

    def following(self, queue: str | None, channel: str | None) -> Survey | None:
        """The first survey (in the file's order) that follows a contact of this queue and
        channel; None when none does."""
        return next((s for s in self.surveys if s.follows(queue, channel)), None)


EMPTY = Catalogue(())


def parse(text: str, origin: str = "") -> Catalogue:
    """A catalogue from YAML text; errors say ``origin: line N: path: reason``."""
    prefix = f"{origin}: " if origin else ""
    try:
        document = yaml_files.load(text)
    except yaml_files.YamlError as exc:
        raise SurveyConfigError(f"{prefix}{exc}") from exc
    where = Where(document.lines, prefix)
    if not isinstance(document.data, dict):
        raise SurveyConfigError(f"{prefix}expected a mapping with 'surveys'")
    doc = docmodels.validate(SurveysDoc, document.data, where, SurveyConfigError)
    surveys = []
    for name, spec in doc.surveys.items():
        ids = [q.id for q in spec.questions]
        if len(set(ids)) != len(ids):
            raise SurveyConfigError(f"{where('surveys', name, 'questions')}: question ids "
                                    "must be unique")
        for kind in KINDS:
            if sum(q.kind == kind for q in spec.questions) > 1:
                raise SurveyConfigError(f"{where('surveys', name, 'questions')}: at most one "
                                        f"{kind} question")
        if "ivr" in spec.send_by and len(spec.send_by) > 1:
            raise SurveyConfigError(f"{where('surveys', name, 'send_by')}: ivr is asked in the "
                                    "call itself and cannot be combined with sms or email")
        invite = spec.invite or DEFAULT_INVITE
        if "{link}" not in invite.es or "{link}" not in invite.en:
            raise SurveyConfigError(f"{where('surveys', name, 'invite')}: each text must "
                                    "carry {link}")
        surveys.append(Survey(
            name=name, title=spec.title, queues=frozenset(spec.follows.queues),
            channels=frozenset(spec.follows.channels), send_by=tuple(spec.send_by),
            purpose=spec.purpose, delay=float(spec.delay), lifetime=spec.lifetime,
            questions=tuple(Question(q.id, q.kind, q.text, q.required, q.max_length)
                            for q in spec.questions),
            invite=invite, subject=spec.subject or DEFAULT_SUBJECT))
    return Catalogue(tuple(surveys), LowScore(doc.low_score.csat_at_most,
                                              doc.low_score.nps_at_most))


_cache: dict[Path, tuple[tuple[float, int], Catalogue]] = {}
_lock = threading.Lock()


def load(path: Path | None) -> Catalogue:
    """The catalogue of ``path`` (re-read when the file changes); none configured: empty."""
    if path is None:
        return EMPTY
    try:
        found = path.stat()
        stamp = (found.st_mtime, found.st_size)
    except OSError as exc:
        raise SurveyConfigError(f"{path}: cannot read surveys: {exc}") from exc
    with _lock:
        held = _cache.get(path)
        if held and held[0] == stamp:
            return held[1]
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SurveyConfigError(f"{path}: cannot read surveys: {exc}") from exc
    catalogue = parse(text, str(path))
    with _lock:
        _cache[path] = (stamp, catalogue)
    return catalogue
