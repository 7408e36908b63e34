"""The analyser the worker uses when none is given: the engine and contact reasons the
settings name (``CIRCULO_TEXT_ENGINE``, ``CIRCULO_INTENTS_FILE``; docs/text-analysis.md),
built once per process by ``circulo.text.engine.analyzer_for``."""

from __future__ import annotations

from circulo.config import Settings
from circulo.text.engine import analyzer_for
from circulo.text.model import Analyzer


def configured(settings: Settings) -> Analyzer:
    return analyzer_for(settings.text_engine, settings.intents_file)
