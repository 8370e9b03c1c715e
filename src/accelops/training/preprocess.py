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
        means, stds = np.zeros(len(numeric)), np.ones(len(numeric))
        for j, col in enumerate(numeric):       # a column at a time: the whole float64 matrix was 2 GB at 10M rows
            x = df[col].to_numpy(np.float64)
            x = x[np.isfinite(x)]
            if len(x):
                means[j], std = float(x.mean()), float(x.std())
                stds[j] = std if std >= 1e-9 else 1.0
        vocab = {c: sorted(map(str, df[c].dropna().unique())) for c in categorical}
        return cls(numeric, categorical, means.tolist(), stds.tolist(), vocab)

    def transform(self, df: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Standardised float32 numerics (missing -> 0, the training mean) and int64 category codes."""
        x = df[self.numeric].to_numpy(np.float32)      # one copy, then in place (float32 throughout)
        x -= np.asarray(self.means, dtype=np.float32)
        x *= np.asarray(1.0 / np.asarray(self.stds), dtype=np.float32)
        x[~np.isfinite(x)] = 0.0
        codes = np.zeros((len(df), len(self.categorical)), dtype=np.int64)
        for j, col in enumerate(self.categorical):
            # hash each distinct value once (factorize), then look the few uniques up in the vocabulary;
            # missing (-1 from factorize) and unseen values both land in the reserved index 0
            found, uniques = pd.factorize(df[col], use_na_sentinel=True)
            index = {v: i + 1 for i, v in enumerate(self.vocab[col])}
            lookup = np.array([index.get(str(u), 0) for u in uniques] + [0], dtype=np.int64)
            codes[:, j] = lookup[found]
        return x, codes

    @property
    def cardinalities(self) -> list[int]:
        return [len(self.vocab[c]) + 1 for c in self.categorical]

    def save(self, path: Path) -> None:
        Path(path).write_text(json.dumps(asdict(self), indent=2))

    @classmethod
    def load(cls, path: Path) -> "Preprocessor":
        return cls(**json.loads(Path(path).read_text()))
