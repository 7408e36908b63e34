"""A server killed mid-batch leaves no half-written batch and loses nothing acknowledged;
resending after the restart completes the data without duplicates."""

from __future__ import annotations

import signal
import threading
import time
from typing import Any

import httpx
from sqlalchemy import text

from circulo.context import AppContext
from tests.conftest import make_key
from tests.live import start_server

BATCH = 200


def _batch(n: int) -> dict[str, Any]:
    return {"events": [
        {"type": "call.completed", "source": "pbx", "id": f"crash-{n}-{i}", "channel": "voice",
         "identifiers": {"phone": f"+346{n % 100:02d}{i:06d}"}}
        for i in range(BATCH)
    ]}


def _counts(ctx: AppContext) -> dict[int, int]:
    with ctx.db.engine.connect() as conn:
        rows = conn.execute(text("SELECT client_id FROM events WHERE client_id LIKE 'crash-%'"))
        counts: dict[int, int] = {}
        for (client_id,) in rows:
            n = int(client_id.split("-")[1])
            counts[n] = counts.get(n, 0) + 1
    return counts


def test_kill_mid_batch_keeps_batches_whole(ctx: AppContext) -> None:
    key = make_key(ctx, ["ingest"])
    headers = {"Authorization": f"Bearer {key}"}
    proc, base = start_server(ctx.db.url)
    acknowledged: list[int] = []
    sent = 0
    stop = threading.Event()

    def send() -> None:
        nonlocal sent
        with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
            n = 0
            while not stop.is_set():
                sent = n + 1
                try:
                    response = client.post("/v1/events", json=_batch(n))
                except httpx.HTTPError:
                    return
                if response.status_code == 200:
                    acknowledged.append(n)
                n += 1

    thread = threading.Thread(target=send)
    thread.start()
    deadline = time.monotonic() + 20
    while len(acknowledged) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.13)  # land somewhere inside a batch
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    stop.set()
    thread.join()

    counts = _counts(ctx)
    assert acknowledged, "the server never answered"
    for n in acknowledged:
        assert counts.get(n) == BATCH, f"acknowledged batch {n} incomplete: {counts.get(n)}"
    assert all(c == BATCH for c in counts.values()), f"half-written batch: {counts}"

    # After a restart, resending everything completes the data and duplicates nothing.
    proc, base = start_server(ctx.db.url)
    try:
        with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
            for n in range(sent):
                body = client.post("/v1/events", json=_batch(n)).json()
                assert body["accepted"] + body["duplicates"] == BATCH
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    counts = _counts(ctx)
    assert counts == dict.fromkeys(range(sent), BATCH)
