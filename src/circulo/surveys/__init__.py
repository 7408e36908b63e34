"""Surveys after an interaction: definitions, signed single-use links, one response per
interaction, CSAT and NPS (docs/surveys.md, ADR 0026)."""
