"""The suppression list: a keyed hash of each identifier an erased person held."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from circulo.db import Base, UTCDateTime


class ErasedIdentifier(Base):
    """HMAC-SHA256 (server key) of ``kind:value``: no identifier can be read back from it, and
    without the key nobody can even test a guess (a phone number's space is small)."""

    __tablename__ = "erased_identifiers"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    erased_at: Mapped[datetime] = mapped_column(UTCDateTime())
