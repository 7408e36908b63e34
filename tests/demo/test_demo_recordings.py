"""The demo's recorded calls: added once, transcribed by the speech worker (English), and the
Spanish one failed with its reason, since the demo configures no Whisper server."""

from __future__ import annotations

from circulo.context import AppContext
from circulo.demo.recordings import load_recordings
from circulo.speech import service
from circulo.speech.worker import worker_of
from tests.speech.audio import needs_espeak


@needs_espeak
def test_the_demo_calls_are_transcribed_or_failed_with_a_reason(ctx: AppContext) -> None:
    assert load_recordings(ctx) == 3
    assert load_recordings(ctx) == 0  # once
    assert worker_of(ctx).run_until_idle() == 3
    with ctx.db.unit_of_work(write=False) as session:
        rows, total = service.search(session)
        by_call = {r.call_id: (r.status, r.reason, (r.transcript or "").lower())
                   for r in rows}
    assert total == 3
    status, _, said = by_call["DEMO-CALL-1"]
    assert status == "transcribed" and "charged twice" in said and "cancel" in said
    assert by_call["DEMO-CALL-2"][0] == "transcribed"
    assert by_call["DEMO-CALL-3"][:2] == ("failed", "unsupported_language")
    assert len(list((ctx.settings.data_dir / "recordings").iterdir())) == 3
