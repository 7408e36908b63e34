"""Understanding what customers write (issue 17): language, sentiment, urgency, contact
reason and PII redaction, in Spanish and English. Pure: no database, no HTTP.

``circulo.text.engine.default_analyzer(intents)`` is the fast engine; ``analyzer_for(engine,
intents_file)`` builds the one a setting names (docs/text-analysis.md)."""
