"""Recorded calls for the demo (S24): a few calls spoken by espeak-ng, uploaded as a
telephony system would, so the speech worker of the serving process transcribes them and
the supervisor finds them under Recordings. One is in Spanish: with no Whisper server
configured it ends failed, with its reason, as it would in production."""

from __future__ import annotations

from dataclasses import dataclass

from circulo.context import AppContext
from circulo.ids import new_id
from circulo.speech import service as speech
from circulo.speech.engines import synthesizer_for
from circulo.speech.model import SpeechError


@dataclass(frozen=True, slots=True)
class DemoCall:
    identifiers: dict[str, object]
    language: str
    said: str
    call_id: str


CALLS = (
    DemoCall({"external_ids": {"crm": "CRM-000001"}}, "en",
             "Hello, this is Maria Lopez. I was charged twice for the delivery of my sofa. "
             "This is the third time I am calling about it, and if it is not refunded this "
             "week I will cancel my account.", "DEMO-CALL-1"),
    DemoCall({"external_ids": {"crm": "CRM-000002"}}, "en",
             "Good afternoon. I would like to know when my order will arrive. The tracking "
             "page has not changed for a week. Thank you very much.", "DEMO-CALL-2"),
    DemoCall({"external_ids": {"crm": "CRM-000003"}}, "es",
             "Buenas tardes, quería cambiar la dirección de entrega de mi pedido.",
             "DEMO-CALL-3"),
)


def load_recordings(ctx: AppContext) -> int:
    """The demo calls, once (their audio under ``<data_dir>/recordings``); how many were
    added. Without espeak-ng there is nothing to record: none are added."""
    with ctx.db.unit_of_work(write=False) as session:
        if speech.search(session, limit=1)[1]:
            return 0
    synthesizer = synthesizer_for(ctx.settings)
    added = 0
    for call in CALLS:
        try:
            audio = synthesizer.synthesize(call.said, language=call.language)
        except SpeechError:
            return added
        recording_id = new_id()
        path = speech.folder(ctx.settings) / recording_id
        path.write_bytes(audio)
        with ctx.db.unit_of_work() as session:
            speech.accept(session, speech.NewRecording(call.language, call.identifiers,
                                                       call.call_id),
                          recording_id=recording_id, path=path, size=len(audio),
                          content_type="audio/wav", settings=ctx.settings,
                          policies=ctx.policies, now=ctx.clock.now(), actor="demo")
        added += 1
    return added
