"""A user's own table: keys accelops makes, labels that are not 0/1, sizes that follow the data."""

import os

import numpy as np
import pandas as pd
import pytest

from accelops.config import Contract, TrainParams
from accelops.data import io
from accelops.errors import DataFormatError
from accelops.runtime import threads_for
from accelops.training import sizing
from accelops.training.split import random_split, split_rows


def _contract(**update) -> Contract:
    base = {"name": "t", "entity_id": "row_id", "timestamp": "ingested_at", "label": "y",
            "numeric_features": {"x": [None, None]}, "categorical_features": {}}
    return Contract.model_validate({**base, **update})


def test_made_keys_are_unique_per_file_and_carry_the_ingestion_time(tmp_path):
    contract = _contract(derive_keys=["entity_id", "timestamp"])
    frames = {}
    for name, mtime in (("a.csv", 1_700_000_000), ("b.csv", 1_700_086_400)):
        pd.DataFrame({"x": [1.0, 2.0, 3.0], "y": [0, 1, 0]}).to_csv(tmp_path / name, index=False)
        os.utime(tmp_path / name, (mtime, mtime))
        frames[name] = io.conform(io.read_table(tmp_path / name), contract, tmp_path / name)
    a, b = frames["a.csv"], frames["b.csv"]
    assert a["row_id"].is_unique and not set(a["row_id"]) & set(b["row_id"])
    assert (a["row_id"].diff().dropna() == 1).all()
    assert a["ingested_at"].unique().tolist() == [pd.Timestamp(1_700_000_000, unit="s", tz="UTC")]
    again = io.conform(io.read_table(tmp_path / "a.csv"), contract, tmp_path / "a.csv")
    assert again["row_id"].tolist() == a["row_id"].tolist()          # the same file, the same ids
    with pytest.raises(DataFormatError, match=r"missing contract column\(s\) \['row_id'\]"):
        io.conform(pd.DataFrame({"x": [1.0], "ingested_at": ["2026-01-01"], "y": [1]}), _contract(), "c.csv")


def test_a_declared_positive_value_maps_the_label_and_a_third_value_is_named(tmp_path):
    contract = _contract(positive_label="M", derive_keys=["entity_id", "timestamp"])
    df = io.conform(pd.DataFrame({"x": [1.0, 2.0, 3.0], "y": ["M", "B", "M"]}), contract, tmp_path / "t.csv")
    assert df["y"].tolist() == [1, 0, 1]
    coded = _contract(positive_label=2, derive_keys=["entity_id", "timestamp"])
    assert io.conform(pd.DataFrame({"x": [1.0, 2.0], "y": [2.0, 1.0]}), coded, "t.csv")["y"].tolist() == [1, 0]
    with pytest.raises(DataFormatError, match=r"t.csv: column y: a binary label with positive value 'M' .*"
                                              r"found \['B', 'M', 'X'\]"):
        io.conform(pd.DataFrame({"x": [1.0, 2.0, 3.0], "y": ["M", "B", "X"]}), contract, "t.csv")
    plain = io.conform(pd.DataFrame({"x": [1.0], "y": [2], "row_id": [1], "ingested_at": ["2026-01-01"]}),
                       _contract(), "t.csv")
    assert plain["y"].tolist() == [2]            # default positive 1: left for validation to report by row


def test_coded_categories_read_the_same_with_or_without_nulls():
    contract = _contract(categorical_features={"grade": ["1", "2"]}, derive_keys=["entity_id", "timestamp"])
    df = io.conform(pd.DataFrame({"x": [1.0, 2.0, 3.0], "grade": [1.0, None, 2.0], "y": [0, 1, 0]}), contract, "t")
    assert df["grade"].tolist()[::2] == ["1", "2"] and pd.isna(df["grade"][1])


def test_split_is_random_and_stratified_when_the_time_was_made():
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"x": rng.normal(size=1000), "y": (rng.random(1000) < 0.2).astype(int),
                       "ingested_at": pd.Timestamp("2026-01-01", tz="UTC")})
    split = split_rows(df, _contract(derive_keys=["timestamp"]), (0.7, 0.15, 0.15), seed=3)
    counts = split.value_counts()
    assert abs(counts["train"] - 700) <= 2 and abs(counts["valid"] - 150) <= 2
    rates = df.groupby(split)["y"].mean()
    assert (rates - df["y"].mean()).abs().max() < 0.01
    assert split.equals(random_split(df["y"], (0.7, 0.15, 0.15), 3))          # seeded: reproducible
    timed = split_rows(df.assign(ingested_at=pd.date_range("2026-01-01", periods=1000, freq="h", tz="UTC")),
                       _contract(), (0.7, 0.15, 0.15), seed=3)
    assert (timed.iloc[-100:] == "test").all()                              # by time otherwise


@pytest.mark.parametrize("rows, batch, epochs", [(398, 32, 60), (4_456, 64, 29), (140_000, 1024, 15),
                                                 (7_000_000, 1024, 10)])
def test_sizes_follow_the_training_rows_and_explicit_values_win(rows, batch, epochs):
    sized = sizing.sized(TrainParams(), rows)
    assert (sized.batch_size, sized.epochs) == (batch, epochs)
    steps = -(-rows // batch) * epochs
    assert steps >= min(sizing.TARGET_STEPS, -(-rows // batch) * sizing.MAX_EPOCHS)
    assert sizing.sized(TrainParams(batch_size=256, epochs=4), rows).model_dump() == \
        TrainParams(batch_size=256, epochs=4).model_dump()


def test_label_folds_and_threads_follow_the_rows():
    assert sizing.label_folds(569, 212) == 5 and sizing.label_folds(2_000_000, 300_000) == 3
    assert sizing.label_folds(40, 3) == 3 and sizing.label_folds(40, 1) == 2
    assert threads_for(6_000) == 1 and threads_for(6_000, requested=2) == 2
    assert threads_for(200_000) >= 1


def test_the_benchmark_budget_follows_the_data_size():
    from accelops.config import BenchmarkParams
    from accelops.serving.benchmark import budget

    bench = BenchmarkParams()
    assert budget(bench, 200_000) == (bench, []) and budget(bench, None) == (bench, [])
    small, notes = budget(bench, 6_000)
    assert "compile" not in small.runtimes and set(small.runtimes) == set(bench.runtimes) - {"compile"}
    assert small.batch_sizes == [1, 32, 256, 1024]
    assert small.max_seconds_per_cell == pytest.approx(bench.max_seconds_per_cell * 0.06)
    assert small.min_repeats == bench.min_repeats and len(notes) == 3
    assert budget(bench.model_copy(update={"runtimes": ["compile"]}), 500)[0].runtimes == ["compile"]
