"""Synthetic customer-churn data with known ground truth and named drift scenarios.

Each row is one snapshot of one customer at an event time. Customers carry latent traits
(engagement, satisfaction, price sensitivity) that correlate their usage features; each
snapshot varies around them. The churn label is Bernoulli(sigmoid(z)) with

    z = -1.0
        + 1.1 * tanh((support_tickets - 2) / 1.5)          saturating complaint effect
        + 0.9 * log1p(late_payments)
        - 0.7 * log1p(tenure_months / 12)                    loyalty
        + 1.2 * sigmoid((days_since_last_login - 14) / 4)    disengagement threshold
        - 0.45 * (satisfaction_score - 3)
        + 0.02 * (monthly_charges - 55) * [plan == basic]    price pain on the cheap plan
        - 0.25 * (num_products - 1)
        - 0.5 * [discount_pct >= 10]
        + 0.5 * [channel == partner]
        + N(0, 0.5)                                          irreducible noise

(`concept_drift` swaps some of these terms; its manifest says which.) Generation is fully
vectorised and deterministic for a seed: 1M rows take a few seconds.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

REGIONS = ["north", "south", "east", "west", "central"]
PLANS = ["basic", "standard", "premium"]
DEVICES = ["ios", "android", "web"]
CHANNELS = ["online", "retail", "partner"]
PLAN_PRICE = {"basic": 25.0, "standard": 55.0, "premium": 95.0}
FIRST = ["Ada", "Ben", "Chloe", "Dev", "Elif", "Femi", "Gita", "Hugo", "Ines", "Jon", "Kira",
         "Luis", "Mei", "Nils", "Omar", "Pia", "Quinn", "Rosa", "Sam", "Tara", "Umar", "Vera"]
LAST = ["Smith", "Okafor", "Garcia", "Ivanova", "Chen", "Müller", "Silva", "Kowalski", "Haddad",
        "Tanaka", "Brown", "Novak", "Rossi", "Dubois", "Larsen", "Nguyen", "Patel", "Kim"]

SNAPSHOTS_PER_CUSTOMER = 4                 # by default each customer is seen 4 times over the period
SCENARIOS = ("none", "covariate_shift", "slice_shift", "new_category", "missing_spike",
             "concept_drift", "label_noise")


class UnknownScenario(ValueError):
    pass


@dataclass
class Generated:
    frame: pd.DataFrame
    manifest: dict = field(default_factory=dict)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def churn_logit(df: pd.DataFrame, concept: str = "base") -> np.ndarray:
    """The documented label function (without noise). `concept="drifted"` is concept_drift's."""
    tickets = df["support_tickets"].to_numpy(float)
    late = df["late_payments"].to_numpy(float)
    tenure = df["tenure_months"].to_numpy(float)
    idle = df["days_since_last_login"].to_numpy(float)
    sat = df["satisfaction_score"].to_numpy(float)
    charges = df["monthly_charges"].to_numpy(float)
    basic = (df["plan"] == "basic").to_numpy(float)
    products = df["num_products"].to_numpy(float)
    discount = (df["discount_pct"].to_numpy(float) >= 10).astype(float)
    partner = (df["channel"] == "partner").to_numpy(float)
    z = (-1.0 + 1.1 * np.tanh((tickets - 2) / 1.5) + 0.9 * np.log1p(late)
         - 0.7 * np.log1p(tenure / 12) + 1.2 * _sigmoid((idle - 14) / 4)
         - 0.45 * (sat - 3) + 0.02 * (charges - 55) * basic
         - 0.25 * (products - 1) - 0.5 * discount + 0.5 * partner)
    if concept == "drifted":
        # Complaints stop predicting churn; price pain hits every plan; premium users leave.
        z = (z - 1.1 * np.tanh((tickets - 2) / 1.5) - 0.02 * (charges - 55) * basic
             + 0.03 * (charges - 55) + 0.8 * (df["plan"] == "premium").to_numpy(float))
    return z


