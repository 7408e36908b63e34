"""Signed inbound webhooks: a source's sender proves each delivery with a shared secret.
Pure.

The scheme is the one Stripe and Slack use: the sender puts the Unix time in seconds in a
timestamp header and ``hex(HMAC-SHA256(secret, "{timestamp}.{body}"))`` in the signature
header (a ``sha256=`` or ``v1=`` prefix is accepted). A delivery stamped more than
``tolerance`` seconds away from the receiver's clock, either way, is refused, so a captured
delivery cannot be replayed later (docs/inbound-webhooks.md).
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import SecretStr


class SigningError(ValueError):
    """The signing section of a mapping file is wrong (a start-up error)."""


class SignatureRefused(ValueError):
    """A delivery is not signed as its source requires (a 401)."""


@dataclass(frozen=True, slots=True)
class Signing:
    secret: SecretStr
    header: str = "X-Signature"
    timestamp_header: str = "X-Timestamp"
    tolerance: int = 300


def load_signing(spec: Any, where: str) -> Signing:
    """``{secret: "env:NAME" | literal, header?, timestamp_header?, tolerance?}``."""
    if not isinstance(spec, dict) or not isinstance(spec.get("secret"), str):
        raise SigningError(f"{where}: needs a secret (\"env:NAME\" reads the environment)")
    unknown = set(spec) - {"secret", "header", "timestamp_header", "tolerance"}
    if unknown:
        raise SigningError(f"{where}: unknown fields {sorted(unknown)}")
    secret = spec["secret"]
    if secret.startswith("env:"):
        name = secret.removeprefix("env:")
        secret = os.environ.get(name, "")
        if not secret:
            raise SigningError(f"{where}.secret: environment variable {name} is not set")
    if len(secret) < 16:
        raise SigningError(f"{where}.secret: use at least 16 characters")
    tolerance = spec.get("tolerance", 300)
    if isinstance(tolerance, bool) or not isinstance(tolerance, int) or not (
            1 <= tolerance <= 3600):
        raise SigningError(f"{where}.tolerance: seconds between 1 and 3600")
    names = {k: spec.get(k, default) for k, default in
             (("header", "X-Signature"), ("timestamp_header", "X-Timestamp"))}
    for key, value in names.items():
        if not isinstance(value, str) or not value.strip():
            raise SigningError(f"{where}.{key}: a header name")
    return Signing(SecretStr(secret), names["header"], names["timestamp_header"], tolerance)


def fresh_timestamp(signing: Signing, headers: Mapping[str, str], now: datetime) -> str:
    """The timestamp header, if the signature header is there and the time is within the
    tolerance: checked before the body is read."""
    timestamp = headers.get(signing.timestamp_header.lower()) or ""
    if not headers.get(signing.header.lower()):
        raise SignatureRefused(f"the {signing.header} header is missing")
    if not timestamp.isdigit() or len(timestamp) > 12:
        raise SignatureRefused(f"the {signing.timestamp_header} header must be Unix seconds")
    if abs(now.timestamp() - int(timestamp)) > signing.tolerance:
        raise SignatureRefused(f"the {signing.timestamp_header} is more than "
                               f"{signing.tolerance} s away from this server's clock")
    return timestamp


def verify(signing: Signing, headers: Mapping[str, str], timestamp: str, body: bytes) -> None:
    given = headers.get(signing.header.lower(), "")
    for prefix in ("sha256=", "v1="):
        given = given.removeprefix(prefix)
    expected = hmac.new(signing.secret.get_secret_value().encode(),
                        timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode(), given.strip().lower().encode()):
        raise SignatureRefused(f"the {signing.header} does not match this body and timestamp")
