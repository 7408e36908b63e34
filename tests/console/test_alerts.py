"""The console's alert rules, on snapshots alone: no database, no clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from circulo.console.alerts import Abandons, Contact, Mood, QueueLevel, Thresholds, decide

NOW = datetime(2026, 12, 6, 10, 30, tzinfo=UTC)
RULES = Thresholds(vip_wait_seconds=60, abandons_per_day=3, min_answered_for_sl=5)


def contact(task: str, customer: str | None = "c1", *, state: str = "pending",
            waited: float = 10, vip: bool = False, queue: str = "general") -> Contact:
    return Contact(task, queue, state, customer, f"name of {customer}", vip, False,
                   NOW - timedelta(seconds=waited))


def mood(event: str, customer: str, ago: float) -> Mood:
    return Mood(event, customer, NOW - timedelta(seconds=ago), "chat.message")


def test_a_negative_event_on_a_waiting_or_ongoing_contact_is_an_angry_customer() -> None:
    contacts = [contact("t1", "c1", waited=120), contact("t2", "c2", state="assigned",
                                                         waited=300)]
    alerts = decide(NOW, contacts, [mood("e1", "c1", 30), mood("e2", "c2", 10),
                                    mood("e3", "c2", 5)], [], [], RULES)
    angry = {a.task_id: a for a in alerts if a.kind == "angry"}
    assert set(angry) == {"t1", "t2"}
    assert angry["t2"].value == 2 and angry["t2"].since == NOW - timedelta(seconds=5)
    assert angry["t1"].key == "angry:t1" and angry["t1"].customer_name == "name of c1"


def test_anger_before_the_contact_began_or_about_someone_not_in_a_queue_is_no_alert() -> None:
    contacts = [contact("t1", "c1", waited=60)]
    assert decide(NOW, contacts, [mood("old", "c1", 600), mood("other", "c9", 5)], [], [],
                  RULES) == []


def test_a_vip_waiting_past_the_threshold_raises_an_alert_others_do_not() -> None:
    contacts = [contact("t1", "vip1", vip=True, waited=61),
                contact("t2", "vip2", vip=True, waited=59),
                contact("t3", "std", vip=False, waited=900),
                contact("t4", "vip3", vip=True, waited=900, state="assigned")]
    alerts = decide(NOW, contacts, [], [], [], RULES)
    assert [(a.kind, a.task_id, a.value, a.target) for a in alerts] == [
        ("vip_wait", "t1", 61, 60)]


def test_service_level_below_target_after_enough_answers() -> None:
    levels = [QueueLevel("general", 72.5, 80, 40), QueueLevel("vip", 95, 90, 10),
              QueueLevel("new", 0, 80, 2), QueueLevel("idle", None, 80, 0)]
    alerts = decide(NOW, [], [], levels, [], RULES)
    assert [(a.kind, a.queue, a.value, a.target) for a in alerts] == [
        ("service_level", "general", 72.5, 80)]
    assert alerts[0].key == "service_level:general:2026-12-06T10"


def test_repeated_abandons_from_the_threshold_on() -> None:
    alerts = decide(NOW, [], [], [], [Abandons("c1", "Eva", 3, "t9"),
                                       Abandons("c2", None, 2, "t8")], RULES)
    assert [(a.kind, a.customer_id, a.value, a.key) for a in alerts] == [
        ("abandons", "c1", 3, "abandons:t9")]


def test_acknowledged_alerts_stay_away_and_the_order_is_most_urgent_first() -> None:
    contacts = [contact("t1", "c1", vip=True, waited=200), contact("t2", "c2", vip=True,
                                                                   waited=100)]
    everything = decide(NOW, contacts, [mood("e", "c2", 1)],
                        [QueueLevel("general", 50, 80, 10)], [Abandons("c3", "X", 4, "t7")],
                        RULES)
    assert [a.kind for a in everything] == ["angry", "vip_wait", "vip_wait", "service_level",
                                            "abandons"]
    assert [a.task_id for a in everything if a.kind == "vip_wait"] == ["t1", "t2"]
    later = decide(NOW, contacts, [mood("e", "c2", 1)], [QueueLevel("general", 50, 80, 10)],
                   [Abandons("c3", "X", 4, "t7")], RULES,
                   acknowledged={"angry:t2", "vip_wait:t1"})
    assert [a.key for a in later] == ["vip_wait:t2", "service_level:general:2026-12-06T10",
                                      "abandons:t7"]


def test_an_urgent_angry_message_comes_first_and_says_so() -> None:
    """Analysis on ingest marks a negative message urgent too (a threat to leave, a lawyer):
    that contact's alert is listed before other angry customers, however many lines they
    wrote, and keeps the same key (an acknowledgement still holds)."""
    contacts = [contact("t1", "c1", waited=120), contact("t2", "c2", waited=120)]
    moods = [mood("e1", "c1", 30), mood("e2", "c1", 20), mood("e3", "c1", 10),
             Mood("e4", "c2", NOW - timedelta(seconds=5), "text.analyzed", urgent=True)]
    alerts = decide(NOW, contacts, moods, [], [], RULES)
    assert [(a.task_id, a.urgent, a.value) for a in alerts] == [("t2", True, 1),
                                                               ("t1", False, 3)]
    assert alerts[0].key == "angry:t2"
    assert decide(NOW, contacts, moods, [], [], RULES, acknowledged={"angry:t2"})[0].task_id \
        == "t1"
