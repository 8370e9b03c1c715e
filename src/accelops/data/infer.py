"""Profile a table and propose its dataset contract: the library behind `accelops init --data FILE`.

`propose` decides each column's role (keys, label, features, PII, text, ignored) with a reason;
`render_params` writes the commented params.yaml a person reviews. Nothing is printed here."""

from __future__ import annotations

import datetime as dt
import math
import re
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from pandas.api import types as pt
from pydantic import BaseModel

from accelops.errors import ConfigError

LABEL_NAMES = frozenset("label target y class outcome churn churned default is_fraud fraud response affair "
                        "affairs".split())
PII_NAMES = frozenset("name first_name last_name full_name email phone address ssn iban".split())
PII_TOKENS = frozenset("email phone address ssn iban".split())      # also as a part: email_address, phone_2
ID_NAME = re.compile(r"(?i:^id$|[_\-\s.]id$)|[a-z0-9](?:Id|ID)$")     # customer_id, CustomerID; not "paid"
TIME_HINTS = ("time", "date", "_at", "timestamp")
MADE = {"entity_id": ("row_id", "--id", "no integer id column: accelops numbers the rows (row_id)"),
        "timestamp": ("ingested_at", "--timestamp", "no time column: each file's rows get its ingestion time "
                      "(modification time); the train/valid/test split is random, stratified, not by time")}
NOT_INTEGER = "identifier (not integer: the Feast entity key must be an integer"
POSITIVE_WORDS = frozenset("yes y true t positive pos".split())
MAX_CODED, MAX_CATEGORIES, SLICE_ROWS, MAX_SLICES = 10, 200, 50, 4


class Proposal(BaseModel):
    """What init decided, with reasons, for printing and tests."""
    source: str
    rows: int
    name: str
    label: str
    positive_label: int | str
    entity_id: str
    timestamp: str
    derive_keys: list[str]
    numeric: dict[str, tuple[float | None, float | None]]
    observed: dict[str, tuple[float, float]]
    categorical: dict[str, list[str]]
    slices: list[str]
    pii: list[str]
    text: list[str]
    ignored: dict[str, str]
    notes: list[str]
    reasons: dict[str, str] = {}     # label / positive_label / entity_id / timestamp -> why (the YAML comment)
    guessed: list[str] = []          # those of the four inferred rather than given (marked `# check`)
    coded: list[str] = []            # numeric columns proposed as categories (marked `# check`)


