"""Erased identifiers stay suppressed: an old event resent by a source (a replay, a CRM
sync, a retried batch) that carries one of them is not stored, so it cannot bring the person
back. Only a keyed hash is kept (HMAC-SHA256 of ``kind:value`` with the server's key).

The key is ``CIRCULO_ERASURE_KEY``; unset, one is generated once into
``<data_dir>/erasure.key`` (mode 0600). Every process of an installation must use the same
key: set the variable when they do not share a data directory."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import threading
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from circulo.config import Settings
from circulo.identity import repository as repo
from circulo.identity.normalize import Identifier, Kind

KEY_FILE = "erasure.key"
CODE = "erased_identifier"
_lock = threading.Lock()
_file_keys: dict[Path, bytes] = {}


def key_of(settings: Settings) -> bytes:
    if settings.erasure_key is not None:
        return settings.erasure_key.get_secret_value().encode()
    path = (settings.data_dir / KEY_FILE).resolve()
    with _lock:
        key = _file_keys.get(path)
        if key is None:
            key = _read_or_create(path)
            _file_keys[path] = key
    return key


def _read_or_create(path: Path) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="ascii").strip().encode()
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(secrets.token_hex(32) + "\n")
    return path.read_text(encoding="ascii").strip().encode()


def digest(key: bytes, kind: str, value: str) -> str:
    return hmac.new(key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


def suppressible(identifiers: Iterable[Identifier]) -> list[Identifier]:
    """A customer id names a profile, not a person's contact point: an erased one is refused
    already (``unknown_customer``)."""
    return [i for i in identifiers if i.kind != Kind.CUSTOMER_ID]


def suppress(session: Session, settings: Settings, identifiers: Sequence[tuple[str, str]],
             now: datetime) -> int:
    key = key_of(settings)
    return repo.add_suppressions(session, [digest(key, k, v) for k, v in identifiers], now)


def suppressed_items(session: Session, settings: Settings,
                     items: Sequence[Sequence[Identifier]]) -> set[int]:
    """Positions of the items carrying at least one suppressed identifier. One indexed
    lookup per batch when nobody was ever erased; one more with the batch's hashes."""
    if not items or not repo.any_suppressed(session):
        return set()
    key = key_of(settings)
    hashed = [[digest(key, i.kind.value, i.value) for i in suppressible(idents)]
              for idents in items]
    found = repo.suppressed_among(session, [d for ds in hashed for d in ds])
    return {n for n, ds in enumerate(hashed) if any(d in found for d in ds)}


def lift(session: Session, settings: Settings, identifiers: Sequence[Identifier]) -> int:
    """The person came back (a new relationship, their own request): their identifiers may
    create and link a customer again."""
    key = key_of(settings)
    return repo.lift_suppressions(
        session, [digest(key, i.kind.value, i.value) for i in suppressible(identifiers)])
