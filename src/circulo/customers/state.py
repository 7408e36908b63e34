"""A profile as plain data: read once, changed in memory, written once per unit of work.

The ingest path touches hundreds of profiles per batch; plain dataclasses and one
``executemany`` per batch are several times cheaper than ORM objects flushed row by row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar


@dataclass(slots=True)
class ProfileState:
    COLUMNS: ClassVar[tuple[str, ...]] = (
        "id", "status", "merged_into", "display_name", "traits", "trait_meta", "consent",
        "indicators", "pin_hash", "created_at", "updated_at", "contacts",
    )

    id: str
    status: str
    merged_into: str | None
    display_name: str | None
    traits: dict[str, Any]
    trait_meta: dict[str, Any]
    consent: dict[str, Any]
    indicators: dict[str, Any]
    pin_hash: str | None
    created_at: datetime
    updated_at: datetime
    # E-mails and phones by the source that stated them: {"crm": {"email": [...], ...}}
    contacts: dict[str, Any] = field(default_factory=dict)
    is_new: bool = field(default=False, compare=False)
    dirty: bool = field(default=False, compare=False)

    @classmethod
    def new(cls, profile_id: str, now: datetime) -> ProfileState:
        return cls(profile_id, "active", None, None, {}, {}, {}, {}, None, now, now, {},
                   is_new=True)

    def as_row(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.COLUMNS}


@dataclass(frozen=True, slots=True)
class ProfileEvidence:
    """What says who a customer is: traits with their provenance, and the e-mails and phones
    each source stated in records, as (source, kind, value)."""

    traits: dict[str, Any]
    trait_meta: dict[str, Any]
    contacts: tuple[tuple[str, str, str], ...]
