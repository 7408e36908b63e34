"""The demo's one query: a sample of the demo company's customers to send traffic from."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from circulo.identity.models import IdentifierRow


def contact_points(session: Session, limit: int = 3000) -> list[tuple[str, str, str]]:
    """``(profile_id, kind, value)`` of the first phones and e-mails stored."""
    rows = session.execute(
        select(IdentifierRow.profile_id, IdentifierRow.kind, IdentifierRow.value)
        .where(IdentifierRow.kind.in_(("phone", "email")))
        .order_by(IdentifierRow.id).limit(limit)).all()
    return [(profile_id, kind, value) for profile_id, kind, value in rows]
