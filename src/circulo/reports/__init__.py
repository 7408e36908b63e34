"""Reports for a chosen period, computed from what routing and ingest stored: the tasks and
the survey answers (S10, S23)."""