def dataset_name(source: str) -> str:
    """Lower snake case from the file stem, starting with a letter ("Breast Cancer.csv" -> "breast_cancer")."""
    stem = re.sub(r"(\.(csv|tsv|txt|parquet|pq|gz|bz2|xz|zip|zst))+$", "", Path(source).name, flags=re.I)
    name = re.sub(r"[^a-z0-9]+", "_", re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", stem).lower()).strip("_")
    return name if name[:1].isalpha() else f"data_{name}".rstrip("_")


def _integral(s: pd.Series, nulls_ok: bool = False) -> bool:
    """Integer values (an int dtype, or floats all whole), and no nulls unless `nulls_ok`."""
    if pt.is_bool_dtype(s) or not pt.is_numeric_dtype(s) or (not nulls_ok and s.isna().any()):
        return False
    v = s.dropna().to_numpy(dtype="float64")
    return pt.is_integer_dtype(s) or bool(np.isfinite(v).all() and (v == np.floor(v)).all())


def _num(x: Any) -> int | float:
    return int(x) if float(x).is_integer() else float(x)


def _text(v: Any) -> str:
    """A value as a category string: whole numbers without ".0"."""
    return str(_num(v)) if isinstance(v, (int, float, np.number)) and not isinstance(v, bool) else str(v)


def _round(x: float, up: bool) -> int | float:
    """`x` at 6 significant digits, rounded outward so the bound still holds."""
    q = 10.0 ** (math.floor(math.log10(abs(x))) - 5) if x else 1.0
    return _num(float(f"{(math.ceil(x / q) if up else math.floor(x / q)) * q:.6g}"))


def _is_time(s: pd.Series) -> bool:
    """A datetime column, or text of which >= 95% of a 1000-value sample parses as dates."""
    if pt.is_datetime64_any_dtype(s):
        return True
    values = s.dropna()
    if values.empty or not (pt.is_object_dtype(s) or pt.is_string_dtype(s)):
        return False
    values = values.sample(1000, random_state=0) if len(values) > 1000 else values
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return bool(pd.to_datetime(values.astype(str), errors="coerce", utc=True).notna().mean() >= 0.95)
        except (ValueError, TypeError, OverflowError):
            return False


def _given(df: pd.DataFrame, source: str, col: str, flag: str, ok: Callable[[pd.Series], bool], rule: str) -> None:
    """Raise ConfigError unless the column named by `flag` exists and passes `ok`."""
    if col not in df.columns:
        raise ConfigError(f"{source}: no column {col!r} ({flag}); columns: {list(df.columns)[:20]}")
    if not ok(df[col]):
        raise ConfigError(f"{source}: column {col!r} cannot be the {flag.strip('-')} ({flag}): {rule}")


def _label(df: pd.DataFrame, source: str, given: str | None, ask: Callable[[str, list[str]], str] | None,
           distinct: dict[str, int]) -> tuple[str, str, bool]:
    """(label column, why, guessed)."""
    why = "given (--label)"
    if given is None:
        two = [c for c in df.columns if distinct[c] == 2]
        named = [c for c in two if c.lower() in LABEL_NAMES or c.lower().endswith(("_label", "_target"))]
        if len(named) == 1:
            return named[0], "the only two-valued column named like a label", True
        if not named and len(two) == 1:
            return two[0], "the only two-valued column", True
        what = (f"several two-valued columns are named like a label: {named}" if named else "no two-valued "
                f"column is named like a label (label, target, class, outcome, ...); two-valued: {two[:10]}" if two
                else "no column has exactly two values (map the label to two values first)")
        if ask is None or not two:
            raise ConfigError(f"{source}: cannot tell the label column: {what}; pass --label COLUMN")
        given, why = ask(f"{source}: which column is the label? {what}", named + [c for c in two if c not in named]), \
            "chosen when asked"
    values = sorted(map(_text, df[given].dropna().unique())) if given in df.columns else []
    _given(df, source, given, "--label", lambda s: len(values) == 2,
           f"a binary label has exactly two values; found {len(values)}: {values[:5]}")
    return given, why, why != "given (--label)"


def _positive(s: pd.Series) -> tuple[int | str, str | None]:
    """(positive value, why when it is a guess: the larger number, or the rarer value)."""
    values = s.dropna()
    if pt.is_bool_dtype(values) or pt.is_numeric_dtype(values):
        lo, hi = sorted(float(v) for v in values.unique())
        if (lo, hi) == (0.0, 1.0):
            return 1, None
        return (_num(hi) if hi.is_integer() else str(hi)), f"the larger of {_text(lo)}/{_text(hi)}"
    counts = values.map(_text).value_counts()
    a, b = sorted(counts.index)
    if len(yes := [v for v in (a, b) if v.strip().lower() in POSITIVE_WORDS]) == 1:
        return yes[0], f"{yes[0]!r} of {a!r}/{b!r} reads as the positive answer"
    return (b if counts[b] <= counts[a] else a), f"the rarer of {a!r}/{b!r}"


def _keys(df: pd.DataFrame, source: str, label: str, entity_id: str | None, timestamp: str | None,
          distinct: dict[str, int]) -> tuple[dict[str, str | None], dict[str, str], list[str]]:
    """({entity_id, timestamp: column or None when made}, {role: why}, the other time-like columns)."""
    if entity_id is not None:
        _given(df, source, entity_id, "--id", lambda s: entity_id != label and _integral(s), "the Feast entity key "
               "must be an integer column with no missing values; omit --id and accelops numbers the rows (row_id)")
        ent, ent_why = entity_id, "given (--id)"
    else:
        ids = [c for c in df.columns if c != label and ID_NAME.search(c) and distinct[c] >= 2 and _integral(df[c])]
        ent = max(ids, key=lambda c: distinct[c]) if ids else None          # the first of the most distinct
        ent_why = f"an integer column named like an id, {distinct[ent]} distinct values" if ent else \
            "made: the file has no integer id column; accelops numbers the rows"
    times = [c for c in df.columns if c not in (label, ent) and (pt.is_datetime64_any_dtype(df[c]) or (
        any(h in c.lower() for h in TIME_HINTS) and _is_time(df[c])))]
    times.sort(key=lambda c: not pt.is_datetime64_any_dtype(df[c]))       # datetime dtypes first
    if timestamp is not None:
        _given(df, source, timestamp, "--timestamp", lambda s: timestamp not in (label, ent) and _is_time(s),
               "it must be a date/time column (>= 95% of sampled values parse as dates); omit --timestamp and "
               "each file's rows get its ingestion time")
        tim, tim_why = timestamp, "given (--timestamp)"
    else:
        tim = times[0] if times else None
        tim_why = "made: the file has no time column; each file's rows get its ingestion time" if tim is None \
            else "a date/time column" if pt.is_datetime64_any_dtype(df[tim]) else "text that parses as dates"
    return {"entity_id": ent, "timestamp": tim}, {"entity_id": ent_why, "timestamp": tim_why}, \
        [c for c in times if c != tim]


def propose(df: pd.DataFrame, source: str, label: str | None = None, entity_id: str | None = None,
            timestamp: str | None = None, ask: Callable[[str, list[str]], str] | None = None,
            pii_scan: Callable[..., Any] | None = None) -> Proposal:
    """Decide every column's role. `pii_scan` is `accelops.validation.pii_scan.scan`, passed in by the
    caller (the data layer may not import validation); without it only column names flag personal data."""
    if df.empty:
        raise ConfigError(f"{source}: the table has no rows")
    df = df.rename(columns=str)
    distinct = {c: int(df[c].nunique()) for c in df.columns}
    lab, label_why, guess = _label(df, source, label, ask, distinct)
    guessed, notes = (["label"], [f"label: {lab!r} ({label_why})"]) if guess else ([], [])
    pos, pos_why = _positive(df[lab])
    if pos_why:
        guessed.append("positive_label")
        notes.append(f"positive class: {pos!r} ({pos_why}); change dataset.positive_label if the other is")
    if nulls := int(df[lab].isna().sum()):
        notes.append(f"label {lab!r}: {nulls} rows have no label; validation requires one (drop them)")
    found, reasons, other_times = _keys(df, source, lab, entity_id, timestamp, distinct)
    reasons |= {"label": label_why} | ({"positive_label": pos_why} if pos_why else {})
    keys, derive = {}, []
    for role, col in found.items():
        made, flag, note = MADE[role]
        if col is None and made in df.columns:
            raise ConfigError(f"{source}: accelops would make the {role} column {made!r}, but the file has a "
                              f"column of that name that cannot be one; rename it or pass {flag}")
        keys[role], derive = col or made, derive + ([] if col else [role])
        if col is None or (entity_id if role == "entity_id" else timestamp) is None:
            guessed += [role] if col else []
            notes.append(note if col is None else f"{role}: {col!r} ({reasons[role]})")
    ignored = {c: "a second time column" for c in other_times}
    rest = [c for c in df.columns if c not in {lab, *keys.values(), *ignored}]
    strings = [c for c in rest if not pt.is_bool_dtype(df[c]) and (pt.is_object_dtype(df[c]) or
               pt.is_string_dtype(df[c]) or isinstance(df[c].dtype, pd.CategoricalDtype))]
    flagged: set[str] = set()
    if pii_scan is None:
        notes.append("the personal-data scan was not run: only column names were checked")
    elif strings:
        flagged = {f["column"] for f in pii_scan(df[strings], declared=[], source=source).undeclared}
    numeric: dict[str, tuple[float | None, float | None]] = {}
    observed: dict[str, tuple[float, float]] = {}
    categorical: dict[str, list[str]] = {}
    support: dict[str, int] = {}                  # values with at least SLICE_ROWS rows (for slices)
    pii, text, coded = [], [], []
    for c in rest:
        s, n = df[c], distinct[c]
        if c in flagged or c.lower() in PII_NAMES or PII_TOKENS & set(re.split(r"[^a-z0-9]+", c.lower())):
            pii.append(c)       # first: an undeclared personal-data column blocks every batch, even a constant one
        elif n <= 1:
            ignored[c] = "all null" if n == 0 else "constant"
        elif ID_NAME.search(c) and n > 20:
            ignored[c] = "identifier (a second id column)" if _integral(s, nulls_ok=True) else \
                NOT_INTEGER + ("; rows get row_id)" if "entity_id" in derive else ")")
        elif pt.is_bool_dtype(s):
            categorical[c], support[c] = ["False", "True"], int((s.dropna().value_counts() >= SLICE_ROWS).sum())
        elif pt.is_numeric_dtype(s):
            whole = _integral(s, nulls_ok=True)
            v = s.to_numpy(dtype="float64", na_value=np.nan)
            v = v[np.isfinite(v)]
            # codes start at 1 (a survey's 1-5, occupation 1-6); 0-based integers are counts or amounts
            if n <= 2 or (whole and n <= MAX_CODED and v.size and v.min() >= 1):
                counts = s.value_counts()
                categorical[c], support[c] = [_text(x) for x in sorted(counts.index)], int((counts >= SLICE_ROWS).sum())
                coded.append(c)
            elif whole and n == len(s) and s.is_monotonic_increasing and v[-1] - v[0] == n - 1:
                ignored[c] = "row number (consecutive integers)"
            elif v.size:
                lo, hi = float(v.min()), float(v.max())
                observed[c], span = (lo, hi), hi - lo or 1.0
                numeric[c] = (0 if lo >= 0 else _round(lo - span, up=False), _round(hi + span, up=True))
            else:
                ignored[c] = "no finite values"
        elif c in strings:
            values = s.dropna().astype(str)
            share = n / len(values)
            if share > 0.5 and values.sample(min(len(values), 10000), random_state=0).str.len().mean() > 30:
                text.append(c)
            elif share > 0.5 and n > 50:
                ignored[c] = "high-cardinality identifier-like strings"
            elif n > MAX_CATEGORIES:
                ignored[c] = f"more than {MAX_CATEGORIES} values"
            else:
                counts = values.value_counts()
                categorical[c], support[c] = sorted(counts.index), int((counts >= SLICE_ROWS).sum())
        else:
            ignored[c] = f"unsupported type {s.dtype}"
    if not numeric and not categorical:
        raise ConfigError(f"{source}: no usable feature column (ignored: {ignored}; pii: {pii}; text: {text}); "
                          "a contract needs at least one numeric or categorical feature")
    slices = sorted((c for c, vals in categorical.items() if 2 <= len(vals) <= 20 and support[c] >= 2),
                    key=lambda c: len(categorical[c]))[:MAX_SLICES]
    notes += [f"coded as categories (<= {MAX_CODED} integer values from 1 up): {', '.join(coded)}; move one under "
              "numeric_features if its order matters"] if coded else []
    notes += [f"personal data (never features; dropped before storage): {', '.join(pii)}"] if pii else []
    notes += [f"not used: {'; '.join(f'{c}: {why}' for c, why in ignored.items())}"] if ignored else []
    return Proposal(source=source, rows=len(df), name=dataset_name(source), label=lab, positive_label=pos,
                    derive_keys=derive, numeric=numeric, observed=observed, categorical=categorical, slices=slices,
                    pii=pii, text=text, ignored=ignored, notes=notes, reasons=reasons, guessed=guessed,
                    coded=coded, **keys)


def _y(value: Any) -> str:
    """One YAML scalar or flow list, quoted where YAML would misread it; whole floats as ints."""
    value = [_num(v) if isinstance(v, float) else v for v in value] if isinstance(value, (list, tuple)) else \
        _num(value) if isinstance(value, float) else value
    out = yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=float("inf"))
    return out.removesuffix("\n...\n").strip()


