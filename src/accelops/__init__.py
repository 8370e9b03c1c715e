"""accelops: a workflow-orchestrated MLOps pipeline for tabular models.

The library never imports Prefect; flows/ and tasks/ are thin adapters over it.
Heavy libraries (torch, mlflow, feast, great_expectations, evidently) are imported
inside the functions that need them, so importing accelops is instant.
"""

__version__ = "0.1.0"
