"""Data validation (Great Expectations) and PII protection."""
