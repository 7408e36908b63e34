"""The dry run from the command line, consent honoured by notifications, and timers that
survive a restart of the runner."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from circulo.cli import app as cli
from circulo.clock import FixedClock
from circulo.config import Settings, get_settings
from circulo.db import Database
from circulo.journeys.runner import Runner
from circulo.migrate import upgrade
from circulo.wiring import build_context
from tests.journeys.helpers import EXAMPLES, center, customer, instances, load, of_type, run

S18 = str(EXAMPLES / "s18-card-use-and-fraud.yaml")


@pytest.fixture
def cli_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'try.db'}"
    monkeypatch.setenv("CIRCULO_DATABASE_URL", url)
    monkeypatch.setenv("CIRCULO_EVENT_TYPES", json.dumps(["card.used"]))
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


def test_journeys_try_replays_history_from_the_command_line(cli_db: str) -> None:
    ctx = build_context(Settings(database_url=cli_db), FixedClock(datetime.now(UTC)))
    upgrade(ctx.db.engine)
    from circulo.ingest import service as ingest

    recent = datetime.now(UTC) - timedelta(days=3)
    with ctx.db.unit_of_work() as session:
        ingest.ingest(session, {"events": [
            {"type": "card.used", "source": "bank", "occurred_at": (recent + timedelta(
                minutes=n)).isoformat(), "identifiers": {"phone": f"+3460000010{n % 3}"},
             "properties": {"amount": 10 * n, "risk_score": 0.9 if n == 4 else 0.1}}
            for n in range(6)]}, settings=ctx.settings, policies=ctx.policies,
            now=datetime.now(UTC), actor="test")
    ctx.db.dispose()
    env = {"LANG": "en_GB.UTF-8", "LC_ALL": "", "LC_MESSAGES": "", "LANGUAGE": ""}
    result = CliRunner().invoke(cli, ["journeys", "try", S18, "--since", "30d"], env=env)
    assert result.exit_code == 0, result.output
    assert "6 events replayed" in result.output
    assert "Would have entered: 6 (3 customers)" in result.output
    assert '"notify": 6' in result.output and '"routing_override": 1' in result.output
    assert "Nothing was sent or changed" in " ".join(result.output.split())
    short = CliRunner().invoke(cli, ["journeys", "try", S18, "--since", "1d"], env=env)
    assert "Would have entered: 0" in short.output
    # Nothing acted: no instance, no action, no message.
    ctx = build_context(Settings(database_url=cli_db), FixedClock(datetime.now(UTC)))
    with ctx.db.unit_of_work() as session:
        from circulo.journeys import repository as repo
        assert repo.instances(session, journey=None, customer_id=None, status=None,
                              limit=10) == []
    ctx.db.dispose()


def test_a_broken_journey_is_refused_with_line_and_reason(cli_db: str, tmp_path: Path
                                                          ) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(Path(S18).read_text("utf-8").replace("card.used", "card.usd"), "utf-8")
    result = CliRunner().invoke(cli, ["journeys", "try", str(broken)], env={"LANG": "C"})
    assert result.exit_code == 2
    assert "line 7: trigger: unknown event type 'card.usd'" in " ".join(result.output.split())


def test_consent_is_never_bypassed(database: Database, clock: FixedClock) -> None:
    with center(database, clock) as api:
        load(api, "s18-card-use-and-fraud.yaml")
        load(api, "s15-yearly-occasion-reminder.yaml")
        who = customer(api, "+34600000099", first_name="Sol", email="sol@example.com",
                       preferred_channel="email")
        api.send({"type": "consent.updated", "source": "web", "identifiers": {
            "customer_id": who}, "consent": [{"channel": "sms", "purpose": "service",
                                              "granted": False}]})
        api.send({"type": "card.used", "source": "bank", "id": "c1", "identifiers": {
            "customer_id": who}, "properties": {"amount": 5, "risk_score": 0.1}})
        # Marketing needs a yes: she never gave one for anything.
        api.send({"type": "order.completed", "source": "shop", "id": "o1", "identifiers": {
            "customer_id": who}, "properties": {"occasion_date": "2020-12-10"}})
        run(api)
        clock.advance(timedelta(days=30))
        run(api)
        assert of_type(api, who, "notification.requested") == []
        skipped = of_type(api, who, "notification.skipped")
        reasons = sorted(e["properties"]["reason"] for e in skipped)
        assert reasons[0].startswith("email:no_consent"), reasons
        assert reasons[1] == "sms:consent_denied", reasons
        [card] = [i for i in instances(api, "card-use-and-fraud")]
        assert card["actions"][0]["outcome"] == "skipped"


def test_timers_survive_a_restart_and_fire_once(database: Database, clock: FixedClock
                                                ) -> None:
    with center(database, clock) as api:
        load(api, "s15-yearly-occasion-reminder.yaml")
        who = customer(api, "+34600000098", first_name="Ada", email="ada@example.com")
        api.send({"type": "consent.updated", "source": "web", "identifiers": {
            "customer_id": who}, "consent": [{"channel": "email", "purpose": "marketing",
                                              "granted": True}]})
        api.send({"type": "order.completed", "source": "shop", "id": "o1", "identifiers": {
            "customer_id": who}, "properties": {"occasion_date": "2020-12-10"}})
        run(api)
        clock.advance(timedelta(days=20))
        # Two runners, as after a restart (or two processes): the lease lets one fire it.
        settings = Settings(database_url=database.url, event_types=["order.completed"])
        first = Runner(build_context(settings, clock, db=database))
        second = Runner(build_context(settings, clock, db=database))
        assert second.run_once().timers == 0 or first.run_once().timers == 0
        first.run_until_idle()
        second.run_until_idle()
        assert len(of_type(api, who, "notification.requested")) == 1
