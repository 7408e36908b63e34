"""What the widget's tests share: a CRM connector configuration for the sample CRM."""

from __future__ import annotations

from pathlib import Path

import yaml


def crm_config(path: Path, base_url: str) -> Path:
    """A generic REST connector ``samplecrm`` that logs wrap-ups as activities on a record
    of the sample CRM (examples/crm-widget/serve.py answers these paths)."""
    path.write_text(yaml.safe_dump({"connectors": {"samplecrm": {
        "type": "generic_rest", "event_types": ["call.wrapped_up"],
        "config": {
            "base_url": base_url,
            "create_contact": {"path": "/api/contacts", "body": {"name": "{name}"}},
            "log_activity": {"path": "/api/contacts/{contact_id}/activities", "body": {
                "type": "{kind}", "outcome": "{disposition}", "notes": "{notes}",
                "circulo_event": "{event_id}"}},
        }}}}))
    return path
