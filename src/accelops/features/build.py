"""Build the feature table Feast reads: keys, timestamp, contract features and their windowed
aggregates; nothing else."""

from __future__ import annotations

import pandas as pd

from accelops.config import Contract, WindowParams
from accelops.fanout import Fanout


def feature_table(validated: pd.DataFrame, contract: Contract, windows: WindowParams | None = None,
                  fan: Fanout | None = None) -> pd.DataFrame:
    """Keys + features (+ trailing aggregates, point in time, per entity partition on `fan`) only: labels
    and (protected or not) PII never enter the store."""
    from accelops.features.windows import with_windows

    cols = [contract.entity_id, contract.timestamp, *contract.feature_columns]
    return with_windows(validated[cols].reset_index(drop=True), contract.entity_id, contract.timestamp, windows, fan)


def entity_rows(validated: pd.DataFrame, contract: Contract) -> pd.DataFrame:
    """Entity rows for a point-in-time training set: id, timestamp and label."""
    return validated[[contract.entity_id, contract.timestamp, contract.label]].reset_index(drop=True)
