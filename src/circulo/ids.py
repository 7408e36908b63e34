"""Identifiers for rows we create: time-ordered so B-tree inserts stay at the right edge."""

from __future__ import annotations

import os
import time


def new_id() -> str:
    """32 hex chars: 48-bit millisecond timestamp + 80 random bits (UUIDv7-like)."""
    millis = time.time_ns() // 1_000_000
    return f"{millis:012x}{os.urandom(10).hex()}"
