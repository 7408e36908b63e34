"""Erasure, suppression of erased identifiers and event retention (GDPR articles 5, 17, 19).

Orchestration over every domain: it imports the domains, no domain imports it (except ingest,
which asks ``suppression`` whether an identifier was erased)."""
