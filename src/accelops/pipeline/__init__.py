"""The library's compositions: file-to-file stage functions shared by the CLI / DVC and the Prefect
tasks, and online scoring (registry + feature store + scorer)."""
