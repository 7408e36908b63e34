"""The living demo on a real database with the demo company loaded: simulated contacts of
every channel enter the queues through the real intake path, the simulated agents finish
most of them, a person who goes available gets an offer within a minute, one process
simulates at a time, and the demo users sign in with the passwords kept for them."""

from __future__ import annotations

import random
import stat
from collections import Counter
from datetime import timedelta
from pathlib import Path

from rich.console import Console

from circulo.auth import users
from circulo.clock import FixedClock
from circulo.context import AppContext
from circulo.demo.accounts import HUMAN_AGENT, USERS_FILE, ensure_users
from circulo.demo.engine import Action
from circulo.demo.loader import DEMO_ROUTING, load_demo
from circulo.demo.traffic import DemoTraffic
from circulo.routing import service as routing
from circulo.routing.models import TaskRow
from circulo.routing.policy import parse_yaml


def _demo(ctx: AppContext, data_dir: Path) -> None:
    load_demo(ctx, customers=60, console=Console(quiet=True))
    with ctx.db.unit_of_work() as session:
        routing.apply_policy(session, parse_yaml(DEMO_ROUTING.read_text("utf-8")),
                             DEMO_ROUTING.read_text("utf-8"), actor="test",
                             now=ctx.clock.now(), cache=routing.PolicyCache())
        ensure_users(session, data_dir, ctx.clock.now())


def _run(traffic: DemoTraffic, clock: FixedClock, seconds: int) -> None:
    for _ in range(seconds):
        clock.advance(timedelta(seconds=1))
        traffic.tick()


def _tasks(ctx: AppContext) -> list[TaskRow]:
    with ctx.db.unit_of_work(write=False) as session:
        return list(routing.find_tasks(session, states=None, queue=None, customer_id=None,
                                       agent_id=None, limit=5000))


def test_the_demo_moves_and_a_person_gets_an_offer_within_a_minute(
        ctx: AppContext, clock: FixedClock, tmp_path: Path) -> None:
    _demo(ctx, tmp_path)
    assert (ctx.settings.demo_traffic_min_seconds, ctx.settings.demo_traffic_max_seconds) \
        == (5.0, 20.0)  # the demo's own pace
    traffic = DemoTraffic(ctx, random.Random(11))
    _run(traffic, clock, 600)
    tasks = _tasks(ctx)
    demo = [t for t in tasks if t.source == "demo"]
    assert {(t.channel, t.kind) for t in demo} >= {
        ("voice", "contact"), ("chat", "contact"), ("email", "contact"), ("voice", "callback")}
    assert all(t.agent_id != HUMAN_AGENT for t in tasks), "nobody simulates the person"
    states = Counter(t.state for t in demo)
    assert states["completed"] >= 0.7 * len(demo), states
    assert states["pending"] <= 5, states  # the board moves: queues do not grow without end
    with ctx.db.unit_of_work(write=False) as session:
        completed_by = Counter(t.agent_id for t in tasks if t.state == "completed")
        assert len(completed_by) >= 3, completed_by  # several simulated agents work
        maria = {t.identifiers.get("phone") for t in demo
                 if "".join(c for c in str(t.identifiers.get("phone")) if c.isdigit())
                 .endswith("600123456")}
        assert maria, "María López calls now and then"
        with_customer = [t for t in demo if t.customer_id]
        assert len(with_customer) >= 0.7 * len(demo)  # resolved to demo customers
        completed = [t for t in demo if t.state == "completed" and t.kind == "contact"]
        assert all(t.result.get("disposition") for t in completed)

    # A person signs in as the demo's agent and goes available: an offer within a minute.
    with ctx.db.unit_of_work() as session:
        routing.set_presence(session, HUMAN_AGENT, "available", None, clock.now())
    offered_after = None
    for second in range(1, 61):
        clock.advance(timedelta(seconds=1))
        with ctx.db.unit_of_work() as session:  # the desktop's heartbeat
            routing.heartbeat(session, HUMAN_AGENT, clock.now())
        traffic.tick()
        with ctx.db.unit_of_work(write=False) as session:
            if routing.tasks_in_hand(session, HUMAN_AGENT):
                offered_after = second
                break
    assert offered_after is not None, "no offer reached the person within 60 s"



def test_one_process_simulates_at_a_time(ctx: AppContext, clock: FixedClock,
                                         tmp_path: Path) -> None:
    _demo(ctx, tmp_path)
    first, second = DemoTraffic(ctx, random.Random(1)), DemoTraffic(ctx, random.Random(2))
    clock.advance(timedelta(seconds=1))
    assert first.tick().simulated
    assert not second.tick().simulated
    first.release()
    clock.advance(timedelta(seconds=1))
    assert second.tick().simulated