def generate(rows: int, days: int, start: str, seed: int = 0, scenario: str = "none",
             customers: int | None = None, severity: float = 1.0) -> Generated:
    """Generate `rows` snapshots over `days` days from `start` (UTC) with a scenario applied."""
    if scenario not in SCENARIOS:
        raise UnknownScenario(f"unknown scenario {scenario!r}; choose one of {', '.join(SCENARIOS)}")
    if rows <= 0 or days <= 0:
        raise ValueError("rows and days must be positive")
    rng = np.random.default_rng(seed)        # one stream, drawn in a fixed order: same seed, same table
    n_cust = customers or max(1, rows // SNAPSHOTS_PER_CUSTOMER)
    df, cust = _snapshots(rng, rows, days, start, n_cust)
    _personal_data(df, cust, rng, n_cust)
    manifest: dict = {"scenario": scenario, "seed": seed, "rows": rows, "days": days,
                      "start": start, "customers": n_cust, "severity": severity}
    _scenario_and_labels(df, scenario, severity, rng, manifest)
    manifest["end"] = (pd.Timestamp(start, tz="UTC") + pd.Timedelta(days=days)).isoformat()
    return Generated(frame=df, manifest=manifest)


def _scenario_and_labels(df: pd.DataFrame, scenario: str, severity: float, rng: np.random.Generator,
                         manifest: dict) -> None:
    """Apply the scenario to the features, then draw the labels from the (scenario's) label function."""
    rows = len(df)
    concept = _inject(df, scenario, severity, rng, manifest)
    z = churn_logit(df, concept) + rng.normal(0, 0.5, rows)
    df["churned"] = (rng.random(rows) < _sigmoid(z)).astype(np.int64)
    manifest["positive_rate"] = float(df["churned"].mean())
    if scenario == "label_noise":
        rate = min(0.5, 0.05 * severity)
        flipped = np.flatnonzero(rng.random(rows) < rate)
        df.loc[flipped, "churned"] = 1 - df.loc[flipped, "churned"]
        manifest["injected"] = {"churned": {"flip_rate": rate, "rows": len(flipped)}}
        manifest["flipped_rows"] = flipped.tolist()  # row positions in the written file


def apply_scenario(frame: pd.DataFrame, scenario: str, seed: int, severity: float = 1.0) -> Generated:
    """Generated rows (say, the later days of one long generated history, whose customers and window
    aggregates continue the earlier days') with a scenario applied and their labels drawn again."""
    if scenario not in SCENARIOS:
        raise UnknownScenario(f"unknown scenario {scenario!r}; choose one of {', '.join(SCENARIOS)}")
    df = frame.reset_index(drop=True).copy()
    manifest: dict = {"scenario": scenario, "seed": seed, "rows": len(df), "severity": severity}
    _scenario_and_labels(df, scenario, severity, np.random.default_rng(seed), manifest)
    return Generated(frame=df, manifest=manifest)


def continuing_customers(rows: int, days: int, history_rows: int, history_days: int) -> int:
    """`customers` for `rows` snapshots over `days` that continue a history generated with the defaults
    (`history_rows` over `history_days`) at the same per-customer cadence, so per-entity window
    aggregates (events in the last 7 days) keep their distribution: a 7-day batch generated with the
    default customers would hold every customer's 4 snapshots in one week, 8x the history's rate."""
    cadence = history_days / SNAPSHOTS_PER_CUSTOMER          # days between a customer's snapshots
    return max(1, round(rows * cadence / days))


def _snapshots(rng: np.random.Generator, rows: int, days: int, start: str,
               n_cust: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Customer traits, then `rows` snapshots of them in event-time order; (frame, customer per row)."""
    cust = np.arange(rows) % n_cust
    snap = np.arange(rows) // n_cust
    n_snaps = int(snap.max()) + 1

    # customer-level traits
    engagement = rng.beta(2.0, 2.0, n_cust)
    satisfaction = rng.normal(0, 1, n_cust)
    region = rng.choice(REGIONS, n_cust, p=[0.25, 0.2, 0.2, 0.2, 0.15])
    plan = rng.choice(PLANS, n_cust, p=[0.45, 0.35, 0.2])
    device = rng.choice(DEVICES, n_cust, p=[0.4, 0.45, 0.15])
    channel = rng.choice(CHANNELS, n_cust, p=[0.55, 0.3, 0.15])
    base_tenure = rng.gamma(2.0, 12.0, n_cust)
    base_price = np.vectorize(PLAN_PRICE.get)(plan) + rng.normal(0, 6, n_cust)

    # timestamps: snapshots of a customer are spread over the window, never colliding
    span = days * 86400
    slot = span / n_snaps
    offset = rng.uniform(0, slot, n_cust)
    secs = np.floor(snap * slot + offset[cust]).astype(np.int64)
    ts = pd.Timestamp(start, tz="UTC") + pd.to_timedelta(secs, unit="s")

    e = engagement[cust]
    s = satisfaction[cust]
    tenure = base_tenure[cust] + secs / (30 * 86400)
    monthly = np.clip(base_price[cust] + rng.normal(0, 3, rows), 5, None)
    df = pd.DataFrame({
        "customer_id": cust.astype(np.int64),
        "event_timestamp": ts,
        "tenure_months": np.round(tenure, 2),
        "monthly_charges": np.round(monthly, 2),
        "total_charges": np.round(tenure * monthly * rng.lognormal(0, 0.05, rows), 2),
        "data_usage_gb": np.round(rng.lognormal(np.log(2 + 12 * e), 0.5), 3),
        "calls_per_month": rng.poisson(5 + 40 * e).astype(float),
        "sms_per_month": rng.poisson(3 + 25 * e * (device[cust] != "web")).astype(float),
        "avg_session_minutes": np.round(rng.gamma(2.0, 3 + 8 * e), 2),
        "sessions_last_30d": rng.poisson(2 + 30 * e).astype(float),
        "days_since_last_login": np.clip(np.round(rng.exponential(2 + 20 * (1 - e) ** 2), 1), 0, 365),
        "support_tickets": rng.poisson(0.4 + 1.6 * _sigmoid(-1.5 * s)).astype(float),
        "late_payments": rng.poisson(0.15 + 0.6 * (plan[cust] == "basic")).astype(float),
        "discount_pct": rng.choice([0.0, 5.0, 10.0, 20.0], rows, p=[0.55, 0.2, 0.15, 0.1]),
        "num_products": (1 + rng.poisson(0.3 + 1.5 * e)).astype(float),
        "satisfaction_score": np.clip(np.round(3.2 + 0.9 * s + rng.normal(0, 0.6, rows)), 1, 5),
        "region": region[cust],
        "plan": plan[cust],
        "device": device[cust],
        "channel": channel[cust],
    })
    # rows in event-time order, so row positions (used by manifests) are those of the file
    order = np.lexsort((cust, secs))
    return df.iloc[order].reset_index(drop=True), cust[order]


def _personal_data(df: pd.DataFrame, cust: np.ndarray, rng: np.random.Generator, n_cust: int) -> None:
    """Name, email and phone per customer (the PII columns), in place."""
    first = np.array(FIRST)[rng.integers(0, len(FIRST), n_cust)]
    last = np.array(LAST)[rng.integers(0, len(LAST), n_cust)]
    df["full_name"] = (pd.Series(first[cust]) + " " + pd.Series(last[cust])).to_numpy()
    handle = pd.Series(np.char.lower(first[cust].astype(str))) + "." + pd.Series(cust).astype(str)
    df["email"] = (handle + "@example.com").to_numpy()
    df["phone"] = ("+44 7700 " + pd.Series(900000 + cust).astype(str)).to_numpy()


def _inject(df: pd.DataFrame, scenario: str, severity: float, rng: np.random.Generator, manifest: dict) -> str:
    """Apply a feature-side scenario in place, recording what and where in `manifest`; returns the
    label function's concept ("drifted" for concept_drift). label_noise acts on labels, later."""
    rows = len(df)
    if scenario == "covariate_shift":
        manifest["injected"] = _covariate_shift(df, np.ones(rows, bool), severity)
        manifest["where"] = "all rows"
    elif scenario == "slice_shift":
        mask = (df["region"] == "north").to_numpy()
        manifest["injected"] = _covariate_shift(df, mask, 1.5 * severity)
        manifest["where"] = {"slice": {"region": "north"}, "rows": int(mask.sum())}
    elif scenario == "new_category":
        mask = rng.random(rows) < 0.15 * severity
        df.loc[mask, "channel"] = "marketplace"
        manifest["injected"] = {"channel": {"new_value": "marketplace", "rows": int(mask.sum())}}
    elif scenario == "missing_spike":
        rate = min(1.0, 0.3 * severity)
        injected = {}
        for col in ("data_usage_gb", "avg_session_minutes", "sessions_last_30d"):
            mask = rng.random(rows) < rate
            df.loc[mask, col] = np.nan
            injected[col] = {"missing_rate": rate, "rows": int(mask.sum())}
        manifest["injected"] = injected
    elif scenario == "concept_drift":
        manifest["injected"] = {"label_function": "drifted",
                                "changes": ["support_tickets term removed",
                                            "+0.03*(monthly_charges-55) on every plan",
                                            "+0.8 for plan == premium"]}
        return "drifted"
    return "base"


def _covariate_shift(df: pd.DataFrame, mask: np.ndarray, severity: float) -> dict:
    """Shift usage features on `mask` rows: pricier, less engaged, more tickets."""
    changes = {
        "monthly_charges": ("scale", 1 + 0.35 * severity),
        "data_usage_gb": ("scale", 1 + 0.8 * severity),
        "sessions_last_30d": ("scale", max(0.05, 1 - 0.4 * severity)),
        "days_since_last_login": ("add", 6.0 * severity),
        "support_tickets": ("add", 1.0 * severity),
    }
    for col, (op, amount) in changes.items():
        vals = df.loc[mask, col].to_numpy(float)
        df.loc[mask, col] = np.round(vals * amount if op == "scale" else vals + amount, 3)
    df.loc[mask, "total_charges"] = np.round(df.loc[mask, "tenure_months"] * df.loc[mask, "monthly_charges"], 2)
    return {col: {"op": op, "amount": amount, "rows": int(mask.sum())} for col, (op, amount) in changes.items()}


def write(generated: Generated, out: Path, manifest: Path | None = None) -> tuple[Path, Path]:
    """Write the frame as Parquet and its ground-truth manifest (default: beside it, `<stem>.manifest.json`)."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(out.suffix + ".tmp")
    generated.frame.to_parquet(tmp, index=False)
    tmp.replace(out)
    manifest_path = Path(manifest) if manifest else out.with_name(out.stem + ".manifest.json")
    manifest_path.write_text(json.dumps(generated.manifest, indent=2))
    return out, manifest_path
