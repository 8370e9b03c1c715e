"""Drift statistics that hold their false-alarm rate at every sample size.

Per column, two numbers: an effect size (normalised Wasserstein distance for numeric columns, the
reference's standard deviation as the unit; Jensen-Shannon distance for categorical ones, the
measures Evidently reports) and a two-sample test's p-value (Kolmogorov-Smirnov; chi-square on the
category counts). A column drifted only when both agree: the effect reaches `column_threshold` (an
effect-size floor, so a million rows do not flag a shift nobody cares about) AND the p-value is below
alpha / m for m columns (Bonferroni, so the chance that a window of unchanged data flags any column
stays under alpha however small the batch and however many columns). Per slice value the same tests
run on that slice's rows, naming where the drift is.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict


class ColumnDrift(BaseModel):
    model_config = ConfigDict(extra="forbid")
    column: str
    kind: str                   # numeric | categorical
    effect: float               # normalised Wasserstein / Jensen-Shannon distance
    p_value: float
    drifted: bool
    severe: bool = False        # effect at or above the severe column threshold (drifted on its own)
    missing_delta: float = 0.0  # numeric columns: the change in the share of missing values
    missing_p: float = 1.0      # ... and its chi-square p-value


class SliceDrift(BaseModel):
    model_config = ConfigDict(extra="forbid")
    slice: str
    value: str
    reference_rows: int
    current_rows: int
    drifted_columns: list[str]
    max_effect: float           # the largest effect among its drifted columns (0 when none drifted)


def numeric_drift(ref: np.ndarray, cur: np.ndarray, scale: float | None = None) -> tuple[float, float]:
    """(Wasserstein distance in units of `scale` (default: the reference's standard deviation), KS
    p-value) of two numeric samples (missing values dropped). Both from one sort of each side: the
    two empirical CDFs evaluated on the merged values give the KS statistic (their largest gap) and
    the Wasserstein-1 distance (the area between them), the same numbers as scipy's ks_2samp
    (method "asymp") and wasserstein_distance at about a fifth of their time (three sorts each)."""
    from scipy.stats import kstwo

    x = np.sort(ref[np.isfinite(ref)])
    y = np.sort(cur[np.isfinite(cur)])
    n, m = len(x), len(y)
    if n < 2 or m < 2:
        return 0.0, 1.0
    merged = np.concatenate([x, y])
    merged.sort(kind="stable")                      # two sorted runs: a linear merge
    gap = np.abs(np.searchsorted(x, merged, "right") / n - np.searchsorted(y, merged, "right") / m)
    distance = float(np.sum(gap[:-1] * np.diff(merged)))
    std = float(np.std(x)) if scale is None else scale
    p = float(kstwo.sf(float(gap.max()), np.round(n * m / (n + m))))
    return distance / (std if std > 1e-12 else 1.0), min(max(p, 0.0), 1.0)


def categorical_drift(ref: pd.Series, cur: pd.Series) -> tuple[float, float]:
    """(Jensen-Shannon distance, chi-square p-value) of two categorical samples (missing is a category)."""
    from scipy.spatial.distance import jensenshannon
    from scipy.stats import chi2_contingency

    def counts_of(s: pd.Series) -> dict[str, int]:
        counts = s.value_counts(dropna=False)            # count first, name the few values after
        return {("<missing>" if pd.isna(k) else str(k)): int(v) for k, v in counts.items()}

    a, b = counts_of(ref), counts_of(cur)
    values = sorted(set(a) | set(b))
    counts = np.array([[a.get(v, 0) for v in values], [b.get(v, 0) for v in values]], dtype=float)
    if counts.sum(1).min() == 0:
        return 0.0, 1.0
    effect = float(jensenshannon(counts[0] / counts[0].sum(), counts[1] / counts[1].sum()))
    if len(values) < 2:
        return effect, 1.0
    return effect, float(chi2_contingency(counts, correction=False).pvalue)


def missing_drift(ref: np.ndarray, cur: np.ndarray) -> tuple[float, float]:
    """(absolute change in the share of missing values, chi-square p-value of the 2x2 counts)."""
    from scipy.stats import chi2_contingency

    a, b = int(np.isnan(ref).sum()), int(np.isnan(cur).sum())
    delta = abs(a / max(len(ref), 1) - b / max(len(cur), 1))
    if a + b == 0 or a + b == len(ref) + len(cur):
        return delta, 1.0
    return delta, float(chi2_contingency([[a, len(ref) - a], [b, len(cur) - b]], correction=False).pvalue)


def column_drifts(reference: pd.DataFrame, current: pd.DataFrame, numeric: list[str], categorical: list[str],
                  threshold: float, alpha: float, severe: float,
                  scales: dict[str, float] | None = None, severe_share: float = 0.2) -> list[ColumnDrift]:
    """Every column's effect and p-value; drifted = effect >= threshold and p < alpha / m (for numeric
    columns, the change in the missing share is tested the same way: values that stop arriving are
    drift the distance of the values present cannot see). Severe: a numeric distance of at least
    `severe` (in standard deviations), or a Jensen-Shannon distance or missing-share change of at
    least `severe_share`. `scales`: the unit of each numeric column's distance (default: its
    standard deviation in `reference`)."""
    level = alpha / max(len(numeric) + len(categorical), 1)
    out = []
    for col in numeric:
        ref, cur = reference[col].to_numpy(np.float64), current[col].to_numpy(np.float64)
        effect, p = numeric_drift(ref, cur, (scales or {}).get(col))
        delta, p_missing = missing_drift(ref, cur)
        shifted = effect >= threshold and p < level
        emptied = delta >= threshold and p_missing < level
        out.append(ColumnDrift(column=col, kind="numeric", effect=effect, p_value=p, drifted=bool(shifted or emptied),
                               severe=bool((shifted and effect >= severe) or (emptied and delta >= severe_share)),
                               missing_delta=delta, missing_p=p_missing))
    for col in categorical:
        effect, p = categorical_drift(reference[col], current[col])
        drifted = bool(effect >= threshold and p < level)
        out.append(ColumnDrift(column=col, kind="categorical", effect=effect, p_value=p, drifted=drifted,
                               severe=bool(drifted and effect >= severe_share)))
    return out


def slice_drifts(reference: pd.DataFrame, current: pd.DataFrame, slices: list[str], numeric: list[str],
                 categorical: list[str], threshold: float, alpha: float, severe: float,
                 min_rows: int, severe_share: float = 0.2) -> list[SliceDrift]:
    """Per value of each slice column with at least `min_rows` rows on both sides: the drifted columns
    within it (the slice column itself excluded), slices with drift first, by their largest drifted
    effect (a slice that holds the drift has larger effects than a bigger one that dilutes it). The
    level is divided by the number of slice values tested as well (Bonferroni over slices x columns).
    Numeric distances are in units of the whole reference's standard deviation, so slices compare."""
    scales = {c: float(np.nanstd(reference[c].to_numpy(np.float64))) or 1.0 for c in numeric}
    cells = [(col, v) for col in slices for v in sorted(set(reference[col].astype(str)) & set(current[col].astype(str)))]
    out = []
    for col, value in cells:
        r = reference[reference[col].astype(str) == value]
        c = current[current[col].astype(str) == value]
        if len(r) < min_rows or len(c) < min_rows:
            continue
        tests = column_drifts(r, c, numeric, [x for x in categorical if x != col], threshold,
                              alpha / max(len(cells), 1), severe, scales, severe_share)
        out.append(SliceDrift(slice=col, value=value, reference_rows=len(r), current_rows=len(c),
                              drifted_columns=[t.column for t in tests if t.drifted],
                              max_effect=max((max(t.effect, t.missing_delta) for t in tests if t.drifted),
                                             default=0.0)))
    return sorted(out, key=lambda s: (not s.drifted_columns, -s.max_effect))
