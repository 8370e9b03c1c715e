"""Security (OWASP ML06, NIST AI RMF MEASURE 2.7): no load path can run code from a file, a tampered
weights file is refused (the pseudonymisation key never leaving its file: tests/flows/test_canary.py)."""

import ast
import pickle
from pathlib import Path

import pytest

from accelops.errors import ModelLoadError

REPO = Path(__file__).resolve().parents[2]
SOURCES = [p for d in ("src", "bench", "feature_repo") for p in (REPO / d).rglob("*.py")]

# calls that deserialise with pickle (or run code) whatever the file holds
FORBIDDEN = {"pickle.load", "pickle.loads", "cloudpickle.load", "cloudpickle.loads", "dill.load", "dill.loads",
             "joblib.load", "pd.read_pickle", "pandas.read_pickle", "shelve.open", "marshal.load", "marshal.loads",
             "yaml.load", "yaml.unsafe_load", "yaml.full_load", "mlflow.sklearn.load_model",
             "mlflow.pytorch.load_model", "eval", "exec"}


def _name(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_name(node.value)}.{node.attr}"
    return ""


def _keyword(call: ast.Call, name: str):
    return next((k.value for k in call.keywords if k.arg == name), None)


def _unsafe_calls(tree: ast.AST) -> list[str]:
    out = []
    for call in (n for n in ast.walk(tree) if isinstance(n, ast.Call)):
        name = _name(call.func)
        weights_only = _keyword(call, "weights_only")
        allow_pickle = _keyword(call, "allow_pickle")
        if name in FORBIDDEN:
            out.append(f"{name} (line {call.lineno})")
        elif name == "torch.load" and not (isinstance(weights_only, ast.Constant) and weights_only.value is True):
            out.append(f"torch.load without weights_only=True (line {call.lineno})")
        elif name in ("np.load", "numpy.load") and isinstance(allow_pickle, ast.Constant) and allow_pickle.value:
            out.append(f"np.load(allow_pickle=True) (line {call.lineno})")
        elif name == "skops.io.load" and _keyword(call, "trusted") is None:
            out.append(f"skops.io.load without a trusted list (line {call.lineno})")
        elif name == "mlflow.pyfunc.log_model" and not isinstance(_keyword(call, "python_model"), ast.Call):
            out.append(f"mlflow.pyfunc.log_model with a pickled python_model, not a code path (line {call.lineno})")
    return out


def test_the_walker_finds_each_unsafe_load():
    bad = ast.parse("import torch, pickle\ntorch.load(p)\ntorch.load(p, weights_only=False)\npickle.loads(b)\n"
                    "np.load(p, allow_pickle=True)\nskops.io.load(p)\nmlflow.pyfunc.log_model(python_model=m)\n"
                    "yaml.load(s)\n")
    assert len(_unsafe_calls(bad)) == 7
    good = ast.parse("torch.load(p, weights_only=True)\nnp.load(p)\nskops.io.load(p, trusted=T)\nyaml.safe_load(s)\n"
                     "mlflow.pyfunc.log_model(python_model=str(entry))\n")
    assert _unsafe_calls(good) == []


def test_no_load_path_in_the_code_can_run_code_from_a_file():
    found = {str(p.relative_to(REPO)): bad for p in SOURCES if (bad := _unsafe_calls(ast.parse(p.read_text())))}
    assert found == {}


class _RunsCode:
    def __reduce__(self):
        import os

        return os.system, (f"touch {_RunsCode.marker}",)


def test_a_tampered_weights_file_is_refused_before_any_code_runs(trained, tmp_path):
    import shutil

    from accelops.training.model_folder import WEIGHTS, load
    from accelops.training.predict import Predictor

    folder = tmp_path / "model"
    shutil.copytree(trained.params.layout.model_dir, folder)
    _RunsCode.marker = tmp_path / "ran"
    (folder / WEIGHTS).write_bytes(pickle.dumps({"weight": _RunsCode()}))
    for loader in (lambda: load(folder), lambda: Predictor(folder)):
        with pytest.raises(ModelLoadError, match=f"{WEIGHTS}: not loaded"):
            loader()
    assert not _RunsCode.marker.exists()


def test_the_canary_sweep_finds_a_value_in_a_table_a_database_or_a_log(tmp_path):
    import sqlite3

    import pandas as pd

    from accelops.pipeline.canaries import fresh_canaries, sweep

    CANARIES = fresh_canaries()
    assert sweep([tmp_path], CANARIES)["leaks"] == {} and fresh_canaries() != CANARIES
    pd.DataFrame({"note": ["ok", f"call {CANARIES[2]}"], "n": [1, 2]}).to_parquet(tmp_path / "t.parquet")
    with sqlite3.connect(tmp_path / "store.db") as db:
        db.execute("create table tags (value text)")
        db.execute("insert into tags values (?)", (f"owner {CANARIES[1]}",))
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "run.log").write_text(f"user {CANARIES[0]} logged in\n")
    found = sweep([tmp_path], CANARIES)
    assert found["files"] == 3 and {Path(k).name: v for k, v in found["leaks"].items()} == {
        "t.parquet": [CANARIES[2]], "store.db": [CANARIES[1]], "run.log": [CANARIES[0]]}


@pytest.mark.heavy
def test_the_audits_canary_run_plants_trains_and_finds_nothing(tmp_path):
    from accelops.config import load_params
    from accelops.data.generator import generate
    from accelops.pipeline.canaries import canary_run
    from helpers import write_params

    path = write_params(tmp_path / "project")
    generate(3000, 60, "2026-06-01", seed=5).frame.to_parquet(load_params(path).layout.history)
    result = canary_run(path)
    assert result["planted"] == 3 and result["flow_exit_code"] == 0, result
    assert result["files"] > 50 and result["hits"] == 0, result
    assert not (tmp_path / "project" / "work").exists()              # a scratch copy, removed after
