"""The bad-input catalogue: every entry point's malformed or bad inputs, each with the typed error and
the words its message must hold (the file or argument, and the key, column and rule where there is
one). Entry points: params.yaml (PARAMS_CASES), training data and monitoring batches (DATA_CASES), the
console script's arguments (CLI_CASES), entity ids for online scoring (PREDICT_CASES) and delayed-label
files (LABEL_CASES).

Used by the tests (tests/unit/test_config.py, tests/flows/test_bad_inputs.py,
tests/reliability/test_bad_input_entry_points.py), bench/config_errors.py and `accelops audit
--bad-input`, which runs them all through the library functions the flows and the CLI call (the CLI
cases through the console script itself) and prints tried / rejected per entry point."""

from __future__ import annotations

import copy
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

from accelops.errors import (AccelopsError, ConfigError, DataFormatError, DataValidationError, EntityIdError,
                             PiiDetectedError)

# params.yaml: (what is wrong, how the demo's params.yaml is broken, the key the error names, what it says)
PARAMS_CASES = [
    ("epochs not positive", lambda r: r["train"].update(epochs=0), "train.epochs", "greater than 0"),
    ("epochs not a number", lambda r: r["train"].update(epochs="ten"), "train.epochs", "valid integer"),
    ("split not summing to 1", lambda r: r["train"].update(split=[0.5, 0.2, 0.2]), "train", "sum"),
    ("misspelt key", lambda r: r["train"].update(epoch=3), "train.epoch", "Extra inputs"),
    ("unknown section", lambda r: r.update(trainer={"epochs": 3}), "trainer", "Extra inputs"),
    ("slice not categorical", lambda r: r["dataset"].update(slices=["email"]), "dataset.slices",
     "slices must be categorical"),
    ("PII column also a feature", lambda r: r["dataset"].update(pii=["plan"]), "dataset.pii",
     "PII columns can never be features"),
    ("feature both numeric and categorical", lambda r: r["dataset"]["categorical_features"].update(
        tenure_months=["a"]), "dataset.categorical_features", "declared both numeric and categorical: ['tenure_months']"),
    ("label is also the id", lambda r: r["dataset"].update(label="customer_id"), "dataset.label",
     "three different columns"),
    ("range min above max", lambda r: r["dataset"]["numeric_features"].update(tenure_months=[10, 1]),
     "dataset.numeric_features.tenure_months", "min 10.0 > max 1.0"),
    ("no contract at all", lambda r: r.pop("dataset"), "dataset", "Field required"),
    ("positive label a list", lambda r: r["dataset"].update(positive_label=[1]), "dataset.positive_label",
     "valid integer"),
    ("unknown derived key", lambda r: r["dataset"].update(derive_keys=["label"]), "dataset.derive_keys.0",
     "'entity_id' or 'timestamp'"),
    ("unknown PII policy", lambda r: r["pii"].update(policy="encrypt"), "pii.policy", "'drop' or 'hash'"),
    ("feature in two views", lambda r: r["features"]["views"]["customer_usage"]["features"].append("plan"),
     "features.views", "each feature belongs to one view; in several: ['plan']"),
    ("feature in no view", lambda r: r["features"]["views"]["customer_usage"]["features"].remove("late_payments"),
     "features.views", "features in no view: ['late_payments']"),
    ("view naming a missing column", lambda r: r["features"]["views"]["customer_usage"]["features"].append("email"),
     "features.views", "neither contract features nor windowed aggregates: ['email']"),
    ("window over a categorical", lambda r: r["features"]["windows"].update(mean=["plan"]), "features.windows.mean",
     "must be numeric contract features; unknown: ['plan']"),
    ("invariance column missing", lambda r: r["evaluate"]["invariance"].update(columns=["gone"]),
     "evaluate.invariance.columns", "must be contract columns (not the label); unknown: ['gone']"),
    ("sensitive column missing", lambda r: r["evaluate"].update(sensitive=["gender"]), "evaluate.sensitive",
     "must be categorical features; unknown: ['gender']"),
    ("directional feature missing", lambda r: r["evaluate"]["directional"].append(
        {"feature": "income", "delta": 1, "direction": "up"}), "evaluate.directional",
     "features must be numeric features; unknown: ['income']"),
    ("window days repeated", lambda r: r["features"]["windows"].update(days=[7, 7]), "features.windows",
     "distinct positive"),
    ("windows changed, views not", lambda r: r["features"]["windows"].update(days=[7, 14]), "features.views",
     "neither contract features nor windowed aggregates: ['data_usage_gb_mean_30d',"),
    ("aggregate in no view", lambda r: r["features"]["views"]["customer_usage_windows"]["features"].remove(
        "events_30d"), "features.views", "features in no view: ['events_30d']"),
    ("view TTL zero", lambda r: r["features"]["views"]["customer_usage"].update(ttl_days=0),
     "features.views.customer_usage.ttl_days", "greater than 0"),
    ("gate costs half set", lambda r: r["evaluate"].update(cost_fp=1.0), "evaluate",
     "set both cost_fp and cost_fn"),
    ("retrain k above n", lambda r: r["monitor"]["policy"].update(k=4), "monitor.policy", "k (4) cannot exceed n (3)"),
    ("server profile on embedded backends", lambda r: r.update(profile="server"), "features.registry",
     "profile server needs Feast's SQL registry URL"),
    ("password in a URL", lambda r: r["monitor"].update(ledger_url="postgresql+psycopg://u:secret@db/x"),
     "monitor.ledger_url", "a password in a URL would be stored and logged: use PGPASSWORD"),
]


