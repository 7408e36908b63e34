"""Local stand-ins for HubSpot and Salesforce, answering the vendors' official Python clients
over real HTTP(S) with the payload shapes the vendors document (the JSON files beside this
module). Neither service is reachable from the test machine; these servers keep just enough
state (contacts, engagements, lists) for the connectors' find → create → log sequence.
Twilio's client is given ``FakeTwilio`` as its HTTP layer instead (its ``http_client`` hook):
the requests it would send are recorded and answered with Twilio's documented payloads.
"""

from __future__ import annotations

import copy
import ssl
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qs, unquote, urlsplit

import orjson
from twilio.http import HttpClient
from twilio.http.response import Response as TwilioResponse

HERE = Path(__file__).parent


def payload(vendor: str, name: str) -> Any:
    return orjson.loads((HERE / vendor / name).read_bytes())


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any


Answer = tuple[int, Any]
Handler = Callable[[Request], Answer]


@contextmanager
def serve(handler: Handler, tls: ssl.SSLContext | None = None) -> Iterator[str]:
    class Http(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go out as two writes

        def _handle(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("content-length") or 0)
            raw = self.rfile.read(length) if length else b""
            request = Request(self.command, unquote(parts.path), parse_qs(parts.query),
                              {k.lower(): v for k, v in self.headers.items()},
                              orjson.loads(raw) if raw else None)
            status, body = handler(request)
            data = b"" if body is None else orjson.dumps(body)
            self.send_response(status)
            self.send_header("content-type", "application/json;charset=UTF-8")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PATCH = do_DELETE = _handle

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Http)
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    scheme = "https" if tls else "http"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"{scheme}://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


# -- HubSpot --------------------------------------------------------------------------------------
@dataclass
class FakeHubSpot:
    token: str = "pat-eu1-test-token"
    url: str = ""
    fail_with: int | None = None
    contacts: dict[str, dict[str, Any]] = field(default_factory=dict)
    engagements: list[dict[str, Any]] = field(default_factory=list)
    lists: dict[str, list[str]] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)
    next_id: int = 512

    def _new_id(self) -> str:
        self.next_id += 1
        return str(self.next_id)

    def _object(self, object_id: str, properties: dict[str, Any]) -> dict[str, Any]:
        body: dict[str, Any] = payload("hubspot", "object_201.json")
        body["id"] = object_id
        body["properties"] = {**body["properties"], "hs_object_id": object_id, **properties}
        return body

    def _error(self, status: int) -> Answer:
        name = {401: "unauthorized_401.json", 404: "not_found_404.json",
                409: "contact_conflict_409.json", 429: "rate_limited_429.json"}.get(status)
        return status, payload("hubspot", name) if name else {"status": "error",
                                                              "message": "Internal error"}

    def _matches(self, contact: dict[str, Any], groups: list[dict[str, Any]]) -> bool:
        return any(all(contact.get(f["propertyName"]) == f["value"] for f in g["filters"])
                   for g in groups)

    def __call__(self, request: Request) -> Answer:
        self.requests.append(request)
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return self._error(401)
        if self.fail_with:
            return self._error(self.fail_with)
        parts = request.path.strip("/").split("/")  # crm v3 objects|lists ...
        if parts[2] == "lists":
            members = self.lists.get(parts[3])
            if members is None:
                return self._error(404)
            start = int(request.query.get("after", ["0"])[0])
            limit = int(request.query.get("limit", ["100"])[0])
            page = payload("hubspot", "memberships_200.json")
            stamp = page["results"][0]["membershipTimestamp"]
            page["results"] = [{"recordId": r, "membershipTimestamp": stamp}
                               for r in members[start:start + limit]]
            page["total"] = len(members)
            if start + limit < len(members):
                page["paging"] = {"next": {"after": str(start + limit)}}
            else:
                page.pop("paging")
            return 200, page
        object_type = parts[3]
        if request.method == "POST" and parts[-1] == "search":
            found = [(i, c) for i, c in self.contacts.items()
                     if self._matches(c, request.body["filterGroups"])]
            page = payload("hubspot", "search_200.json")
            page["total"] = len(found)
            page["results"] = [self._object(i, c) for i, c in found[:request.body["limit"]]]
            page.pop("paging")
            return 200, page
        if request.method == "POST" and parts[-1] == "read":
            batch = payload("hubspot", "batch_read_200.json")
            batch["results"] = [self._object(i["id"], self.contacts[i["id"]])
                                for i in request.body["inputs"] if i["id"] in self.contacts]
            return 200, batch
        if request.method == "POST" and object_type == "contacts":
            properties = request.body["properties"]
            for contact_id, contact in self.contacts.items():
                if properties.get("email") and contact.get("email") == properties["email"]:
                    conflict = payload("hubspot", "contact_conflict_409.json")
                    conflict["message"] = f"Contact already exists. Existing ID: {contact_id}"
                    return 409, conflict
            contact_id = self._new_id()
            self.contacts[contact_id] = dict(properties)
            return 201, self._object(contact_id, properties)
        if request.method == "POST":
            object_id = self._new_id()
            self.engagements.append({"type": object_type, "id": object_id,
                                     "properties": request.body["properties"],
                                     "associations": request.body.get("associations")})
            return 201, self._object(object_id, request.body["properties"])
        if request.method == "GET" and object_type == "contacts" and len(parts) == 5:
            contact = self.contacts.get(parts[4])
            if contact is None:
                return self._error(404)
            wanted = request.query.get("properties") or list(contact)
            return 200, self._object(parts[4], {k: v for k, v in contact.items()
                                                if k in wanted})
        return 404, {"status": "error", "message": f"no route {request.path}"}


