"""The demo's people: an agent (a routing agent with the queues the demo traffic fills), a
supervisor (no queues) and an admin, each with a random password kept in the data directory
(``demo-users``, readable by its owner only) so every run prints the same ones. They exist
only where ``circulo demo`` runs: no fixed password anywhere."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from circulo.auth import users
from circulo.auth.passwords import verify_password

USERS_FILE = "demo-users"
HUMAN_AGENT = "alex"  # the routing agent of the demo's agent user (demo/routing.yaml)


@dataclass(frozen=True, slots=True)
class Credentials:
    username: str
    password: str
    role: str
    name: str


DEMO_USERS = (
    users.UserSpec(username="agent", name="Alex Rivera", role="agent", agent_id=HUMAN_AGENT,
                   site="madrid", card_role="support", language="es"),
    users.UserSpec(username="supervisor", name="Sofía Campos", role="supervisor",
                   site="madrid", language="es"),
    users.UserSpec(username="admin", name="Admin Aurora", role="admin", language="es"),
)


def _stored(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    found: dict[str, str] = {}
    for line in path.read_text("utf-8").splitlines():
        username, _, password = line.partition("\t")
        if username and password:
            found[username] = password
    return found


def _keep(path: Path, passwords: dict[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.writelines(f"{name}\t{password}\n" for name, password in passwords.items())
    path.chmod(0o600)  # an older file keeps its mode through O_TRUNC


def ensure_users(session: Session, data_dir: Path, now: datetime) -> list[Credentials]:
    """The demo users, created the first time; a password kept in ``data_dir`` is reused
    while it still signs in, otherwise a new random one is set (and kept)."""
    path = data_dir / USERS_FILE
    kept = _stored(path)
    passwords: dict[str, str] = {}
    for spec in DEMO_USERS:
        password = kept.get(spec.username)
        user = users.find_user(session, spec.username)
        if user is None:
            password = password or secrets.token_urlsafe(12)
            users.create_user(session, spec, password, now)
        elif password is None or not verify_password(user.password_hash, password):
            password = secrets.token_urlsafe(12)
            users.set_password(session, spec.username, password, now)
        passwords[spec.username] = password
    if passwords != kept:
        _keep(path, passwords)
    return [Credentials(spec.username, passwords[spec.username], spec.role, spec.name)
            for spec in DEMO_USERS]
