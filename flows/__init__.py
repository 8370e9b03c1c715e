"""Prefect flows chaining the tasks in tasks/."""
