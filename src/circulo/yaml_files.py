"""Reading the YAML configuration files (mappings, connectors): one place for the errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


def load_section(path: Path, key: str, what: str, error: type[ValueError]) -> dict[Any, Any]:
    """The mapping under ``key`` of a YAML file, or ``error`` naming the file and the reason."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise error(f"{path}: cannot read {what}: {exc}") from exc
    if not isinstance(raw, dict) or not isinstance(raw.get(key), dict):
        raise error(f"{path}: expected a mapping with '{key}'")
    section: dict[Any, Any] = raw[key]
    return section
