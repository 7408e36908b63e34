"""A minimal ASGI webhook receiver for the outbox benchmark: records (webhook-id, arrival
time) in memory, answers 204 (or 503 while "down"), and reports on GET /stats."""

from __future__ import annotations

import time
from typing import Any

import orjson

STATE: dict[str, Any] = {"down": False, "ids": [], "arrivals": []}


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    path = scope["path"]
    body = b""
    more = True
    while more:
        message = await receive()
        body += message.get("body", b"")
        more = message.get("more_body", False)
    status, payload = 204, b""
    if path == "/stats":
        status = 200
        payload = orjson.dumps({"ids": STATE["ids"], "arrivals": STATE["arrivals"]})
    elif path == "/down":
        STATE["down"] = True
        status = 200
    elif path == "/up":
        STATE["down"] = False
        status = 200
    elif path == "/reset":
        STATE["ids"], STATE["arrivals"] = [], []
        status = 200
    elif STATE["down"]:
        status = 503
    else:
        headers = dict(scope["headers"])
        STATE["ids"].append(headers[b"webhook-id"].decode())
        STATE["arrivals"].append(time.time())
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-length", str(len(payload)).encode())]})
    await send({"type": "http.response.body", "body": payload})
