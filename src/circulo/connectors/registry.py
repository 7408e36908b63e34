"""The CRM connectors configured for this installation (``CIRCULO_CRM_CONNECTORS``, YAML).

```yaml
connectors:
  intranet:                        # outbox destination crm:intranet
    type: generic_rest
    event_types: [call.wrapped_up, chat.completed]
    namespace: intranet            # the customer's id there is the external id intranet:…
    max_in_flight: 4
    config: {base_url: …, find_contact: …, create_contact: …, log_activity: …}
```
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from circulo.config import Settings
from circulo.connectors.crm import CrmConnector
from circulo.connectors.generic_rest import GenericRestConfig, GenericRestConnector
from circulo.connectors.hubspot.connector import HubSpotConfig, HubSpotConnector
from circulo.connectors.salesforce.connector import SalesforceConfig, SalesforceConnector
from circulo.egress import EgressError, EgressPolicy
from circulo.yaml_files import load_section

# type → (config model, connector class); each class takes (name, validated config).
TYPES: dict[str, tuple[type[Any], Any]] = {
    "generic_rest": (GenericRestConfig, GenericRestConnector),
    "hubspot": (HubSpotConfig, HubSpotConnector),
    "salesforce": (SalesforceConfig, SalesforceConnector),
}
# The settings naming where each type sends: refused when loaded unless public or allowed
# (circulo.egress). Generic REST connections are checked again as they are made.
URL_FIELDS = {"generic_rest": ("base_url",), "hubspot": ("host",),
              "salesforce": ("instance_url",)}


class ConnectorConfigError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class ConnectorSpec:
    name: str
    connector: CrmConnector
    event_types: tuple[str, ...]
    namespace: str
    max_in_flight: int
    kind: str = "generic_rest"

    @property
    def destination(self) -> str:
        return f"crm:{self.name}"


def _build(name: str, raw: dict[str, Any], where: str, egress: EgressPolicy) -> ConnectorSpec:
    kind = raw.get("type")
    if not isinstance(kind, str) or kind not in TYPES:
        raise ConnectorConfigError(f"{where}.type: must be one of {list(TYPES)}")
    types = raw.get("event_types")
    if not isinstance(types, list) or not types:
        raise ConnectorConfigError(f"{where}.event_types: give at least one event type")
    model, factory = TYPES[kind]
    try:
        config = model.model_validate(raw.get("config") or {})
    except ValidationError as exc:
        first = exc.errors()[0]
        place = ".".join(str(p) for p in first["loc"])
        place = f".{place}" if place else ""
        raise ConnectorConfigError(f"{where}.config{place}: {first['msg']}") from exc
    for field in URL_FIELDS[kind]:
        url = getattr(config, field)
        try:
            if url is not None:
                egress.check_url(url)
        except EgressError as exc:
            raise ConnectorConfigError(f"{where}.config.{field}: {exc} (an internal system "
                                       "may be named in CIRCULO_EGRESS_ALLOW)") from exc
    connector = factory(name, config, egress)
    return ConnectorSpec(name, connector, tuple(map(str, types)),
                         str(raw.get("namespace", name)), int(raw.get("max_in_flight", 4)),
                         kind)


def load_connectors(path: Path, egress: EgressPolicy | None = None
                    ) -> dict[str, ConnectorSpec]:
    """``egress``: where connectors may send (default: public addresses only)."""
    connectors = load_section(path, "connectors", "CRM connectors", ConnectorConfigError)
    return {str(name): _build(str(name), spec or {}, f"{path}: connectors.{name}",
                              egress or EgressPolicy())
            for name, spec in connectors.items()}


@lru_cache(maxsize=8)
def _cached(path: Path, egress_allow: tuple[str, ...]) -> dict[str, ConnectorSpec]:
    return load_connectors(path, EgressPolicy.parse(egress_allow))


def connectors_for(settings: Settings) -> dict[str, ConnectorSpec]:
    """The connectors of ``CIRCULO_CRM_CONNECTORS``, loaded once per file per process (like
    the card templates)."""
    if settings.crm_connectors is None:
        return {}
    return _cached(settings.crm_connectors, tuple(settings.egress_allow))
