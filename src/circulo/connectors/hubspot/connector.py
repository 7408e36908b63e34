"""HubSpot through its official Python client (``hubspot-api-client``).

On wrap-up: the contact is searched by email, then phone and mobile phone (one search with OR'd
filter groups), created when missing (a 409 "already exists" answer names the existing id and is
taken as found), and the interaction is logged as the matching engagement, associated with the
contact: a call (with outcome, duration in milliseconds, direction and notes), an email, an SMS or
WhatsApp communication, or a note for web chats and anything else.

The tests point the client at a local server that replays HubSpot's documented request and
response payloads (tests/connectors/vendors/hubspot/); a real account was not reachable here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from circulo.connectors.crm import CrmActivity, CrmContact, CrmError, CrmPerson, expand_env
from circulo.connectors.outbound import check_pools, status_text
from circulo.egress import EgressPolicy

# HubSpot-defined association types from an engagement to a contact (v4 associations docs).
ASSOCIATION_TO_CONTACT = {"calls": 194, "emails": 198, "communications": 81, "notes": 202}
CHANNEL_TYPE = {"sms": "SMS", "whatsapp": "WHATS_APP"}
CONTACT_PROPERTIES = ["email", "firstname", "lastname", "phone", "mobilephone", "hs_language"]
_EXISTING_ID = re.compile(r"Existing ID:\s*(\d+)")


class HubSpotConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    access_token: SecretStr = Field(description="Private app token; ${ENV_VAR} is replaced")
    host: str = Field("https://api.hubapi.com", description="API host (a proxy, or tests)")
    timeout_seconds: float = 10.0
    client_secret: SecretStr | None = Field(
        None, description="The app's client secret, to verify inbound webhooks (signature v3)")
    webhook_url: str | None = Field(
        None, description="The URL HubSpot calls, when a proxy changes what Círculo sees "
                          "(the v3 signature covers it)")
    call_outcomes: dict[str, str] = Field(
        default_factory=dict,
        description="Círculo disposition → HubSpot call outcome id (hs_call_disposition)")
    owner_id: str | None = Field(None, description="hubspot_owner_id set on new engagements")
    ssl_ca_cert: str | None = None


class _Conflict(CrmError):
    """A 409 naming the record that already exists."""

    def __init__(self, message: str, existing_id: str) -> None:
        super().__init__(message, 409)
        self.existing_id = existing_id


def _split_name(name: str | None) -> tuple[str | None, str | None]:
    if not name:
        return None, None
    first, _, last = name.strip().partition(" ")
    return first or None, last or None


def _status(exc: Exception) -> int | None:
    status = getattr(exc, "status", None)
    return int(status) if isinstance(status, int) else None


class HubSpotConnector:
    def __init__(self, name: str, config: HubSpotConfig,
                 egress: EgressPolicy | None = None) -> None:
        from hubspot import HubSpot  # a large package: loaded only when configured

        self.name = name
        self.config = config
        extra: dict[str, Any] = {"host": config.host.rstrip("/")}
        if config.ssl_ca_cert:
            extra["ssl_ca_cert"] = config.ssl_ca_cert
        client = HubSpot(access_token=expand_env(config.access_token.get_secret_value()),
                         **extra)
        # Each attribute access of the client builds a new ApiClient with its own connection
        # pool: take them once, so connections are kept alive (urllib3 pools are thread-safe).
        self._basic = client.crm.objects.basic_api
        self._search = client.crm.objects.search_api
        self._batch = client.crm.objects.batch_api
        self._memberships = client.crm.lists.memberships_api
        # Where it connects is checked as it connects (the host may resolve inside).
        for api in (self._basic, self._search, self._batch, self._memberships):
            check_pools(egress or EgressPolicy(), api.api_client.rest_client.pool_manager)
        self._timeout = config.timeout_seconds

    # -- plumbing ------------------------------------------------------------------------------
    def _call(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        from hubspot.crm.lists import ApiException as ListsApiException
        from hubspot.crm.objects import ApiException
        from urllib3.exceptions import HTTPError

        try:
            return fn(*args, _request_timeout=self._timeout, **kwargs)
        except (ApiException, ListsApiException) as exc:
            status = _status(exc)  # not its body: errors are read back through the API
            body = exc.body.decode(errors="replace") if isinstance(exc.body, bytes) \
                else str(exc.body or "")
            existing = _EXISTING_ID.search(body) if status == 409 else None
            if existing:
                raise _Conflict(f"{self.name}: HubSpot {what}: already exists",
                                existing.group(1)) from exc
            raise CrmError(f"{self.name}: HubSpot {what} answered "
                           f"{status_text(status) if status else exc.status}", status) from exc
        except HTTPError as exc:
            raise CrmError(f"{self.name}: HubSpot {what}: {type(exc).__name__}: {exc}"[:500]
                           ) from exc

    # -- CrmConnector --------------------------------------------------------------------------
    def find_contact(self, contact: CrmContact) -> str | None:
        from hubspot.crm.objects import Filter, FilterGroup, PublicObjectSearchRequest

        groups = []
        if contact.email:
            groups.append(FilterGroup(filters=[Filter(property_name="email", operator="EQ",
                                                      value=contact.email)]))
        if contact.phone:
            groups += [FilterGroup(filters=[Filter(property_name=p, operator="EQ",
                                                   value=contact.phone)])
                       for p in ("phone", "mobilephone")]
        if not groups:
            return None
        request = PublicObjectSearchRequest(filter_groups=groups, properties=["email"], limit=1,
                                            sorts=["createdate"])
        page = self._call("contact search", self._search.do_search,
                          "contacts", request)
        return str(page.results[0].id) if page.results else None

    def create_contact(self, contact: CrmContact) -> str:
        from hubspot.crm.objects import SimplePublicObjectInputForCreate

        first, last = _split_name(contact.name)
        properties = {k: v for k, v in {
            "email": contact.email, "firstname": first, "lastname": last,
            "phone": contact.phone}.items() if v}
        try:
            created = self._call(
                "contact creation", self._basic.create, "contacts",
                SimplePublicObjectInputForCreate(properties=properties, associations=[]))
        except _Conflict as exc:  # created meanwhile (or by a previous attempt): ours
            return exc.existing_id
        return str(created.id)

    def log_activity(self, contact_id: str, activity: CrmActivity) -> str:
        from hubspot.crm.objects import (
            AssociationSpec,
            PublicAssociationsForObject,
            PublicObjectId,
            SimplePublicObjectInputForCreate,
        )

        object_type, properties = self._engagement(activity)
        if self.config.owner_id:
            properties["hubspot_owner_id"] = self.config.owner_id
        association = PublicAssociationsForObject(
            to=PublicObjectId(id=contact_id),
            types=[AssociationSpec(association_category="HUBSPOT_DEFINED",
                                   association_type_id=ASSOCIATION_TO_CONTACT[object_type])])
        created = self._call(
            f"{object_type} creation", self._basic.create, object_type,
            SimplePublicObjectInputForCreate(properties=properties, associations=[association]))
        return str(created.id)

    def _engagement(self, activity: CrmActivity) -> tuple[str, dict[str, Any]]:
        body = _body(activity)
        common = {"hs_timestamp": activity.occurred_at}
        if activity.kind == "call":
            properties = {
                **common, "hs_call_title": activity.data.get("subject") or "Círculo",
                "hs_call_body": body, "hs_call_status": "COMPLETED",
                "hs_call_direction": "OUTBOUND" if activity.data.get("direction") ==
                "outbound" else "INBOUND",
            }
            if activity.duration_seconds is not None:
                properties["hs_call_duration"] = str(activity.duration_seconds * 1000)
            outcome = self.config.call_outcomes.get(activity.disposition or "")
            if outcome:
                properties["hs_call_disposition"] = outcome
            return "calls", properties
        if activity.kind == "email":
            return "emails", {**common, "hs_email_direction": "INCOMING_EMAIL",
                              "hs_email_status": "SENT",
                              "hs_email_subject": activity.data.get("subject") or "Círculo",
                              "hs_email_text": body}
        channel = CHANNEL_TYPE.get(activity.channel or "")
        if channel:
            return "communications", {**common, "hs_communication_channel_type": channel,
                                      "hs_communication_logged_from": "CRM",
                                      "hs_communication_body": body}
        return "notes", {**common, "hs_note_body": body}

    # -- reading (inbound webhooks, campaigns from lists) --------------------------------------
    def get_contact(self, contact_id: str) -> CrmPerson:
        found = self._call("contact read", self._basic.get_by_id,
                           "contacts", contact_id, properties=CONTACT_PROPERTIES)
        return person_from_properties(str(found.id), found.properties or {})

    def list_members(self, list_id: str) -> Iterator[CrmPerson]:
        """Every contact in a HubSpot list (Lists API v3 memberships, then a batch read)."""
        from hubspot.crm.objects import BatchReadInputSimplePublicObjectId, SimplePublicObjectId

        after: str | None = None
        while True:
            kwargs = {"limit": 100} | ({"after": after} if after else {})
            page = self._call("list memberships", self._memberships.get_page, list_id, **kwargs)
            ids = [str(m.record_id) for m in page.results or []]
            if ids:
                batch = self._call(
                    "contact batch read", self._batch.read, "contacts",
                    BatchReadInputSimplePublicObjectId(
                        properties=CONTACT_PROPERTIES, properties_with_history=[],
                        inputs=[SimplePublicObjectId(id=i) for i in ids]))
                for found in batch.results or []:
                    yield person_from_properties(str(found.id), found.properties or {})
            after = page.paging.next.after if page.paging and page.paging.next else None
            if not after:
                return


def person_from_properties(contact_id: str, properties: dict[str, Any]) -> CrmPerson:
    name = " ".join(p for p in (properties.get("firstname"), properties.get("lastname")) if p)
    phones = [p for p in (properties.get("mobilephone"), properties.get("phone")) if p]
    return CrmPerson(crm_id=contact_id, name=name or None, email=properties.get("email") or None,
                     phones=phones, language=properties.get("hs_language") or None)


def _body(activity: CrmActivity) -> str:
    lines = [activity.notes or ""]
    if activity.disposition:
        lines.append(f"Resultado / Outcome: {activity.disposition}")
    lines += [f"{k}: {v}" for k, v in activity.data.items()
              if k not in ("subject", "direction") and v not in (None, "")]
    return "\n".join(line for line in lines if line)