def test_no_traffic_without_the_demo_policy(ctx: AppContext, clock: FixedClock) -> None:
    """On a database that is not the demo's (no demo queues), the loop does nothing."""
    report = DemoTraffic(ctx, random.Random(1)).tick()
    assert not report.simulated and not report.created
    assert _tasks(ctx) == []


def test_demo_users_keep_their_random_passwords(ctx: AppContext, tmp_path: Path) -> None:
    now = ctx.clock.now()
    with ctx.db.unit_of_work() as session:
        first = ensure_users(session, tmp_path, now)
    with ctx.db.unit_of_work() as session:
        again = ensure_users(session, tmp_path, now)
    assert first == again
    assert {c.role for c in first} == {"agent", "supervisor", "admin"}
    assert len({c.password for c in first}) == 3
    kept = tmp_path / USERS_FILE
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    times = users.SessionTimes(idle=timedelta(hours=1), lifetime=timedelta(hours=8))
    with ctx.db.unit_of_work() as session:
        for person in first:
            signed = users.sign_in(session, person.username, person.password, None, now, times)
            assert signed.user.role == person.role
        agent = users.find_user(session, "agent")
        supervisor = users.find_user(session, "supervisor")
        assert agent is not None and agent.agent_id == HUMAN_AGENT
        assert supervisor is not None and supervisor.agent_id is None
    # A lost file (or a password changed by hand): new random passwords, kept again.
    kept.unlink()
    with ctx.db.unit_of_work() as session:
        fresh = ensure_users(session, tmp_path, now)
    assert {c.password for c in fresh}.isdisjoint({c.password for c in first})
    assert kept.exists()


def test_a_withdrawn_offer_or_a_second_accept_is_skipped_and_the_rest_stands(
        ctx: AppContext, clock: FixedClock, tmp_path: Path) -> None:
    """A simulated agent acts on an offer that is no longer theirs (withdrawn, timed out or
    already accepted): that action changes nothing, the others of the tick still apply."""
    _demo(ctx, tmp_path)
    traffic = DemoTraffic(ctx, random.Random(5))
    with ctx.db.unit_of_work() as session:
        routing.set_presence(session, "lucia", "available", None, clock.now())
    clock.advance(timedelta(seconds=1))
    report = traffic.tick()  # a contact arrives and is offered
    with ctx.db.unit_of_work(write=False) as session:
        offered = [task for agent in ("lucia", "jorge", "carmen", "pablo", "sarah")
                   for task in routing.tasks_in_hand(session, agent)
                   if task.state == "reserved" and task.id in report.created]
    assert offered, report
    task = offered[0]
    holder = task.agent_id or ""
    other = "jorge" if holder != "jorge" else "carmen"
    with ctx.db.unit_of_work(write=False) as session:
        config = routing.PolicyCache().get(session)
    with ctx.db.unit_of_work() as session:
        applied = traffic.apply(session, [
            Action("accept", other, task.id),  # not offered to them
            Action("accept", holder, task.id),
            Action("accept", holder, task.id),  # a second click
            Action("presence", other, presence="away"),
        ], config, clock.now())
    assert applied == [Action("accept", holder, task.id),
                       Action("presence", other, presence="away")]
    with ctx.db.unit_of_work(write=False) as session:
        assert routing.get_task(session, task.id).state == "assigned"
        assert routing.get_agent(session, holder).assigned == 1
        assert routing.get_agent(session, other).presence == "away"


def test_the_demos_messages_are_read_and_upset_ones_marked_urgent(
        ctx: AppContext, clock: FixedClock, tmp_path: Path) -> None:
    """S16 in the living demo: its chats and e-mails arrive with their words; the analysis
    worker reads them and finds the upset ones urgent (a task still waiting then is marked
    so; the demo's agents usually take them first)."""
    from sqlalchemy import select

    from circulo.customers.models import Event
    from circulo.textan.worker import worker_of

    _demo(ctx, tmp_path)
    traffic = DemoTraffic(ctx, random.Random(4))
    worker = worker_of(ctx)
    analysed = 0
    for _ in range(600):
        clock.advance(timedelta(seconds=1))
        traffic.tick()
        analysed += worker.run_once().analysed
    with ctx.db.unit_of_work(write=False) as session:
        written = session.scalars(select(Event).where(
            Event.type.in_(["chat.message", "email.received"]), Event.source == "demo")).all()
        assert written and all(e.analysis is not None for e in written)
        derived = session.scalars(select(Event).where(Event.type == "text.analyzed")).all()
        assert analysed >= len(written) and len(derived) >= len(written)
        urgent = [e for e in derived if (e.properties or {}).get("urgent")]
        assert urgent and {e.channel for e in urgent} <= {"chat", "email"}
        assert {"es", "en"} <= {(e.properties or {}).get("language") for e in derived}
    marked = [t for t in _tasks(ctx) if t.source == "demo" and t.attributes.get("urgent")]
    assert {t.channel for t in marked} <= {"chat", "email"}