def _frame() -> pd.DataFrame:
    from accelops.data.generator import generate

    return generate(1500, 30, "2026-06-01", seed=9).frame


def _parquet(df, path):
    df.to_parquet(path)
    return path


def _mutate(fn):
    def make(path):
        df = _frame()
        fn(df)
        return _parquet(df, path.with_suffix(".parquet"))
    return make


def _mutate_csv(fn):
    def make(path):
        df = _frame()
        fn(df)
        path = path.with_suffix(".csv")
        df.to_csv(path, index=False)
        return path
    return make


def _truncated(path):
    full = _parquet(_frame(), path.with_suffix(".full.parquet")).read_bytes()
    path = path.with_suffix(".parquet")
    path.write_bytes(full[: len(full) // 2])
    return path


def _csv(path, **kw):
    path = path.with_suffix(".csv")
    _frame().to_csv(path, index=False, **kw)
    return path


DATA_CASES = {
    "empty file": (lambda p: (p.with_suffix(".parquet").write_bytes(b""), p.with_suffix(".parquet"))[1],
                   DataFormatError, "file is empty"),
    "missing file": (lambda p: p.with_suffix(".parquet"), DataFormatError, "file not found"),
    "truncated parquet": (_truncated, DataFormatError, "cannot be read as parquet"),
    "garbage bytes": (lambda p: (p.with_suffix(".parquet").write_bytes(b"\x00PK\x03garbage" * 50),
                                 p.with_suffix(".parquet"))[1], DataFormatError, "cannot be read as parquet"),
    "unsupported type": (lambda p: (p.with_suffix(".xlsx").write_bytes(b"x"), p.with_suffix(".xlsx"))[1],
                         DataFormatError, "unsupported file type"),
    "wrong delimiter": (lambda p: _csv(p, sep=";"), DataFormatError, "wrong delimiter"),
    "wrong encoding": (lambda p: _csv(p, encoding="utf-16"), DataFormatError, "not UTF-8"),
    "header only": (lambda p: (_frame().head(0).to_csv(p.with_suffix(".csv"), index=False), p.with_suffix(".csv"))[1],
                    DataFormatError, "no rows"),
    "missing column": (_mutate(lambda d: d.drop(columns=["plan"], inplace=True)), DataFormatError, "['plan']"),
    "extra column": (_mutate(lambda d: d.insert(3, "campaign", "spring")), DataValidationError,
                     "expect_table_columns_to_match_set: unexpected column(s) ['campaign']"),
    "text in numeric": (_mutate_csv(lambda d: d.__setitem__("tenure_months", d["tenure_months"].astype(object)
                                                        .where(d.index > 0, "ten"))),
                        DataFormatError, "column tenure_months: expected numbers"),
    "bad timestamp": (_mutate(lambda d: d.__setitem__("event_timestamp", d["event_timestamp"].astype(str)
                                                      .where(d.index > 0, "yesterday"))),
                      DataFormatError, "column event_timestamp: not a timestamp"),
    "out of range": (_mutate(lambda d: d.loc.__setitem__((slice(0, 4), "satisfaction_score"), 9.0)),
                     DataValidationError, "column satisfaction_score: expect_column_values_to_be_between"),
    "negative value": (_mutate(lambda d: d.loc.__setitem__((slice(0, 4), "tenure_months"), -3.0)),
                       DataValidationError, "column tenure_months: expect_column_values_to_be_between"),
    "unknown category": (_mutate(lambda d: d.loc.__setitem__((slice(0, 99), "channel"), "marketplace")),
                         DataValidationError, "column channel: expect_column_values_to_be_in_set"),
    "null spike": (_mutate(lambda d: d.loc.__setitem__((slice(0, 299), "data_usage_gb"), None)),
                   DataValidationError, "column data_usage_gb: expect_column_values_to_not_be_null"),
    "null entity id": (_mutate(lambda d: d.__setitem__("customer_id", d["customer_id"].astype("Int64")
                                                       .where(d.index > 2))),
                       DataValidationError, "column customer_id: expect_column_values_to_not_be_null"),
    "duplicate keys": (_mutate(lambda d: d.loc.__setitem__((slice(1, 1), ["customer_id", "event_timestamp"]),
                                                           d.loc[[0], ["customer_id", "event_timestamp"]].to_numpy())),
                       DataValidationError, "column customer_id,event_timestamp: expect_compound_columns_to_be_unique"),
    "label out of set": (_mutate(lambda d: d.loc.__setitem__((slice(0, 9), "churned"), 2)),
                         DataValidationError, "column churned: expect_column_values_to_be_in_set"),
    "null labels": (_mutate(lambda d: d.__setitem__("churned", d["churned"].astype(float).where(d.index > 9))),
                    DataValidationError, "column churned: expect_column_values_to_not_be_null"),
    "a single label class": (_mutate(lambda d: d.__setitem__("churned", 0)), DataValidationError,
                             "column churned: training data needs both label classes: 1 class(es): [0]"),
    "too few rows": (lambda p: _parquet(_frame().head(20), p.with_suffix(".parquet")), DataValidationError,
                     "expect_table_row_count_to_be_between"),
    "event in the future": (_mutate(lambda d: d.loc.__setitem__(
        (slice(0, 0), "event_timestamp"), pd.Timestamp.now(tz="UTC") + pd.Timedelta(days=3))),
        DataValidationError, "column event_timestamp: expect_column_max_to_be_between"),
    "event older than the window": (_mutate(lambda d: d.loc.__setitem__(
        (slice(0, 0), "event_timestamp"), pd.Timestamp("2019-01-01", tz="UTC"))),
        DataValidationError, "column event_timestamp: expect_column_min_to_be_between"),
    "undeclared PII column": (_mutate(lambda d: d.insert(3, "backup_contact", d["email"])), PiiDetectedError,
                              "column backup_contact: email"),
    "PII inside a feature": (_mutate(lambda d: d.__setitem__("channel", d["email"])), PiiDetectedError,
                             "column channel: email"),
}


# CLI arguments: the real `accelops` console script in a subprocess, from an empty folder. (what is wrong:
# (the arguments, where {params} is a valid params.yaml of its own workdir, {trained} a trained project's and
# {folder} the case's folder; files to write there first; what the first stderr line must hold)). Each must
# exit 2 with one line `error: <TypedError or UsageError>: ...` (no traceback) and leave no state in the
# workdir (its logs/ and the empty Prefect home aside: a command that loads params.yaml routes its logs
# there before it reads its input). The cases fail before the heavy imports: about a second each.
CLI_CASES: dict[str, tuple[list[str], dict[str, str | bytes], tuple[str, ...]]] = {
    "unknown command": (["frobnicate"], {}, ("UsageError: accelops:", "No such command 'frobnicate'")),
    "unknown flow": (["run", "nightly", "--params", "{params}"], {},
                     ("UsageError: accelops run:", "No such command 'nightly'")),
    "unknown option": (["status", "--colour", "--params", "{params}"], {},
                       ("UsageError: accelops status:", "No such option: --colour")),
    "missing required option": (["promote", "3", "--params", "{params}"], {},
                                ("UsageError: accelops promote:", "Missing option '--reason'")),
    "params file missing": (["status", "--params", "{folder}/missing.yaml"], {},
                            ("ConfigError:", "missing.yaml", "parameters file not found")),
    "params file not YAML": (["status", "--params", "{folder}/broken.yaml"],
                             {"broken.yaml": "train: [epochs: 3\n  dataset: {label\n"},
                             ("ConfigError:", "broken.yaml", "not valid YAML")),
    "params file a list": (["status", "--params", "{folder}/list.yaml"], {"list.yaml": "- train\n- dataset\n"},
                           ("ConfigError:", "list.yaml", "expected a mapping of sections")),
    "score a missing file": (["score", "{folder}/missing.parquet", "--params", "{params}"], {},
                             ("DataFormatError:", "missing.parquet", "file not found")),
    "validate a file of another type": (["validate", "{folder}/table.json", "--params", "{params}"],
                                        {"table.json": '[{"customer_id": 1}]\n'},
                                        ("DataFormatError:", "table.json", "unsupported file type '.json'")),
    "validate prose in a .txt": (["validate", "{folder}/notes.txt", "--params", "{params}"],
                                 {"notes.txt": "Meeting notes\nthe churn model looks fine\nship it on Monday\n"},
                                 ("DataFormatError:", "notes.txt", "missing contract column(s)")),
    "unknown stage": (["stage", "deploy", "--params", "{params}"], {}, ("AccelopsError:", "unknown stage 'deploy'")),
    "predict id not an integer": (["predict", "abc", "--params", "{params}"], {},
                                  ("UsageError: accelops predict:", "'ids'", "valid integer")),
    "predict without ids": (["predict", "--params", "{params}"], {},
                            ("UsageError: accelops predict:", "Missing argument 'ids'")),
    "negative number": (["audit", "--rows", "-5", "--params", "{params}"], {},
                        ("UsageError: accelops audit:", "'--rows'", "greater than or equal to 20")),
    "number not an integer": (["data", "generate", "--out", "{folder}/g.parquet", "--rows", "ten"], {},
                              ("UsageError: accelops data generate:", "'--rows'", "valid integer")),
    "negative severity": (["data", "generate", "--out", "{folder}/g.parquet", "--severity", "-1"], {},
                          ("UsageError: accelops data generate:", "'--severity'", "greater than or equal to 0")),
    "history at a time that is not one": (["history", "--at", "yesterday", "--params", "{params}"], {},
                                          ("AccelopsError:", "--at 'yesterday'", "not an ISO time")),
    # version 0: MLflow numbers versions from 1, so this can never move a real project's @champion
    "rollback to a version that does not exist": (["rollback", "--reason", "audit", "--to", "0",
                                                   "--params", "{trained}"], {},
                                                  ("RegistryError:", "no version 0")),
}
NEEDS_TRAINED = "needs a trained project (a registry with @champion, a loaded online store)"

# predict ids: `accelops predict`'s library function (pipeline.online.score_online) on a trained project:
# what is wrong: (the ids, from three ids the online store holds and one it does not; the typed error, or
# None: reported in unknown_ids and not scored; what its message must hold besides the id column)
PREDICT_CASES: dict[str, tuple[Callable[[list[int], int], list], type | None, tuple[str, ...]]] = {
    "no id": (lambda known, unknown: [], EntityIdError, ("ids:", "no id given")),
    "text id": (lambda known, unknown: [known[0], "abc"], EntityIdError,
                ("ids:", "1 value(s) not a 64-bit integer id: 'abc'")),
    "fractional id": (lambda known, unknown: [known[0] + 0.5], EntityIdError, ("ids:", "not a 64-bit integer id")),
    "boolean id": (lambda known, unknown: [True], EntityIdError, ("ids:", "not a 64-bit integer id: True")),
    "null id": (lambda known, unknown: [known[0], None], EntityIdError, ("ids:", "not a 64-bit integer id: None")),
    "empty text id": (lambda known, unknown: [""], EntityIdError, ("ids:", "not a 64-bit integer id: ''")),
    "id beyond 64 bits": (lambda known, unknown: [2 ** 63], EntityIdError,
                          ("ids:", f"not a 64-bit integer id: {2 ** 63}")),
    "repeated id": (lambda known, unknown: [known[0], known[1], known[0]], EntityIdError,
                    ("ids:", "given more than once")),
    "unknown id": (lambda known, unknown: [known[0], unknown], None, ()),
    "only unknown ids": (lambda known, unknown: [unknown, unknown + 1], None, ()),
}


def _label_frame(contract, rows: int = 60) -> pd.DataFrame:
    """A clean delayed-label file's rows for `contract`: ids 1..rows, hourly timestamps, the positive value
    (dataset.positive_label) on every other row and one other value on the rest."""
    positive = contract.positive_label
    negative = (1 if positive == 0 else 0) if isinstance(positive, int) else f"not {positive}"
    return pd.DataFrame({contract.entity_id: np.arange(1, rows + 1, dtype="int64"),
                         contract.timestamp: pd.date_range("2026-06-01", periods=rows, freq="h", tz="UTC"),
                         contract.label: [positive if i % 2 else negative for i in range(rows)]})


def _label_file(fn=None, suffix=".parquet", **csv):
    """A label file: the clean rows changed by `fn(df, contract)`, as Parquet or (suffix .csv) CSV."""
    def make(folder: Path, contract) -> Path:
        df = _label_frame(contract)
        if fn is not None:
            df = fn(df, contract)
        path = folder / f"labels{suffix}"
        df.to_parquet(path) if suffix == ".parquet" else df.to_csv(path, index=False, **csv)
        return path
    return make


def _set(column: str, rows: slice, value):
    """Rows `rows` of the contract's `column` (entity_id, timestamp, label) set to `value` (or value(contract))."""
    def fn(df, c):
        col = getattr(c, column)
        df[col] = df[col].astype(object)
        df.loc[rows, col] = value(c) if callable(value) else value
        return df
    return fn


def _third_class(c):
    """A label value that is neither the positive value nor the other one (_label_frame's)."""
    return max(c.positive_label, 1) + 6 if isinstance(c.positive_label, int) else f"{c.positive_label}?"


def _written(name: str, content: bytes | Callable[[Path, Any], bytes]):
    def make(folder: Path, contract) -> Path:
        path = folder / name
        path.write_bytes(content(folder, contract) if callable(content) else content)
        return path
    return make


def _truncated_labels(folder: Path, contract) -> bytes:
    full = folder / "full.parquet.tmp"
    _label_frame(contract, rows=2000).to_parquet(full)
    data = full.read_bytes()
    full.unlink()
    return data[: len(data) // 2]


# label files: delayed labels read by the monitoring intake (monitoring.performance.read_labels, over the
# folder monitor.labels). What is wrong: (how the file is made in a folder of its own, what the
# DataFormatError must hold: {id}, {ts} and {label} are the contract's columns)
LABEL_CASES: dict[str, tuple[Callable[[Path, Any], Path], tuple[str, ...]]] = {
    "missing label column": (_label_file(lambda d, c: d.drop(columns=[c.label])),
                             ("label file without column(s) ['{label}']",)),
    "missing id column": (_label_file(lambda d, c: d.drop(columns=[c.entity_id])),
                          ("label file without column(s) ['{id}']",)),
    "missing timestamp column": (_label_file(lambda d, c: d.drop(columns=[c.timestamp])),
                                 ("label file without column(s) ['{ts}']",)),
    "label outside the two classes": (_label_file(_set("label", slice(0, 2), _third_class)),
                                      ("column {label}:", "{two}")),
    "null labels": (_label_file(_set("label", slice(0, 2), None)), ("column {label}: 3 null label(s)",)),
    "text ids": (_label_file(lambda d, c: d.assign(**{c.entity_id: "C-" + d[c.entity_id].astype(str)}), ".csv"),
                 ("column {id}: 60 value(s) not integer ids",)),
    "null ids": (_label_file(lambda d, c: d.assign(**{c.entity_id: d[c.entity_id].astype("Int64").where(d.index > 1)})),
                 ("column {id}: 2 null id(s)",)),
    "unparseable timestamp": (_label_file(lambda d, c: d.assign(**{c.timestamp: d[c.timestamp].astype(str)
                                                                   .where(d.index > 0, "yesterday")})),
                              ("column {ts}: not a timestamp",)),
    "null timestamp": (_label_file(lambda d, c: d.assign(**{c.timestamp: d[c.timestamp].where(d.index > 0)})),
                       ("column {ts}: 1 null timestamp(s)",)),
    "conflicting labels for a key": (_label_file(lambda d, c: pd.concat(
        [d, d.head(1).assign(**{c.label: d[c.label].iloc[1]})], ignore_index=True)),
        ("columns {id},{ts}: 1 key(s) with different labels in one file",)),
    "truncated parquet": (_written("labels.parquet", _truncated_labels), ("cannot be read as parquet",)),
    "wrong delimiter": (_label_file(suffix=".csv", sep=";"), ("only one column was read (wrong delimiter?",)),
    "wrong encoding": (_label_file(suffix=".csv", encoding="utf-16"), ("not UTF-8",)),
    "empty file": (_written("labels.csv", b""), ("file is empty",)),
    "header only": (_written("labels.csv", lambda f, c: f"{c.entity_id},{c.timestamp},{c.label}\n".encode()),
                    ("no rows",)),
}


ENTRY_POINTS = ("params.yaml", "training data", "monitoring batch", "CLI arguments", "predict ids", "label files")


def demo_contract(params) -> bool:
    """The data cases (and the audit's landed windows) come from the demo's generator: they apply to a
    contract whose columns that generator writes."""
    return set(params.dataset.columns) <= set(_frame().columns)


def _params_case(base: dict, mutate, key: str, problem: str, folder: Path) -> dict[str, Any]:
    """One broken params.yaml, loaded as `accelops` loads it; rejected when the error names the key and
    the problem and nothing was written (no workdir)."""
    import yaml

    from accelops.config import load_params

    raw = copy.deepcopy(base)
    try:
        mutate(raw)
    except (KeyError, TypeError, AttributeError, ValueError):
        return {"applies": False}
    folder.mkdir(parents=True)
    path = folder / "params.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    try:
        load_params(path)
        return {"applies": True, "rejected": False, "message": "(accepted)"}
    except ConfigError as exc:
        msg = str(exc)
        named = key in msg and problem in msg and str(path) in msg
        return {"applies": True, "rejected": named and not (folder / "work").exists(), "message": msg}


def _data_case(run: Callable[[Path], Any], make, error: type, fragment: str, folder: Path) -> dict[str, Any]:
    folder.mkdir(parents=True)
    bad = make(folder / "input")
    try:
        run(bad)
        return {"applies": True, "rejected": False, "message": "(accepted)"}
    except AccelopsError as exc:
        msg = str(exc)
        ok = isinstance(exc, error) and bad.name in msg and fragment in msg
        return {"applies": True, "rejected": ok, "error": type(exc).__name__, "message": msg[:500]}


def _files_in(folder: Path, skip: tuple[str, ...] = ()) -> dict[str, tuple[int, int]]:
    """Size and mtime of every file under `folder` but those under the top-level folders `skip`."""
    if not folder.exists():
        return {}
    return {str(f.relative_to(folder)): (f.stat().st_size, f.stat().st_mtime_ns) for f in folder.rglob("*")
            if f.is_file() and f.relative_to(folder).parts[0] not in skip}


ACCELOPS = Path(sys.executable).with_name("accelops")
# what any command that loads params.yaml writes before it reads its input: not state
CLI_LOGS = ("logs", "prefect")


def _cli_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("ACCELOPS_PARAMS", "ACCELOPS_WORKDIR", "ACCELOPS_VERBOSE")}
    return env | {"COLUMNS": "200"}


def cli_params_text(params_path: Path) -> str:
    """`params_path`'s params.yaml with its paths absolute and the workdir left as {WORKDIR} (each CLI
    case writes it with a workdir of its own)."""
    import yaml

    from accelops.config import read_raw

    raw = read_raw(Path(params_path))
    root = Path(params_path).resolve().parent
    paths = raw.get("paths", {})
    raw["paths"] = {**paths, "workdir": "{WORKDIR}"}
    for key in ("history", "feature_repo", "reference"):
        if paths.get(key) and not Path(paths[key]).is_absolute():
            raw["paths"][key] = str(root / paths[key])
    return yaml.safe_dump(raw, sort_keys=False)


def cli_case(args: list[str], files: dict[str, str | bytes], fragments: tuple[str, ...], folder: Path,
             params_text: str, trained: Path | None) -> dict[str, Any]:
    """One `accelops` invocation from `folder` (its own params.yaml, workdir folder/work): rejected when
    it exits 2 with `error: ...` holding every fragment on the first of its stderr lines, no traceback,
    and no state in its workdir (nor, for a case on `trained`, a file of that project changed)."""
    if "{trained}" in " ".join(args) and trained is None:
        return {"applies": False, "why": NEEDS_TRAINED}
    folder.mkdir(parents=True)
    (folder / "params.yaml").write_text(params_text.replace("{WORKDIR}", str(folder / "work")))
    for name, content in files.items():
        (folder / name).write_bytes(content if isinstance(content, bytes) else content.encode())
    trained_work = None
    if trained is not None:
        from accelops.config import load_params

        trained_work = load_params(trained).layout.workdir
    before = _files_in(trained_work, CLI_LOGS) if trained_work else {}
    argv = [a.format(params=folder / "params.yaml", folder=folder, trained=trained) for a in args]
    started = time.perf_counter()
    res = subprocess.run([str(ACCELOPS), *argv], cwd=folder, capture_output=True, text=True, timeout=120,
                         env=_cli_env())
    seconds = round(time.perf_counter() - started, 2)
    first = res.stderr.splitlines()[0] if res.stderr.strip() else ""
    state = sorted(_files_in(folder / "work", CLI_LOGS))
    changed = trained_work is not None and _files_in(trained_work, CLI_LOGS) != before
    ok = (res.returncode == 2 and first.startswith("error: ") and all(f in first for f in fragments)
          and "Traceback" not in res.stderr and not state and not changed)
    message = f"exit {res.returncode}: {first or res.stdout[:200]}" + (f"; wrote {state[:3]}" if state else "") + \
        ("; changed the trained project" if changed else "")
    return {"applies": True, "rejected": ok, "message": message[:500], "seconds": seconds}


def run_cli(params_path: Path, folder: Path, trained: Path | None = None, workers: int = 4
            ) -> tuple[list[dict[str, Any]], bool | str]:
    """CLI_CASES through the console script, `workers` at a time; and whether `accelops --help` exits 0."""
    text = cli_params_text(params_path)
    with ThreadPoolExecutor(workers) as pool:
        futures = {what: pool.submit(cli_case, args, files, fragments, folder / f"{i}", text, trained)
                   for i, (what, (args, files, fragments)) in enumerate(CLI_CASES.items())}
        clean = pool.submit(subprocess.run, [str(ACCELOPS), "--help"], cwd=folder, capture_output=True, text=True,
                            timeout=120, env=_cli_env())
        rows = [{"case": what} | f.result() for what, f in futures.items()]
        res = clean.result()
    ok = res.returncode == 0 and "Usage" in res.stdout
    return rows, True if ok else f"accelops --help: exit {res.returncode}: {res.stderr[-300:]}"


def serving_ready(params) -> str | None:
    """Why `params`' project cannot score online (None when it can): no tracking store, no @champion, or
    an online store never loaded. Reads only: nothing is created when the project has no store yet."""
    if not params.register_.tracking_uri and not params.layout.mlflow_db.exists():
        return "no tracking store yet (run the training flow)"
    if not params.layout.materialize_report.exists():
        return "the online store was never loaded (run the training flow)"
    from accelops.registry import tracking
    from accelops.registry.promotion import current_champion

    if current_champion(tracking.connect(params), params.register_.model_name) is None:
        return f"model {params.register_.model_name!r} has no @champion (run the training flow)"
    return None


def _known_ids(params, n: int = 3) -> tuple[list[int], int]:
    """`n` ids the online store holds (the feature table's first) and one it does not (above them all)."""
    ids = pd.read_parquet(params.layout.features_table, columns=[params.dataset.entity_id])[params.dataset.entity_id]
    return [int(i) for i in ids.drop_duplicates().head(n)], int(ids.max()) + 1


def run_predict(trained: Path) -> tuple[list[dict[str, Any]], bool | str]:
    """PREDICT_CASES through score_online on the trained project at `trained` (its own champion and online
    store). The clean ids first (it may fetch the champion into the serving cache, as `accelops predict`
    does); then every bad case must leave the workdir's files as they were (logs aside)."""
    from accelops.config import load_params
    from accelops.pipeline.online import score_online

    params = load_params(trained)
    column = params.dataset.entity_id
    known, unknown = _known_ids(params)
    try:
        got = score_online(params, known)
        scored = [p["id"] for p in got["predictions"]]
        clean = True if scored == known and not got["unknown_ids"] and \
            all(0.0 < p["probability"] < 1.0 for p in got["predictions"]) else f"clean ids {known}: {got}"[:300]
    except AccelopsError as exc:
        clean = f"{type(exc).__name__}: {exc}"[:300]
    rows = []
    work = params.layout.workdir
    for what, (make, error, fragments) in PREDICT_CASES.items():
        ids = make(known, unknown)
        before = _files_in(work, ("logs",))
        try:
            got = score_online(params, ids)
        except AccelopsError as exc:
            msg = str(exc)
            ok = error is not None and isinstance(exc, error) and column in msg and all(f in msg for f in fragments)
            rows.append({"case": what, "applies": True, "error": type(exc).__name__, "message": msg[:500],
                         "rejected": ok and _files_in(work, ("logs",)) == before})
            continue
        asked_unknown = [i for i in ids if i not in known]
        scored = [p["id"] for p in got["predictions"]]
        ok = error is None and got["unknown_ids"] == asked_unknown and scored == [i for i in ids if i in known]
        # a request that scores (the known ids) refreshes the champion's serving cache, as a clean one does
        unchanged = _files_in(work, ("logs", "serving_cache")) == \
            {k: v for k, v in before.items() if not k.startswith("serving_cache")}
        rows.append({"case": what, "applies": True, "rejected": ok and unchanged,
                     "message": f"(no error) predictions {scored}, unknown_ids {got['unknown_ids']}"})
    return rows, clean


def run_labels(contract, folder: Path) -> tuple[list[dict[str, Any]], bool | str]:
    """LABEL_CASES through read_labels, each file alone in a folder of its own (as in monitor.labels);
    the clean file must be read back whole."""
    from accelops.monitoring.performance import read_labels

    names = {"id": contract.entity_id, "ts": contract.timestamp, "label": contract.label,
             "two": "3 label(s) not 0 or 1" if contract.positive_label == 1 else "has that value and one other"}
    good = folder / "clean"
    good.mkdir(parents=True)
    _label_file()(good, contract)
    try:
        got = read_labels(good, contract)
        clean = True if len(got) == len(_label_frame(contract)) and list(got.columns) == \
            [contract.entity_id, contract.timestamp, contract.label] else f"read {got.shape}: {list(got.columns)}"
    except AccelopsError as exc:
        clean = f"{type(exc).__name__}: {exc}"[:300]
    rows = []
    for i, (what, (make, fragments)) in enumerate(LABEL_CASES.items()):
        case = folder / f"{i}"
        case.mkdir(parents=True)
        bad = make(case, contract)
        before = _files_in(case)
        try:
            read_labels(case, contract)
            rows.append({"case": what, "applies": True, "rejected": False, "message": "(accepted)"})
        except AccelopsError as exc:
            msg = str(exc)
            ok = isinstance(exc, DataFormatError) and bad.name in msg and \
                all(f.format(**names) in msg for f in fragments) and _files_in(case) == before
            rows.append({"case": what, "applies": True, "rejected": ok, "error": type(exc).__name__,
                         "message": msg[:500]})
    return rows, clean


# labels are optional in a monitoring batch (they may land later in monitor.labels), so the cases
# about the label column do not apply to it; every other case must stop it too
UNLABELLED_OK = ("a single label class", "null labels")


def run_catalogue(params_path: Path, trained: Path | None = None) -> dict[str, Any]:
    """Every case through the library function its entry point calls, on a scratch copy of the project
    (params: load_params; training data: the validate stage; monitoring batch: check_batch before any
    champion; CLI arguments: the console script, each case with a workdir of its own; label files:
    read_labels); the same generated data unbroken must pass each (`clean_accepted`: True, or why not).
    The predict ids (and the CLI's rollback case) need a champion and a loaded online store: they run
    on `trained` (a trained project's params.yaml), by default `params_path`'s project itself when it
    is trained (reading its champion and online store; the champion's files may be fetched into its
    serving cache, as `accelops predict` does), else they are not applicable, with the reason.
    Returns tried / rejected / not applicable per entry point, each miss and the seconds each took."""
    import shutil

    import yaml

    from accelops.config import load_params
    from accelops.pipeline import stages
    from accelops.pipeline.batch_stages import check_batch
    from accelops.pipeline.faults import scratch_project

    started = time.perf_counter()
    folder = Path(tempfile.mkdtemp(prefix="accelops-bad-input-"))
    results: dict[str, list[dict[str, Any]]] = {e: [] for e in ENTRY_POINTS}
    clean: dict[str, Any] = {}
    seconds: dict[str, float] = {}
    why_not: dict[str, str] = {}
    try:
        t = time.perf_counter()
        base = yaml.safe_load(Path(params_path).read_text())
        base.setdefault("paths", {})
        for i, (what, mutate, key, problem) in enumerate(PARAMS_CASES):
            params_base = copy.deepcopy(base) | {"paths": {**base["paths"], "workdir": str(folder / "p" / f"{i}" / "work")}}
            results["params.yaml"].append({"case": what} | _params_case(params_base, mutate, key, problem,
                                                                         folder / "p" / f"{i}"))
        clean["params.yaml"] = True
        seconds["params.yaml"] = time.perf_counter() - t
        t = time.perf_counter()
        scratch = scratch_project(Path(params_path), folder / "project")
        params = load_params(scratch)
        applies = demo_contract(params)
        if applies:
            stages.reference(params)
        seconds["training data"] = time.perf_counter() - t
        seconds["monitoring batch"] = 0.0
        if applies:
            good = _parquet(_frame(), folder / "clean.parquet")
            for entry, run in (("training data", lambda p: stages.validate(params, p)),
                               ("monitoring batch", lambda p: check_batch(params, p))):
                t = time.perf_counter()
                try:
                    run(good)
                    clean[entry] = True
                except AccelopsError as exc:
                    clean[entry] = f"{type(exc).__name__}: {exc}"[:300]
                seconds[entry] += time.perf_counter() - t
        for i, (what, (make, error, fragment)) in enumerate(DATA_CASES.items()):
            for entry, run in (("training data", lambda p: stages.validate(params, p)),
                               ("monitoring batch", lambda p: check_batch(params, p))):
                if not applies or (entry == "monitoring batch" and what in UNLABELLED_OK):
                    results[entry].append({"case": what, "applies": False, "why": (
                        "labels are optional in a monitoring batch" if applies else
                        "the cases come from the demo's generator: the contract has other columns")})
                    continue
                t = time.perf_counter()
                results[entry].append({"case": what} | _data_case(run, make, error, fragment,
                                                                   folder / entry.replace(" ", "_") / f"{i}"))
                seconds[entry] += time.perf_counter() - t
        if trained is None and serving_ready(load_params(params_path)) is None:
            trained = Path(params_path)
        elif trained is not None and (reason := serving_ready(load_params(trained))) is not None:
            raise ValueError(f"{trained}: not a trained project: {reason}")
        t = time.perf_counter()
        results["CLI arguments"], clean["CLI arguments"] = run_cli(scratch, folder / "cli", trained)
        seconds["CLI arguments"] = time.perf_counter() - t
        t = time.perf_counter()
        if trained is not None:
            results["predict ids"], clean["predict ids"] = run_predict(trained)
        else:
            why_not["predict ids"] = serving_ready(load_params(params_path)) or ""
            results["predict ids"] = [{"case": what, "applies": False} for what in PREDICT_CASES]
        seconds["predict ids"] = time.perf_counter() - t
        t = time.perf_counter()
        results["label files"], clean["label files"] = run_labels(params.dataset, folder / "labels")
        seconds["label files"] = time.perf_counter() - t
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    summary = {}
    for entry, rows in results.items():
        tried = [r for r in rows if r["applies"]]
        reasons = sorted({r["why"] for r in rows if not r["applies"] and r.get("why")} |
                         ({why_not[entry]} if entry in why_not and len(tried) < len(rows) else set()))
        summary[entry] = {"tried": len(tried), "rejected": sum(r["rejected"] for r in tried),
                          "clean_accepted": clean.get(entry), "not_applicable": len(rows) - len(tried),
                          "not_applicable_why": "; ".join(reasons),
                          "missed": [{"case": r["case"], "message": r["message"][:300]} for r in tried
                                     if not r["rejected"]],
                          "seconds": round(seconds.get(entry, 0.0), 1)}
    return {"entry_points": summary, "seconds": round(time.perf_counter() - started, 1)}
