"""Text analysis applied on ingest (issue 17, ADR 0025): an inbox row per stored message,
written in the ingest transaction; a leased worker that analyses them in batches, stores the
result on the event, ingests a ``text.analyzed`` event and applies its effects on routing."""
