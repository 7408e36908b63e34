"""Understanding what customers write (issue 17): PII redaction first; analysis to come."""
