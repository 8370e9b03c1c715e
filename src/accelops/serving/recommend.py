"""Cost model and the recommendation: the cheapest variant that meets the objective and stays
within the accuracy tolerance of the fp32 reference.

cost per million predictions = price per device-hour / 3600 * (median seconds per batch / rows
per batch) * 1e6: the device is billed while it serves, so faster is cheaper on the same device."""

from __future__ import annotations

from accelops.config import BenchmarkParams


def cost_per_million(price_per_hour: float, rows_per_s: float) -> float:
    return price_per_hour / 3600.0 / rows_per_s * 1e6


def accurate(row: dict, bench: BenchmarkParams) -> bool:
    return row["auc_drop"] <= bench.max_auc_drop and row["max_prob_diff"] <= bench.max_prob_diff


def recommend(rows: list[dict], bench: BenchmarkParams, devices: list[str] | None = None) -> dict:
    """rows: one per (variant, batch size) with p99_ms, cost_per_million, auc_drop, max_prob_diff.
    Online: batch 1, p99 <= online_p99_ms, cheapest (then lowest p99). Batch: cheapest at any batch
    size. Only accurate variants qualify; `devices` restricts the choice (e.g. a CPU fallback)."""
    pool = [r for r in rows if accurate(r, bench) and (devices is None or r["device"] in devices)]
    online_pool = [r for r in pool if r["batch_size"] == 1 and r["p99_ms"] <= bench.online_p99_ms]
    online = min(online_pool, key=lambda r: (r["cost_per_million"], r["p99_ms"]), default=None)
    batch = min(pool, key=lambda r: (r["cost_per_million"], r["p50_ms"]), default=None)
    batch1 = [r for r in rows if r["batch_size"] == 1]
    if online is not None:
        why_online = (f"{online['variant']}: p99 {online['p99_ms']:.3f} ms at batch 1 <= {bench.online_p99_ms} ms, "
                      f"${online['cost_per_million']:.3g} per million, AUC drop {online['auc_drop']:.5f}; "
                      f"cheapest of {len(online_pool)} qualifying")
    elif not batch1:
        why_online = "batch size 1 was not benchmarked"
    else:
        best = min(batch1, key=lambda r: r["p99_ms"])
        why_online = (f"no variant within the accuracy tolerance has p99 <= {bench.online_p99_ms} ms at batch 1 "
                      f"(fastest: {best['variant']} at {best['p99_ms']:.3f} ms)")
    why_batch = ("no variant within the accuracy tolerance" if batch is None else
                 f"{batch['variant']} at batch {batch['batch_size']}: ${batch['cost_per_million']:.3g} per million, "
                 f"{batch['rows_per_s']:.0f} rows/s, AUC drop {batch['auc_drop']:.5f}")
    return {
        "online": _choice(online), "online_reason": why_online, "meets_online_objective": online is not None,
        "batch": _choice(batch), "batch_reason": why_batch,
        "objective": {"online_p99_ms": bench.online_p99_ms, "max_auc_drop": bench.max_auc_drop,
                      "max_prob_diff": bench.max_prob_diff},
    }


def _choice(row: dict | None) -> dict | None:
    if row is None:
        return None
    from accelops.serving.schema import Choice

    return {k: row[k] for k in Choice.model_fields}


def pareto_front(points: list[tuple[float, float]]) -> list[int]:
    """Indices of the points not dominated in (x, y), both minimised."""
    order = sorted(range(len(points)), key=lambda i: (points[i][0], points[i][1]))
    front, best_y = [], float("inf")
    for i in order:
        if points[i][1] < best_y:
            front.append(i)
            best_y = points[i][1]
    return front
