"""Surveys: the console's live CSAT/NPS over a month of answers, and the link check.

1. ``scoreboard`` (sums in the database, by agent, queue, site and reason) over N responses,
   against the baseline of reading every answer into Python and summing there; median of 5.
2. Opening a link: the signature check alone (a tampered or invented token, refused before
   the database) against the full check of a good token (signature + row + hash compare),
   per call, median of 5 rounds.

    python bench/surveys_bench.py [--responses 100000] [--database-url postgresql+psycopg://...]

Without ``--database-url`` a new SQLite file under bench/results/.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert, select

from circulo.config import Settings
from circulo.db import Database
from circulo.migrate import upgrade
from circulo.surveys import engine, figures, service
from circulo.surveys.models import SurveyInvitation, SurveyResponse

START = datetime(2026, 11, 1, tzinfo=UTC)
AGENTS = [f"agent{n:03d}" for n in range(100)]
SITES = ("madrid", "sevilla", "leeds", "remote")
QUEUES = ("atencion", "vip", "ventas", "bajas")
REASONS = ("factura", "tarjeta", "envio", "baja", "otro")


def fill(db: Database, responses: int, seed: int = 17) -> None:
    rng = random.Random(seed)
    rows = []
    for n in range(responses):
        agent = rng.choice(AGENTS)
        rows.append({
            "id": f"svr_{n:032d}", "task_id": f"t{n:031d}", "invitation_id": None,
            "survey": "after-contact", "customer_id": f"c{n % 20000:031d}", "agent_id": agent,
            "queue": rng.choice(QUEUES), "site": SITES[hash(agent) % len(SITES)],
            "reason": rng.choice(REASONS), "channel": rng.choice(("web", "ivr")),
            "language": "es", "csat": rng.randint(1, 5), "nps": rng.randint(0, 10),
            "comment": None, "answered_at": START + timedelta(seconds=rng.uniform(0, 30 * 86400))})
    with db.unit_of_work() as session:
        for i in range(0, len(rows), 5000):
            session.execute(insert(SurveyResponse.__table__), rows[i:i + 5000])


def python_sums(db: Database, start: datetime, end: datetime) -> dict[str, list[figures.Figures]]:
    """The baseline: every answer read into Python, summed there."""
    r = SurveyResponse
    with db.unit_of_work(write=False) as session:
        answers = session.execute(select(r.agent_id, r.queue, r.site, r.reason, r.csat, r.nps)
                                  .where(r.answered_at >= start, r.answered_at < end)).all()
    out = {}
    for i, dimension in enumerate(service.DIMENSIONS):
        sums: dict[str, list[int]] = defaultdict(lambda: [0] * 6)
        for row in answers:
            s = sums[row[i] or ""]
            csat, nps = row[4], row[5]
            if csat is not None:
                s[0] += 1
                s[1] += csat
                s[2] += csat >= 4
            if nps is not None:
                s[3] += 1
                s[4] += nps >= 9
                s[5] += nps <= 6
        out[dimension] = [figures.figures(figures.Sums(k, *v)) for k, v in sorted(sums.items())]
    return out


def median_seconds(run: object, times: int = 5) -> float:
    samples = []
    for _ in range(times):
        began = time.perf_counter()
        run()  # type: ignore[operator]
        samples.append(time.perf_counter() - began)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--responses", type=int, default=100_000)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    url = args.database_url
    if not url:
        results = Path(__file__).resolve().parent / "results"
        results.mkdir(exist_ok=True)
        path = results / "surveys_bench.db"
        path.unlink(missing_ok=True)
        url = f"sqlite:///{path}"
    db = Database(url)
    upgrade(db.engine)
    with db.unit_of_work() as session:
        session.execute(SurveyResponse.__table__.delete())
        session.execute(SurveyInvitation.__table__.delete())
    fill(db, args.responses)
    today = (START + timedelta(days=29), START + timedelta(days=30))
    month = (START, START + timedelta(days=30))

    def board(span: tuple[datetime, datetime]) -> service.Scoreboard:
        with db.unit_of_work(write=False) as session:
            return service.scoreboard(session, *span)

    assert board(month).by["agent"] == python_sums(db, *month)["agent"]  # same figures
    print(f"{args.responses} responses on {db.dialect}")
    for name, span in (("a day", today), ("the month", month)):
        ours = median_seconds(lambda span=span: board(span))
        base = median_seconds(lambda span=span: python_sums(db, *span))
        print(f"scoreboard, {name}: database sums {ours * 1000:.1f} ms, Python baseline "
              f"{base * 1000:.1f} ms, ratio {base / ours:.1f}x")

    # the links' key derives from the erasure key, generated once into the data directory
    settings = Settings(database_url=url,
                        data_dir=Path(__file__).resolve().parent / "results")
    key = service.link_key(settings)
    now = START
    with db.unit_of_work() as session:
        invitation = SurveyInvitation(
            id="svi_bench", task_id="t-bench", survey="after-contact", customer_id=None,
            agent_id=None, queue=None, site=None, reason=None, channel="sms", language="es",
            status="sent", created_at=now, send_at=now, expires_at=now + timedelta(days=3))
        token = engine.make_token(key, invitation.id, "n" * 32)
        invitation.token_hash = engine.token_hash(token)
        session.add(invitation)
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    calls = 2000

    def refuse() -> None:
        for _ in range(calls):
            assert engine.read_token(key, tampered) is None

    def check() -> None:
        for _ in range(calls // 10):
            with db.unit_of_work(write=False) as session:
                assert service.open_link(session, settings, token, now).state == "open"

    # the survey file is needed for "open": the example
    settings = settings.with_overrides(surveys_file=Path(__file__).resolve().parent.parent
                                       / "examples/surveys/surveys.yaml")
    refused = median_seconds(refuse) / calls
    checked = median_seconds(check) / (calls // 10)
    print(f"link refused by its signature: {refused * 1e6:.1f} µs; a good link checked "
          f"(signature + row + hash): {checked * 1e6:.0f} µs; ratio {checked / refused:.0f}x")


if __name__ == "__main__":
    main()
