"""The analyser the worker uses when none is given: the engine and contact reasons the
settings name (``CIRCULO_TEXT_ENGINE``, ``CIRCULO_INTENTS_FILE``; docs/text-analysis.md),
built once per process by ``circulo.text.engine.analyzer_for``."""

from __future__ import annotations

from pathlib import Path

from circulo.config import Settings
from circulo.text.engine import analyzer_for
from circulo.text.model import Analyzer


def configured(settings: Settings) -> Analyzer:
    # The engine's own settings (the text engine's area): read by name so this works with
    # and without them, the default engine and the shipped catalogue when absent.
    engine = str(getattr(settings, "text_engine", "default") or "default")
    intents = getattr(settings, "intents_file", None)
    return analyzer_for(engine, Path(intents) if intents else None)
