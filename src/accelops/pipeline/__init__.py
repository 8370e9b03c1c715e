"""File-to-file stage functions shared by the CLI / DVC and the Prefect tasks."""
