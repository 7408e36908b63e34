"""A CRM connector for in-house CRMs with a REST API, configured declaratively.

Each call is a method, a path and a JSON body or query whose strings may hold
``{placeholders}`` (customer_id, name, email, phone, crm_id, contact_id, kind, occurred_at,
disposition, duration_seconds, notes, event_id), and a JSONPath-style path to the id in the
answer. Tested against a real local HTTP server (tests/connectors/test_generic_rest.py).
Every connection is checked against the egress allowlist (``connectors.outbound``), and a
failed answer is kept as its status only.
"""

from __future__ import annotations

import re
from dataclasses import asdict
from typing import Any, Literal
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from circulo.connectors.crm import CrmActivity, CrmContact, CrmError, expand_env
from circulo.connectors.outbound import checked_transport, status_text
from circulo.egress import EgressPolicy
from circulo.jsonpath import MISSING, JsonPath, PathError, compile_path

_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


class CallConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    method: Literal["GET", "POST", "PUT", "PATCH"] = "POST"
    path: str
    query: dict[str, str] = Field(default_factory=dict)
    body: dict[str, Any] | None = None
    id_path: str = "$.id"

    @field_validator("id_path")
    @classmethod
    def _path(cls, value: str) -> str:
        try:
            compile_path(value, "id_path")
        except PathError as exc:
            raise ValueError(str(exc)) from exc
        return value


class GenericRestConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    base_url: str
    headers: dict[str, SecretStr] = Field(
        default_factory=dict, description="Sent on every call; ${ENV_VAR} is replaced")
    timeout_seconds: float = 10.0
    find_contact: CallConfig | None = None
    create_contact: CallConfig
    log_activity: CallConfig
    actions: dict[str, CallConfig] = Field(
        default_factory=dict, description="Named requests journeys may make (refund, "
                                          "cancel_order...): placeholders come from the "
                                          "journey's params and customer_id")


def _fill(template: Any, values: dict[str, Any]) -> Any:
    if isinstance(template, str):
        whole = _PLACEHOLDER.fullmatch(template)
        if whole:  # a lone placeholder keeps its type (numbers stay numbers)
            return values.get(whole.group(1))
        return _PLACEHOLDER.sub(lambda m: "" if values.get(m.group(1)) is None
                                else str(values[m.group(1)]), template)
    if isinstance(template, dict):
        return {k: _fill(v, values) for k, v in template.items()}
    if isinstance(template, list):
        return [_fill(v, values) for v in template]
    return template


class GenericRestConnector:
    def __init__(self, name: str, config: GenericRestConfig,
                 egress: EgressPolicy | None = None) -> None:
        self.name = name
        self.config = config
        headers = {k: expand_env(v.get_secret_value())
                   for k, v in config.headers.items()}
        self._client = httpx.Client(base_url=config.base_url, headers=headers,
                                    timeout=config.timeout_seconds,
                                    transport=checked_transport(egress or EgressPolicy()))
        calls = [config.find_contact, config.create_contact, config.log_activity,
                 *config.actions.values()]
        self._paths: dict[str, JsonPath] = {
            c.id_path: compile_path(c.id_path, f"{name}.id_path") for c in calls if c}

    def _call(self, call: CallConfig, values: dict[str, Any], required: bool) -> str | None:
        path = _fill(call.path, {k: "" if v is None else quote(str(v), safe="")
                                 for k, v in values.items()})
        try:
            response = self._client.request(
                call.method, path, params=_fill(call.query, values) or None,
                json=_fill(call.body, values) if call.body is not None else None)
        except httpx.TimeoutException as exc:
            raise CrmError(f"{self.name}: timeout on {call.method} {call.path}") from exc
        except httpx.HTTPError as exc:
            raise CrmError(f"{self.name}: {type(exc).__name__}: {exc}") from exc
        if not response.is_success:
            raise CrmError(f"{self.name}: {call.method} {call.path} answered "
                           f"{status_text(response.status_code)}", response.status_code)
        try:
            found = self._paths[call.id_path].get(response.json())
        except ValueError as exc:
            raise CrmError(f"{self.name}: {call.method} {call.path} did not answer JSON",
                           response.status_code) from exc
        if found is MISSING or found is None:
            if required:
                raise CrmError(f"{self.name}: no id at {call.id_path} in the answer to "
                               f"{call.method} {call.path}", response.status_code)
            return None
        return str(found)

    def find_contact(self, contact: CrmContact) -> str | None:
        if self.config.find_contact is None:
            return None
        return self._call(self.config.find_contact, asdict(contact), required=False)

    def create_contact(self, contact: CrmContact) -> str:
        found = self._call(self.config.create_contact, asdict(contact), required=True)
        assert found is not None  # noqa: S101 - required=True raises instead
        return found

    def act(self, action: str, values: dict[str, Any]) -> str | None:
        """A journey asks this system to do something (``connector`` action): the id in
        the answer, if any."""
        call = self.config.actions.get(action)
        if call is None:
            raise CrmError(f"{self.name}: no action '{action}' (configured: "
                           f"{', '.join(sorted(self.config.actions)) or 'none'})", 400)
        return self._call(call, values, required=False)

    def log_activity(self, contact_id: str, activity: CrmActivity) -> str:
        found = self._call(self.config.log_activity, {**asdict(activity),
                                                      "contact_id": contact_id},
                           required=True)
        assert found is not None  # noqa: S101
        return found
