"""accelops: a workflow-orchestrated MLOps pipeline for tabular models.

The library never imports Prefect; accelops_flows (tasks, flows, the flow-starting CLI commands)
is a thin adapter over it.
Heavy libraries (torch, mlflow, feast, great_expectations, evidently) are imported
inside the functions that need them, so importing accelops is instant.
"""

__version__ = "0.1.0"
