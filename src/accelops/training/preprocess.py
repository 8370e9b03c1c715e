"""Preprocessing fitted on the training split only, saved as JSON (no pickle) with the model."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd


@dataclass
class Preprocessor:
    numeric: list[str]
    categorical: list[str]
    means: list[float]
    stds: list[float]
    vocab: dict[str, list[str]]   # index 0 is reserved for unknown / missing

    @classmethod
    def fit(cls, df: pd.DataFrame, numeric: list[str], categorical: list[str]) -> "Preprocessor":
        x = df[numeric].to_numpy(np.float64)
        means = np.nanmean(x, axis=0) if len(numeric) else np.zeros(0)
        stds = np.nanstd(x, axis=0) if len(numeric) else np.zeros(0)
        stds = np.where(~np.isfinite(stds) | (stds < 1e-9), 1.0, stds)
        means = np.where(np.isfinite(means), means, 0.0)
        vocab = {c: sorted(map(str, df[c].dropna().unique())) for c in categorical}
        return cls(numeric, categorical, means.tolist(), stds.tolist(), vocab)

    def transform(self, df: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Standardised float32 numerics (missing -> 0, the training mean) and int64 category codes."""
        x = (df[self.numeric].to_numpy(np.float64) - np.asarray(self.means)) / np.asarray(self.stds)
        x = np.nan_to_num(x, nan=0.0, posinf=0.0, neginf=0.0).astype(np.float32)
        codes = np.zeros((len(df), len(self.categorical)), dtype=np.int64)
        for j, col in enumerate(self.categorical):
            s = df[col]
            # vectorised lookup: unseen -> -1 and missing -> -1, both shifted to the reserved 0
            codes[:, j] = pd.Categorical(s.where(s.isna(), s.astype(str)), categories=self.vocab[col]).codes + 1
        return x, codes

    @property
    def cardinalities(self) -> list[int]:
        return [len(self.vocab[c]) + 1 for c in self.categorical]

    def save(self, path: Path) -> None:
        Path(path).write_text(json.dumps(asdict(self), indent=2))

    @classmethod
    def load(cls, path: Path) -> "Preprocessor":
        return cls(**json.loads(Path(path).read_text()))
