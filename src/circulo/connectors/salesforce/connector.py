"""Salesforce through ``simple-salesforce`` (the de-facto official Python client).

On wrap-up: the Contact is found by email (SOQL) or by phone (SOSL ``IN PHONE FIELDS``, which
matches however the number was typed), created when missing (``LastName`` is required by
Salesforce: the name, else the email or phone stands in), and the interaction is logged as a
completed Task on it (``WhoId``) with subtype Call/Email/Task, ``CallDisposition``,
``CallDurationInSeconds``, ``CallType`` and the notes and captured data in ``Description``.

With ``activity_external_id_field`` (an External ID custom field on Task, e.g.
``Circulo_Event_Id__c``) the Task is upserted by the Círculo event id, so an at-least-once
redelivery never logs the call twice.

The tests point the client at a local HTTPS server that replays Salesforce's documented REST
payloads (tests/connectors/vendors/salesforce/); a real org was not reachable here.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from circulo.connectors.crm import CrmActivity, CrmContact, CrmError, CrmPerson, expand_env
from circulo.connectors.outbound import check_pools, status_text
from circulo.egress import EgressPolicy

SUBTYPE = {"call": "Call", "email": "Email"}
_SOSL_RESERVED = set('?&|!{}[]()^~*:\\"\'+-')


class SalesforceConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    instance_url: str | None = Field(None, description="https://yourorg.my.salesforce.com")
    auth: dict[str, SecretStr] = Field(
        description="simple-salesforce login arguments: session_id (with instance_url); or "
                    "username, password, security_token; or username, consumer_key, "
                    "privatekey_file (JWT); or consumer_key, consumer_secret (client "
                    "credentials); plus domain. ${ENV_VAR} is replaced")
    version: str = "59.0"
    timeout_seconds: float = 10.0
    ca_bundle: str | None = Field(None, description="CA file for TLS (a proxy, or tests)")
    activity_external_id_field: str | None = None
    task_owner_id: str | None = None
    inbound_token: SecretStr | None = Field(
        None, description="Outbound Messages must call the endpoint with ?token=this")
    organization_id: str | None = Field(
        None, description="Inbound outbound messages from any other org are refused")

    @model_validator(mode="after")
    def _auth(self) -> SalesforceConfig:
        if "session_id" in self.auth and not self.instance_url:
            raise ValueError("instance_url is required with auth.session_id")
        if not {"session_id", "username", "consumer_key"} & set(self.auth):
            raise ValueError("auth needs session_id, username or consumer_key")
        return self


def _session(timeout: float, ca_bundle: str | None, egress: EgressPolicy) -> Any:
    """A requests session with a default timeout and, when given, our CA bundle (passed on
    each request: requests lets REQUESTS_CA_BUNDLE override a session's ``verify``), that
    connects only where ``egress`` allows (checked as it connects)."""
    import requests
    from requests.adapters import HTTPAdapter

    class Session(requests.Session):
        def request(self, *args: Any, **kwargs: Any) -> Any:
            kwargs.setdefault("timeout", timeout)
            if ca_bundle:
                kwargs.setdefault("verify", ca_bundle)
            return super().request(*args, **kwargs)

    session = Session()
    adapter = HTTPAdapter()
    check_pools(egress, adapter.poolmanager)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


def sosl_escape(value: str) -> str:
    return "".join(f"\\{c}" if c in _SOSL_RESERVED else c for c in value)


class SalesforceConnector:
    def __init__(self, name: str, config: SalesforceConfig,
                 egress: EgressPolicy | None = None) -> None:
        self.name = name
        self.config = config
        self.egress = egress or EgressPolicy()
        self._lock = threading.Lock()
        self._sf: Any = None

    # -- plumbing ------------------------------------------------------------------------------
    def _client(self) -> Any:
        with self._lock:
            if self._sf is None:
                from simple_salesforce.api import Salesforce

                session = _session(self.config.timeout_seconds, self.config.ca_bundle,
                                   self.egress)
                auth: dict[str, Any] = {k: expand_env(v.get_secret_value())
                                        for k, v in self.config.auth.items()}
                self._sf = Salesforce(instance_url=self.config.instance_url,
                                      version=self.config.version, session=session, **auth)
            return self._sf

    def _call(self, what: str, fn: Callable[[Any], Any]) -> Any:
        import requests
        from simple_salesforce.exceptions import SalesforceError, SalesforceExpiredSession

        for attempt in (1, 2):
            try:
                return fn(self._client())
            except SalesforceExpiredSession as exc:
                # A login flow gets a fresh session once; a fixed token cannot.
                if attempt == 1 and "session_id" not in self.config.auth:
                    with self._lock:
                        self._sf = None
                    continue
                raise CrmError(f"{self.name}: Salesforce {what}: session expired or invalid",
                               401) from exc
            except SalesforceError as exc:
                raise CrmError(f"{self.name}: Salesforce {what} answered "  # not the body
                               f"{status_text(exc.status)}", exc.status) from exc
            except requests.Timeout as exc:
                raise CrmError(f"{self.name}: Salesforce {what}: timeout") from exc
            except requests.RequestException as exc:
                raise CrmError(f"{self.name}: Salesforce {what}: {type(exc).__name__}: "
                               f"{exc}"[:500]) from exc
        raise AssertionError("unreachable")

    # -- CrmConnector --------------------------------------------------------------------------
    def find_contact(self, contact: CrmContact) -> str | None:
        from simple_salesforce.format import format_soql

        if contact.email:
            found = self._call("contact query", lambda sf: sf.query(format_soql(
                "SELECT Id FROM Contact WHERE Email = {} ORDER BY CreatedDate LIMIT 1",
                contact.email)))
            if found["records"]:
                return str(found["records"][0]["Id"])
        if contact.phone:
            sosl = (f"FIND {{{sosl_escape(contact.phone)}}} IN PHONE FIELDS "
                    "RETURNING Contact(Id ORDER BY CreatedDate) LIMIT 1")
            found = self._call("contact search", lambda sf: sf.search(sosl))
            if found and found.get("searchRecords"):
                return str(found["searchRecords"][0]["Id"])
        return None

    def create_contact(self, contact: CrmContact) -> str:
        first, _, last = (contact.name or "").strip().partition(" ")
        if not last:
            first, last = "", first or contact.email or contact.phone or contact.customer_id
        record = {k: v for k, v in {"FirstName": first, "LastName": last,
                                    "Email": contact.email, "Phone": contact.phone}.items() if v}
        created = self._call("contact creation", lambda sf: sf.Contact.create(
            record, headers={"Sforce-Auto-Assign": "TRUE"}))
        return str(created["id"])

    def log_activity(self, contact_id: str, activity: CrmActivity) -> str:
        task = self._task(contact_id, activity)
        field = self.config.activity_external_id_field
        if field:
            response = self._call("task upsert", lambda sf: sf.Task.upsert(
                f"{field}/{activity.event_id}", task, raw_response=True))
            body = response.json() if response.content else {}
            return str(body.get("id") or activity.event_id)
        created = self._call("task creation", lambda sf: sf.Task.create(task))
        return str(created["id"])

    def _task(self, contact_id: str, activity: CrmActivity) -> dict[str, Any]:
        subtype = SUBTYPE.get(activity.kind, "Task")
        lines = [activity.notes or ""] + [f"{k}: {v}" for k, v in activity.data.items()
                                          if k != "subject" and v not in (None, "")]
        task: dict[str, Any] = {
            "WhoId": contact_id, "Status": "Completed", "TaskSubtype": subtype,
            "Subject": activity.data.get("subject") or {
                "call": "Llamada / Call", "email": "Email"}.get(activity.kind, "Chat"),
            "ActivityDate": activity.occurred_at[:10],
            "Description": "\n".join(line for line in lines if line)[:32000],
        }
        if activity.kind == "call":
            task["CallType"] = "Outbound" if activity.data.get("direction") == "outbound" \
                else "Inbound"
            if activity.disposition:
                task["CallDisposition"] = activity.disposition[:255]
            if activity.duration_seconds is not None:
                task["CallDurationInSeconds"] = activity.duration_seconds
        if self.config.task_owner_id:
            task["OwnerId"] = self.config.task_owner_id
        return task

    # -- reading -------------------------------------------------------------------------------
    def get_contact(self, contact_id: str) -> CrmPerson:
        found = self._call("contact read", lambda sf: sf.Contact.get(contact_id))
        return person_from_record(found)

    def list_members(self, list_id: str) -> Iterator[CrmPerson]:
        """The members of a Salesforce Campaign (contacts and leads)."""
        from simple_salesforce.format import format_soql

        soql = format_soql("SELECT ContactId, LeadId, FirstName, LastName, Email, Phone, "
                           "MobilePhone FROM CampaignMember WHERE CampaignId = {} "
                           "ORDER BY Id", list_id)
        rows = self._call("campaign members", lambda sf: list(sf.query_all_iter(soql)))
        for row in rows:
            person_id = row.get("ContactId") or row.get("LeadId")
            if person_id:
                yield person_from_record({**row, "Id": person_id})


def person_from_record(record: dict[str, Any]) -> CrmPerson:
    name = " ".join(p for p in (record.get("FirstName"), record.get("LastName")) if p)
    phones = [p for p in (record.get("MobilePhone"), record.get("Phone")) if p]
    return CrmPerson(crm_id=str(record["Id"]), name=name or None,
                     email=record.get("Email") or None, phones=phones)
