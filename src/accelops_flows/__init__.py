"""The Prefect side of accelops: tasks (thin adapters over accelops.pipeline), the training and
monitoring flows, their deployments, the demo, and the `accelops` console script (which adds the
flow-starting commands to the library's CLI). The library never imports this package."""
