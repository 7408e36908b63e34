"""A real HTTP receiver on localhost that records what it gets and answers as told."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    method: str = "POST"

    @property
    def json(self) -> Any:
        return orjson.loads(self.body)


@dataclass
class Receiver:
    url: str
    status: int = 200
    delay: float = 0.0
    fail_when: Callable[[bytes], bool] | None = None  # answer 503 to these bodies
    answer: bytes = b"ok"  # the body of every answer
    location: str | None = None  # sent with the answer (a redirect, with a 3xx status)
    requests: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def ids(self) -> list[str]:
        with self.lock:
            return [r.headers["webhook-id"] for r in self.requests]


@contextmanager
def receiver() -> Iterator[Receiver]:
    state = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            if state.delay:
                time.sleep(state.delay)
            status = state.status
            if state.fail_when is not None and state.fail_when(body):
                status = 503
            if 200 <= status < 300:
                with state.lock:
                    state.requests.append(Received({k.lower(): v for k, v in
                                                    self.headers.items()}, body,
                                                   self.command))
            self.send_response(status)
            self.send_header("content-length", str(len(state.answer)))
            if state.location:
                self.send_header("location", state.location)
            self.end_headers()
            self.wfile.write(state.answer)

        do_PUT = do_PATCH = do_POST

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
