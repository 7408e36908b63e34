"""A small local stand-in for an OpenAI-compatible Whisper server: it answers
``POST /v1/audio/transcriptions`` in the documented ``verbose_json`` shape (no model runs;
what it "hears" is set by the test), and records what it was sent."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson


@dataclass
class FakeWhisper:
    url: str = ""
    answer: dict[str, Any] = field(default_factory=lambda: {
        "task": "transcribe", "language": "spanish", "duration": 3.2,
        "text": "Hola, quiero darme de baja.",
        "segments": [{"id": 0, "seek": 0, "start": 0.0, "end": 1.4, "text": " Hola,"},
                     {"id": 1, "seek": 0, "start": 1.4, "end": 3.2,
                      "text": " quiero darme de baja."}]})
    raw: bytes | None = None  # sent instead of the JSON answer
    status: int = 200
    delay: float = 0.0
    forms: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)


def _form(content_type: str, body: bytes) -> dict[str, Any]:
    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body)
    fields: dict[str, Any] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        fields[str(name)] = payload if part.get_filename() else payload.decode()
    return fields


@contextmanager
def fake_whisper() -> Iterator[FakeWhisper]:
    state = FakeWhisper()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            if self.path != "/v1/audio/transcriptions":
                self.send_response(404)
                self.end_headers()
                return
            state.forms.append(_form(self.headers["content-type"], body))
            state.headers.append({k.lower(): v for k, v in self.headers.items()})
            if state.delay:
                time.sleep(state.delay)
            out = state.raw if state.raw is not None else orjson.dumps(state.answer)
            self.send_response(state.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            try:
                self.wfile.write(out)
            except OSError:
                pass

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