def _line(indent: int, key: str, value: str, comment: str = "") -> str:
    text = f"{'  ' * indent}{_y(key)}:{' ' + value if value else ''}"
    return f"{text:<40}  # {comment}" if comment else text


def render_params(p: Proposal, history: str) -> str:
    """The params.yaml text: a header, `paths.history` and the `dataset` section, with comments."""
    def why(key: str) -> str:
        return ("check: " if key in p.guessed else "") + p.reasons.get(key, "")

    out = [f"# Written by `accelops init` from {p.source} ({p.rows} rows) on {dt.date.today().isoformat()}.",
           "# Review the lines marked `# check`. Every other key has a default: `accelops params explain KEY`.",
           *(["# Decisions to review:", *(f"#   - {n}" for n in p.notes)] if p.notes else []),
           "", "paths:", _line(1, "history", _y(history)), "", "dataset:", _line(1, "name", _y(p.name)),
           _line(1, "entity_id", _y(p.entity_id), why("entity_id")),
           _line(1, "timestamp", _y(p.timestamp), why("timestamp"))]
    if p.derive_keys:
        out.append(_line(1, "derive_keys", _y(p.derive_keys), "keys the files lack, made when a file is read"))
    out += [_line(1, "label", _y(p.label), why("label")),
            _line(1, "positive_label", _y(p.positive_label), why("positive_label")),
            _line(1, "numeric_features", "" if p.numeric else "{}", "name: [min, max] accepted (null = unbounded)")]
    for c, bounds in p.numeric.items():
        seen = p.observed.get(c)
        out.append(_line(2, c, _y(list(bounds)), f"observed [{seen[0]:.6g}, {seen[1]:.6g}]" if seen else ""))
    out.append(_line(1, "categorical_features", "" if p.categorical else "{}", "name: accepted values"))
    out += [_line(2, c, _y(values), "check: coded numbers; order matters? move under numeric_features"
                  if c in p.coded else "") for c, values in p.categorical.items()]
    out += [_line(1, "slices", _y(p.slices), f"metrics per value (>= 2 values with >= {SLICE_ROWS} rows)"),
            _line(1, "pii", _y(p.pii), "personal data: never features; dropped (pii.policy) before storage"),
            _line(1, "text", _y(p.text), "free text: personal data redacted; never features")]
    if p.ignored:
        out += ["", "# ignored columns (not in the contract, so a file may carry them):",
                *(f"#   {c}: {why}" for c, why in p.ignored.items())]
    return "\n".join(out) + "\n"
