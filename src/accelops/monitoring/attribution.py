"""Which drifted features move the model's output: the change in mean prediction attributable to
each input column.

For column j, the current rows are scored once as they are and once with column j replaced by
values drawn from the reference (the same draw for every column, keeping each reference row's
value); the impact is mean f(current) - mean f(current with j from the reference). A column
that drifted but that the model ignores scores about 0; a column whose shift raised the predicted
risk scores positive. Interventional and one column at a time: interactions between two drifted
columns are shared out by neither, which the sum of impacts against the total change shows."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict


class Impact(BaseModel):
    model_config = ConfigDict(extra="forbid")
    column: str
    mean_prediction_change: float      # attributable to this column's change (current vs reference values)


class Attribution(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reference_mean_prediction: float
    current_mean_prediction: float
    rows: int
    impacts: list[Impact]              # largest |change| first

    @property
    def total_change(self) -> float:
        return self.current_mean_prediction - self.reference_mean_prediction


def prediction_impact(predict: Callable[[pd.DataFrame], np.ndarray], reference: pd.DataFrame,
                      current: pd.DataFrame, columns: list[str], rows: int = 20_000, seed: int = 0,
                      reference_scores: np.ndarray | None = None,
                      current_scores: np.ndarray | None = None) -> Attribution:
    """Impact of each of `columns` on the mean prediction, on up to `rows` current rows (and as many
    reference rows drawn with replacement); `predict` scores a frame of model inputs. Scores the
    caller already has for all of `reference` / `current` are used instead of scoring them again."""
    rng = np.random.default_rng(seed)
    sampled = len(current) > rows
    cur = current.sample(n=rows, random_state=seed) if sampled else current
    cur = cur.reset_index(drop=True)
    donors = reference.iloc[rng.integers(0, len(reference), len(cur))].reset_index(drop=True)
    base = float(np.mean(current_scores if current_scores is not None and not sampled else predict(cur)))
    if reference_scores is not None and len(reference) <= rows:
        ref_mean = float(np.mean(reference_scores))
    else:
        ref_mean = float(np.mean(predict(reference.sample(n=rows, random_state=seed) if len(reference) > rows
                                         else reference)))
    impacts = []
    for col in columns:
        swapped = cur.copy()
        swapped[col] = donors[col].to_numpy()
        impacts.append(Impact(column=col, mean_prediction_change=base - float(np.mean(predict(swapped)))))
    impacts.sort(key=lambda i: -abs(i.mean_prediction_change))
    return Attribution(reference_mean_prediction=ref_mean, current_mean_prediction=base, rows=len(cur),
                       impacts=impacts)
