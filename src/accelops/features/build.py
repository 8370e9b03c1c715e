"""Build the feature table Feast reads: keys, timestamp and contract features; nothing else."""

from __future__ import annotations

import pandas as pd

from accelops.config import DatasetParams


def feature_table(validated: pd.DataFrame, contract: DatasetParams) -> pd.DataFrame:
    """Keys + features only: labels and (protected or not) PII never enter the store."""
    cols = [contract.entity_id, contract.timestamp, *contract.feature_columns]
    return validated[cols].reset_index(drop=True)


def entity_rows(validated: pd.DataFrame, contract: DatasetParams) -> pd.DataFrame:
    """Entity rows for a point-in-time training set: id, timestamp and label."""
    return validated[[contract.entity_id, contract.timestamp, contract.label]].reset_index(drop=True)
