"""The bad-input catalogue: every entry point's malformed or bad inputs, each with the typed error and
the words its message must hold (the file, and the key, column and rule where there is one).

Used by the tests (tests/unit/test_config.py, tests/flows/test_bad_inputs.py), bench/config_errors.py
and `accelops audit --bad-input`, which runs them all through the library functions the flows and
the CLI call and prints tried / rejected per entry point."""

from __future__ import annotations

import copy
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

import pandas as pd

from accelops.errors import AccelopsError, ConfigError, DataFormatError, DataValidationError, PiiDetectedError

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


ENTRY_POINTS = ("params.yaml", "training data", "monitoring batch")


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


# labels are optional in a monitoring batch (they may land later in monitor.labels), so the cases
# about the label column do not apply to it; every other case must stop it too
UNLABELLED_OK = ("a single label class", "null labels")


def run_catalogue(params_path: Path) -> dict[str, Any]:
    """Every case through the library function its entry point calls, on a scratch copy of the project
    (params: load_params; training data: the validate stage; monitoring batch: check_batch before any
    champion); the same generated data unbroken must pass each (`clean_accepted`: True, or why not).
    Returns tried / rejected per entry point and each miss."""
    import shutil

    import yaml

    from accelops.config import load_params
    from accelops.pipeline import stages
    from accelops.pipeline.batch_stages import check_batch
    from accelops.pipeline.faults import scratch_project

    started = time.perf_counter()
    folder = Path(tempfile.mkdtemp(prefix="accelops-bad-input-"))
    results: dict[str, list[dict[str, Any]]] = {e: [] for e in ENTRY_POINTS}
    try:
        base = yaml.safe_load(Path(params_path).read_text())
        base.setdefault("paths", {})
        for i, (what, mutate, key, problem) in enumerate(PARAMS_CASES):
            params_base = copy.deepcopy(base) | {"paths": {**base["paths"], "workdir": str(folder / "p" / f"{i}" / "work")}}
            results["params.yaml"].append({"case": what} | _params_case(params_base, mutate, key, problem,
                                                                         folder / "p" / f"{i}"))
        params = load_params(scratch_project(Path(params_path), folder / "project"))
        applies = demo_contract(params)
        clean = {}
        if applies:
            stages.reference(params)
            good = _parquet(_frame(), folder / "clean.parquet")
            for entry, run in (("training data", lambda p: stages.validate(params, p)),
                               ("monitoring batch", lambda p: check_batch(params, p))):
                try:
                    run(good)
                    clean[entry] = True
                except AccelopsError as exc:
                    clean[entry] = f"{type(exc).__name__}: {exc}"[:300]
        for i, (what, (make, error, fragment)) in enumerate(DATA_CASES.items()):
            for entry, run in (("training data", lambda p: stages.validate(params, p)),
                               ("monitoring batch", lambda p: check_batch(params, p))):
                if not applies or (entry == "monitoring batch" and what in UNLABELLED_OK):
                    results[entry].append({"case": what, "applies": False})
                    continue
                results[entry].append({"case": what} | _data_case(run, make, error, fragment,
                                                                   folder / entry.replace(" ", "_") / f"{i}"))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    summary = {}
    for entry, rows in results.items():
        tried = [r for r in rows if r["applies"]]
        summary[entry] = {"tried": len(tried), "rejected": sum(r["rejected"] for r in tried),
                          "clean_accepted": clean.get(entry, True if entry == "params.yaml" else None),
                          "not_applicable": len(rows) - len(tried),
                          "missed": [{"case": r["case"], "message": r["message"][:300]} for r in tried
                                     if not r["rejected"]]}
    return {"entry_points": summary, "seconds": round(time.perf_counter() - started, 1)}
