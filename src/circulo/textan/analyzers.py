"""The analyser the worker uses when none is given: the default engine with the configured
contact reasons (``circulo.text.engine``)."""

from __future__ import annotations

from circulo.config import Settings
from circulo.text.model import Analyzer


def configured(settings: Settings) -> Analyzer:
    raise RuntimeError("no text analysis engine yet: pass an Analyzer to the worker")