# -- Salesforce -----------------------------------------------------------------------------------
@dataclass
class FakeSalesforce:
    token: str = "00D5g000004Eqj3!AQ4AQFakeSessionToken"
    url: str = ""
    version: str = "59.0"
    fail_with: int | None = None
    contacts: dict[str, dict[str, Any]] = field(default_factory=dict)
    tasks: dict[str, dict[str, Any]] = field(default_factory=dict)
    campaigns: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)
    counter: int = 0

    def _new_id(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}5g00000Fk{self.counter:04d}AAA"

    def _record(self, kind: str, record_id: str, fields: dict[str, Any]) -> dict[str, Any]:
        attributes = payload("salesforce", "record_attributes.json")
        attributes["type"] = kind
        attributes["url"] = f"/services/data/v{self.version}/sobjects/{kind}/{record_id}"
        return {"attributes": attributes, "Id": record_id, **fields}

    def _soql(self, soql: str) -> list[dict[str, Any]]:
        if soql.startswith("SELECT Id FROM Contact WHERE Email = "):
            email = soql.split("'")[1]
            return [self._record("Contact", i, {}) for i, c in self.contacts.items()
                    if c.get("Email") == email][:1]
        if "FROM CampaignMember WHERE CampaignId = " in soql:
            campaign = soql.split("'")[1]
            return [{"attributes": {"type": "CampaignMember"}, **m}
                    for m in self.campaigns.get(campaign, [])]
        raise AssertionError(f"unexpected SOQL {soql}")

    def _sosl(self, sosl: str) -> list[dict[str, Any]]:
        digits = "".join(c for c in sosl.split("{", 1)[1].split("}", 1)[0] if c.isdigit())
        return [self._record("Contact", i, {}) for i, c in self.contacts.items()
                if any(digits and "".join(ch for ch in str(c.get(f) or "") if ch.isdigit())
                       .endswith(digits[-9:]) for f in ("Phone", "MobilePhone"))][:1]

    def __call__(self, request: Request) -> Answer:
        self.requests.append(request)
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return 401, payload("salesforce", "invalid_session_401.json")
        if self.fail_with:
            name = {503: "unavailable_503.json", 400: "required_field_400.json"}
            return self.fail_with, payload("salesforce", name.get(self.fail_with,
                                                                  "unavailable_503.json"))
        prefix = f"/services/data/v{self.version}/"
        assert request.path.startswith(prefix), request.path
        rest = request.path[len(prefix):].strip("/").split("/")
        if rest[0] == "query":
            records = self._soql(request.query["q"][0])
            answer = payload("salesforce", "query_200.json")
            answer.update(totalSize=len(records), records=records)
            return 200, answer
        if rest[0] == "search":
            answer = payload("salesforce", "search_200.json")
            answer["searchRecords"] = self._sosl(request.query["q"][0])
            return 200, answer
        kind = rest[1]
        store = {"Contact": self.contacts, "Task": self.tasks}[kind]
        if request.method == "POST" and len(rest) == 2:
            if kind == "Contact" and not request.body.get("LastName"):
                return 400, payload("salesforce", "required_field_400.json")
            record_id = self._new_id({"Contact": "003", "Task": "00T"}[kind])
            store[record_id] = dict(request.body)
            created = payload("salesforce", "create_201.json")
            created["id"] = record_id
            return 201, created
        if request.method == "PATCH" and len(rest) == 4:  # upsert by external id
            field_name, value = rest[2], rest[3]
            for record_id, record in store.items():
                if record.get(field_name) == value:
                    record.update(request.body)
                    return 200, {**payload("salesforce", "upsert_201.json"),
                                 "id": record_id, "created": False}
            record_id = self._new_id("00T")
            store[record_id] = {**request.body, field_name: value}
            return 201, {**payload("salesforce", "upsert_201.json"), "id": record_id}
        if request.method == "GET" and len(rest) == 3:
            record = store.get(rest[2])
            if record is None:
                return 404, [{"errorCode": "NOT_FOUND",
                              "message": "The requested resource does not exist"}]
            return 200, self._record(kind, rest[2], copy.deepcopy(record))
        return 404, [{"errorCode": "NOT_FOUND", "message": f"no route {request.path}"}]


# -- Twilio ---------------------------------------------------------------------------------------
@dataclass
class TwilioCall:
    method: str
    url: str
    data: dict[str, Any]
    auth: tuple[str, str] | None


class FakeTwilio(HttpClient):
    """The official client's HTTP layer, replaced: records each call and answers ``status``
    with its captured payload (or ``file``); a 201 is the message resource, filled in."""

    FILES: ClassVar[dict[int, str]] = {
        201: "message_201.json", 400: "invalid_to_400.json", 401: "authenticate_401.json",
        429: "rate_limited_429.json", 503: "unavailable_503.json"}

    def __init__(self) -> None:
        super().__init__(logger=None, is_async=False)
        self.calls: list[TwilioCall] = []
        self.status = 201
        self.file: str | None = None  # a payload other than the status's usual one

    def request(self, method: str, uri: str, params: dict[str, object] | None = None,
                data: dict[str, object] | None = None, headers: dict[str, str] | None = None,
                auth: tuple[str, str] | None = None, timeout: float | None = None,
                allow_redirects: bool = False) -> TwilioResponse:
        form = {k: v for k, v in (data or {}).items()}
        self.calls.append(TwilioCall(method, uri, form, auth))
        body = payload("twilio", self.file or self.FILES[self.status])
        if self.status == 201:
            sid = f"SM{len(self.calls):032x}"
            body.update(sid=sid, to=form["To"], body=form["Body"], **{"from": form.get("From")},
                        messaging_service_sid=form.get("MessagingServiceSid"),
                        uri=body["uri"].replace(body["sid"], sid))
        return TwilioResponse(self.status, orjson.dumps(body).decode())
