"""A fake CRM for trying the Círculo widget: its contact page (index.html) with the widget's
script tag, the backend route that mints the widget token, and the two REST routes the
``generic_rest`` connector logs wrap-ups to (examples/crm-widget/connectors.yaml).

    python examples/crm-widget/serve.py --circulo http://127.0.0.1:8000 \\
        --key ck_… --user ana --port 8100

then open http://localhost:8100/ (or ``/?lang=en``). ``localhost``: another site than
Círculo's 127.0.0.1, as a real CRM is. ``--key``: a Círculo API key with the ``widget``
scope (``circulo keys create --name crm --scope widget``), which stays here, in the CRM's
backend, never in the page. ``--user``: the Círculo user the signed-in CRM user is (a real
CRM maps its own users to Círculo's).

Standard library only. The page is served with a strict Content-Security-Policy that allows
Círculo's origin and nothing else, as a careful CRM would.
"""

from __future__ import annotations

import argparse
import json
import re
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

HERE = Path(__file__).parent
FILES = {"/crm.css": ("crm.css", "text/css"), "/crm.js": ("crm.js", "text/javascript")}
_ACTIVITIES = re.compile(r"^/api/contacts/([A-Za-z0-9_-]{1,64})/activities$")


@dataclass
class Crm:
    """What the fake CRM knows: where Círculo is, its key, and the activities logged."""

    circulo: str
    key: str
    user: str
    activities: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def policy(self) -> str:
        return (f"default-src 'self'; script-src 'self' {self.circulo}; "
                f"style-src 'self' {self.circulo}; connect-src 'self' {self.circulo}; "
                "img-src 'self'; base-uri 'none'; object-src 'none'; frame-ancestors 'none'")

    def mint(self) -> dict[str, Any]:
        """The CRM's backend asks Círculo for a widget token for its signed-in user."""
        request = urllib.request.Request(  # noqa: S310 - Círculo's URL, from the operator
            f"{self.circulo}/v1/widget-tokens", method="POST",
            data=json.dumps({"user": self.user}).encode(),
            headers={"Authorization": f"Bearer {self.key}",
                     "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
            body: dict[str, Any] = json.loads(answer.read())
        return {"token": body["token"], "expires_in": body["expires_in"]}


def handler_for(crm: Crm) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return

        def _send(self, status: int, body: bytes, kind: str,
                  headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def _json(self, status: int, value: Any) -> None:
            self._send(status, json.dumps(value).encode(), "application/json")

        def do_GET(self) -> None:
            path, _, query = self.path.partition("?")
            if path == "/":
                # ?lang=en (the widget's language) and ?poll=ms, to try them
                asked = dict(parse_qsl(query))
                lang = asked.get("lang", "") if asked.get("lang") in ("es", "en") else ""
                poll = asked.get("poll", "") if asked.get("poll", "").isdigit() else "1500"
                page = (HERE / "index.html").read_text().replace("__CIRCULO__", crm.circulo) \
                    .replace("__LANG__", lang).replace("__POLL__", poll)
                self._send(200, page.encode(), "text/html; charset=utf-8",
                           {"Content-Security-Policy": crm.policy()})
            elif path in FILES:
                name, kind = FILES[path]
                self._send(200, (HERE / name).read_bytes(), f"{kind}; charset=utf-8")
            elif path == "/circulo-token":
                try:
                    self._json(200, crm.mint())
                except (urllib.error.URLError, KeyError, ValueError) as exc:
                    self._json(502, {"error": f"Círculo refused the token: {exc}"})
            elif path == "/favicon.ico":
                self._send(204, b"", "image/x-icon")
            elif path == "/api/activities":
                with crm.lock:
                    self._json(200, list(crm.activities))
            else:
                self._json(404, {"error": "not found"})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            try:
                body = json.loads(self.rfile.read(min(length, 65536)) or b"{}")
            except ValueError:
                self._json(400, {"error": "not JSON"})
                return
            found = _ACTIVITIES.match(self.path)
            if found:
                with crm.lock:
                    activity = {"id": f"A-{len(crm.activities) + 1}",
                                "contact": found.group(1), **body}
                    crm.activities.append(activity)
                self._json(201, {"id": activity["id"]})
            elif self.path == "/api/contacts":
                self._json(201, {"id": "C-NEW"})
            else:
                self._json(404, {"error": "not found"})

    return Handler


def make_server(crm: Crm, port: int, host: str = "127.0.0.1") -> ThreadingHTTPServer:
    return ThreadingHTTPServer((host, port), handler_for(crm))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--circulo", default="http://127.0.0.1:8000")
    parser.add_argument("--key", required=True, help="a Círculo API key with the widget scope")
    parser.add_argument("--user", required=True, help="the Círculo user name of the agent")
    parser.add_argument("--port", type=int, default=8100)
    options = parser.parse_args()
    server = make_server(Crm(options.circulo.rstrip("/"), options.key, options.user),
                         options.port)
    print(f"Acme CRM at http://localhost:{options.port}/ (Ctrl-C stops it)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        server.server_close()


if __name__ == "__main__":
    main()
