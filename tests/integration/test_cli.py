"""The command-line contract, through the installed console script."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ACCELOPS = str(Path(sys.executable).with_name("accelops"))


def run(*args, **kw):
    return subprocess.run([ACCELOPS, *args], capture_output=True, text=True, timeout=300, **kw)


def test_generate_and_validate_exit_codes(tmp_path, params_path):
    good, bad = tmp_path / "good.parquet", tmp_path / "bad.parquet"
    assert run("data", "generate", "--rows", "800", "--days", "5", "--seed", "2", "--out", str(good)).returncode == 0
    assert json.loads((tmp_path / "good.manifest.json").read_text())["rows"] == 800
    assert run("data", "generate", "--rows", "800", "--days", "5", "--scenario", "missing_spike",
               "--out", str(bad)).returncode == 0
    ok = run("validate", str(good), "--json", "--params", str(params_path))
    assert ok.returncode == 0 and json.loads(ok.stdout)["success"] is True
    rejected = run("validate", str(bad), "--params", str(params_path))
    assert rejected.returncode == 1
    assert "data_usage_gb: expect_column_values_to_not_be_null" in rejected.stderr
    assert "Skipping registering function" not in rejected.stderr + ok.stderr    # GE's chatter: the tools log
    from accelops.config import load_params

    assert "Skipping registering function" in load_params(params_path).layout.tools_log.read_text()


def test_validate_prints_warnings_beside_the_verdict(tmp_path, params_path):
    """An accepted file with warnings says so: each warning rule with its column, and the share of
    near-duplicate rows (the new user's survey table showed 'accepted' over 30% duplicates)."""
    import pandas as pd

    from accelops.data.generator import generate

    frame = generate(800, 5, "2026-06-01", seed=4).frame
    again = frame.head(200).assign(customer_id=frame["customer_id"].head(200) + 10**6)   # new keys, same values
    path = tmp_path / "dups.parquet"
    pd.concat([frame, again], ignore_index=True).to_parquet(path)
    res = run("validate", str(path), "--params", str(params_path))
    assert "note: 200 of 1000 rows (20.0%) repeat an earlier row on every feature and the label" in res.stderr
    warned = [line for line in res.stderr.splitlines() if line.startswith("warning: ")]
    assert res.returncode == 0 and res.stdout.strip().endswith("46 expectations, 1 warning(s))"), res.stdout
    assert len(warned) == 1 and "expect_compound_columns_to_be_unique: observed 400 of 1000 rows" in warned[0]
    negatives = tmp_path / "all_negative.parquet"                  # a file no model can be trained on
    frame.assign(churned=0).to_parquet(negatives)
    res = run("validate", str(negatives), "--params", str(params_path))
    assert "warning: label: a single class (0 in every labelled row): a model cannot be trained" in res.stderr


def test_unreadable_file_gets_a_one_line_error(tmp_path, params_path):
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"PAR1\x00\x00truncated")
    res = run("validate", str(broken), "--params", str(params_path))
    assert res.returncode == 2
    assert res.stderr.startswith(f"error: DataFormatError: {broken}: cannot be read as parquet")
    assert "Traceback" not in res.stderr


HEAVY = {"torch", "mlflow", "feast", "great_expectations", "evidently", "prefect", "sklearn", "pandas"}


@pytest.mark.parametrize("args", [["--help"], ["stage", "--help"], ["run", "--help"]])
def test_help_imports_no_heavy_library(args):
    """`accelops --help` is instant because it imports none of the libraries that take seconds to load:
    the console script runs under `python -X importtime`, which lists every module it imported."""
    res = subprocess.run([sys.executable, "-X", "importtime", ACCELOPS, *args], capture_output=True, text=True,
                         timeout=300)
    assert res.returncode == 0 and "Usage" in res.stdout, res.stderr[-2000:]
    timings = [line.split("|") for line in res.stderr.splitlines() if line.startswith("import time:")][1:]
    assert len(timings) > 50                                  # the listing is there (typer, click, rich...)
    imported = {name.strip().split(".")[0] for _, _, name in timings}
    assert imported & HEAVY == set(), f"{imported & HEAVY} imported by accelops {' '.join(args)}"
