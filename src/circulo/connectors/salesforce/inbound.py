"""Salesforce workflow Outbound Messages (SOAP notifications) about Contacts and Leads, turned
into Círculo events, and the acknowledgement Salesforce waits for (else it retries for 24 h).
Parsed with defusedxml: the body comes from outside.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from defusedxml import ElementTree

NS = {"soap": "http://schemas.xmlsoap.org/soap/envelope/",
      "om": "http://soap.sforce.com/2005/09/outbound",
      "sf": "urn:sobject.enterprise.soap.sforce.com",
      "xsi": "http://www.w3.org/2001/XMLSchema-instance"}
ACK = (b'<?xml version="1.0" encoding="UTF-8"?>'
       b'<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">'
       b'<soapenv:Body><notificationsResponse xmlns="http://soap.sforce.com/2005/09/outbound">'
       b'<Ack>true</Ack></notificationsResponse></soapenv:Body></soapenv:Envelope>')


class OutboundMessageError(ValueError):
    pass


@dataclass
class Notifications:
    organization_id: str
    events: list[dict[str, Any]] = field(default_factory=list)
    ignored: int = 0


def _text(element: Any, name: str) -> str | None:
    found = element.find(f"sf:{name}", NS)
    return found.text.strip() if found is not None and found.text else None


def parse(body: bytes, *, source: str, namespace: str) -> Notifications:
    try:
        root = ElementTree.fromstring(body)
    except Exception as exc:  # defusedxml raises its own and expat's errors
        raise OutboundMessageError(f"not an Outbound Message: {exc}") from exc
    notifications = root.find("soap:Body/om:notifications", NS)
    if notifications is None:
        raise OutboundMessageError("no soapenv:Body/notifications element")
    out = Notifications(organization_id=(notifications.findtext("om:OrganizationId", "", NS)))
    for notification in notifications.findall("om:Notification", NS):
        notification_id = notification.findtext("om:Id", "", NS)
        record = notification.find("om:sObject", NS)
        kind = (record.get(f"{{{NS['xsi']}}}type") or "") if record is not None else ""
        record_id = _text(record, "Id") if record is not None else None
        if record is None or kind.split(":")[-1] not in ("Contact", "Lead") or not record_id:
            out.ignored += 1
            continue
        identifiers: dict[str, Any] = {"external_ids": {namespace: record_id}}
        email = _text(record, "Email")
        if email:
            identifiers["email"] = email
        phones = [p for p in (_text(record, "MobilePhone"), _text(record, "Phone")) if p]
        if phones:
            identifiers["phones"] = phones
        name = " ".join(p for p in (_text(record, "FirstName"), _text(record, "LastName")) if p)
        out.events.append({
            "type": "crm.contact_updated", "source": source,
            "id": f"sf-{notification_id}", "identifiers": identifiers,
            "traits": {"name": name} if name else None,
            "properties": {"object": kind.split(":")[-1]},
        })
    return out
