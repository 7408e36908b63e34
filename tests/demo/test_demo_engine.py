"""The living demo's decisions, without a database: which contacts arrive and what the
simulated agents do, replayed from a seed."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta

from circulo.demo.engine import (
    MARIA,
    SHARED_LANDLINE,
    DemoCustomer,
    Held,
    SimAgent,
    Tuning,
    Waiting,
    decide,
    hang_ups,
    next_contact,
    next_gap,
    phone_as_dialled,
)

NOW = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)
CUSTOMERS = [DemoCustomer("+34611222333", "ana.garcia1@example.es", "es"),
             DemoCustomer("+447700900123", "emma.smith2@example.com", "en"),
             DemoCustomer(None, "only.mail@example.es", "es")]


def _digits(phone: str) -> str:
    digits = "".join(c for c in phone if c.isdigit())
    return digits.removeprefix("0034").removeprefix("34")


def test_contacts_cover_every_channel_and_the_scenario_callers() -> None:
    rng = random.Random(3)
    contacts = [next_contact(rng, CUSTOMERS) for _ in range(600)]
    kinds = Counter((c.channel, c.kind) for c in contacts)
    assert {("voice", "contact"), ("voice", "callback"), ("chat", "contact"),
            ("email", "contact")} <= set(kinds)
    assert kinds[("voice", "contact")] > kinds[("email", "contact")]  # mostly calls
    phones = [c.identifiers["phone"] for c in contacts if "phone" in c.identifiers]
    maria = [p for p in phones if _digits(p) == MARIA[3:]]
    assert len(set(maria)) >= 3, "María calls with her number written several ways"
    assert SHARED_LANDLINE in phones
    known = {_digits(MARIA), _digits(SHARED_LANDLINE)} | {
        _digits(c.phone) for c in CUSTOMERS if c.phone}
    assert any(_digits(p) not in known for p in phones), "now and then an unknown number"
    for contact in contacts:
        if contact.channel == "voice" and contact.kind == "contact":
            assert contact.ivr and contact.ivr["said"] and contact.attributes["ivr"]
            assert contact.queue == "atencion"
        if contact.kind == "callback":
            assert contact.queue == "rellamadas" and contact.window_minutes > 0
        assert contact.language in ("es", "en")
    english = [c for c in contacts if c.identifiers.get("email") == CUSTOMERS[1].email]
    assert english and all(c.language == "en" for c in english)


def test_the_same_seed_gives_the_same_traffic() -> None:
    first = [next_contact(random.Random(9), CUSTOMERS) for _ in range(5)]
    again = [next_contact(random.Random(9), CUSTOMERS) for _ in range(5)]
    assert first == again


def test_a_number_is_dialled_in_many_formats_but_stays_the_same_number() -> None:
    rng = random.Random(1)
    formats = {phone_as_dialled(MARIA, rng) for _ in range(100)}
    assert len(formats) == 5
    assert {_digits(f) for f in formats} == {"600123456"}
    assert phone_as_dialled("+447700900123", rng) == "+447700900123"


def test_gaps_stay_within_the_configured_range() -> None:
    rng = random.Random(2)
    gaps = [next_gap(rng, 5, 20) for _ in range(200)]
    assert min(gaps) >= 5 and max(gaps) <= 20
    assert next_gap(rng, 7, 3) == 7  # a range written backwards is its lower end


def _offered(agent: str, seconds_ago: float) -> SimAgent:
    return SimAgent(agent, "available", NOW - timedelta(minutes=10), (
        Held(f"t-{agent}", "reserved", "voice", "contact", NOW - timedelta(seconds=seconds_ago),
             NOW + timedelta(seconds=20 - seconds_ago)),))


def _verbs(agents: list[SimAgent], *, person: bool, seed: int) -> Counter[str]:
    rng = random.Random(seed)
    verbs: Counter[str] = Counter()
    for _ in range(60):
        verbs.update(a.verb for a in decide(agents, NOW, 1.0, person_available=person,
                                            rng=rng, tuning=Tuning(break_every=1e12)))
    return verbs


def test_simulated_agents_answer_after_a_few_seconds_and_take_most_offers() -> None:
    assert decide([_offered("a", 1.0)], NOW, 1.0, person_available=False,
                  rng=random.Random(0)) == []  # nobody answers within a second
    agents = [_offered(f"a{n}", 3.0) for n in range(40)]
    alone = _verbs(agents, person=False, seed=4)
    assert alone["accept"] > 0.85 * (alone["accept"] + alone["reject"])
    # While a person's agent is available, the simulated ones leave them about a third.
    shared = _verbs(agents, person=True, seed=4)
    share = shared["reject"] / (shared["accept"] + shared["reject"])
    assert 0.2 < share < 0.5, shared
    expired = SimAgent("late", "available", NOW, (
        Held("t", "reserved", "voice", "contact", NOW - timedelta(seconds=30),
             NOW - timedelta(seconds=10)),))
    assert not decide([expired], NOW, 1.0, person_available=False, rng=random.Random(0),
                      tuning=Tuning(break_every=1e12))


def test_conversations_end_and_wrap_up_with_a_code() -> None:
    talking = SimAgent("b", "available", NOW, (
        Held("call", "assigned", "voice", "contact", NOW - timedelta(seconds=10)),))
    assert not decide([talking], NOW, 1.0, person_available=False, rng=random.Random(0))
    long_talk = SimAgent("b", "available", NOW, (
        Held("call", "assigned", "voice", "contact", NOW - timedelta(minutes=30)),))
    rng = random.Random(5)
    ends = [a for _ in range(30) for a in decide([long_talk], NOW, 1.0,
                                                  person_available=False, rng=rng)]
    assert ends and {a.verb for a in ends} == {"end"}
    wrapping = SimAgent("b", "available", NOW, (
        Held("call", "wrapping", "voice", "contact", NOW - timedelta(minutes=5)),
        Held("cb", "wrapping", "voice", "callback", NOW - timedelta(minutes=5))))
    done = [a for _ in range(30) for a in decide(
        [wrapping], NOW, 1.0, person_available=False, rng=rng,
        reasons={"call": "invoice"}) if a.verb == "complete"]
    codes = {a.task_id: a for a in done}
    assert codes["call"].disposition in ("invoice_sent", "escalated")
    assert codes["cb"].outcome in ("reached", "no_answer")


def test_agents_come_back_from_breaks_and_sign_in() -> None:
    assert [a.presence for a in decide([SimAgent("c", "offline", NOW)], NOW, 1.0,
                                       person_available=False, rng=random.Random(0))
            ] == ["available"]
    away = SimAgent("c", "away", NOW - timedelta(minutes=20))
    rng = random.Random(6)
    back = [a for _ in range(30) for a in decide([away], NOW, 1.0, person_available=False,
                                                  rng=rng)]
    assert back and back[0].presence == "available"
    just_left = SimAgent("c", "away", NOW - timedelta(seconds=5))
    assert not decide([just_left], NOW, 1.0, person_available=False, rng=rng)
    # Idle agents take a break now and then, never while holding work.
    idle = [SimAgent(f"i{n}", "available", NOW) for n in range(50)]
    breaks = decide(idle, NOW, 60.0, person_available=False, rng=random.Random(8),
                    tuning=Tuning(break_every=300.0))
    assert breaks and {a.presence for a in breaks} == {"away"}
    busy = [_offered(f"x{n}", 0.5) for n in range(50)]
    assert not decide(busy, NOW, 60.0, person_available=False, rng=random.Random(8),
                      tuning=Tuning(break_every=300.0))


def test_only_callers_who_waited_long_hang_up() -> None:
    waiting = [Waiting("short", "voice", "contact", 20.0),
               Waiting("chat", "chat", "contact", 3600.0),
               Waiting("callback", "voice", "callback", 3600.0)] + [
        Waiting(f"long{n}", "voice", "contact", 600.0) for n in range(20)]
    gone = hang_ups(waiting, 60.0, random.Random(1))
    assert gone and all(task.startswith("long") for task in gone)


def test_written_contacts_carry_their_message_and_some_are_upset() -> None:
    from circulo.demo.engine import UPSET

    rng = random.Random(5)
    contacts = [next_contact(rng, CUSTOMERS) for _ in range(600)]
    written = [c for c in contacts if c.channel in ("chat", "email")]
    assert written and all(c.message and c.message["text"] for c in written)
    assert all(c.message is None for c in contacts if c.channel == "voice")
    assert all("subject" in (c.message or {}) for c in written if c.channel == "email")
    upset = {text for lines in UPSET.values() for *_, text in lines}
    share = sum(1 for c in written if (c.message or {})["text"] in upset) / len(written)
    assert 0.15 < share < 0.45
