"""PNG plots for MLflow: reliability diagram, weakest slices, robustness curves, training curves and
the serving benchmark (latency vs batch size, cost vs latency with the Pareto front); Agg backend."""

from __future__ import annotations

from pathlib import Path


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def reliability_diagram(before: list[dict], after: list[dict], ece: tuple[float, float], path: Path) -> Path:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.plot([0, 1], [0, 1], "k--", lw=1, label="perfect")
    for curve, label in ((before, f"raw (ECE {ece[0]:.3f})"), (after, f"temperature-scaled (ECE {ece[1]:.3f})")):
        ax.plot([b["mean_predicted"] for b in curve], [b["observed_rate"] for b in curve], "o-", ms=3, label=label)
    ax.set(xlabel="mean predicted probability", ylabel="observed churn rate", title="Reliability (test split)",
           xlim=(0, 1), ylim=(0, 1))
    ax.legend(loc="upper left")
    return _save(fig, path)


def slice_chart(slices: list[dict], overall: float, tolerance: float, path: Path, top: int = 20) -> Path:
    plt = _plt()
    rows = [s for s in slices if s["roc_auc"] is not None][:top]
    fig, ax = plt.subplots(figsize=(8, 0.35 * len(rows) + 1.5))
    labels = [f"{s['slice']}={s['value']} (n={s['support']})" for s in rows]
    aucs = [s["roc_auc"] for s in rows]
    err = [[a - s["low"] for a, s in zip(aucs, rows)], [s["high"] - a for a, s in zip(aucs, rows)]]
    colors = ["tab:red" if s["weak"] else "tab:blue" for s in rows]
    ax.barh(range(len(rows)), aucs, xerr=err, color=colors, alpha=0.8)
    ax.axvline(overall, color="k", lw=1, label=f"overall {overall:.3f}")
    ax.axvline(overall - tolerance, color="k", lw=1, ls=":", label=f"overall - {tolerance}")
    ax.set_yticks(range(len(rows)), labels, fontsize=7)
    ax.invert_yaxis()
    ax.set(xlabel="ROC-AUC (95% bootstrap CI); red = flagged weak", title=f"{len(rows)} weakest slices")
    lo = min([s["low"] for s in rows] + [overall - tolerance]) - 0.02
    ax.set_xlim(max(0.0, lo), 1.0)
    ax.legend(loc="lower right", fontsize=7)
    return _save(fig, path)


def robustness_chart(robustness: dict, path: Path) -> Path:
    plt = _plt()
    curves = robustness["curves"]
    fig, axes = plt.subplots(1, len(curves), figsize=(3.2 * len(curves), 3), squeeze=False)
    for ax, (name, points) in zip(axes[0], curves.items()):
        ax.plot([0] + [p["strength"] for p in points], [robustness["clean_auc"]] + [p["roc_auc"] for p in points], "o-")
        ax.set(title=name, xlabel="strength", ylabel="ROC-AUC")
    return _save(fig, path)


def training_curves(history: list[dict], path: Path) -> Path:
    plt = _plt()
    epochs = [h["epoch"] for h in history]
    fig, (a, b) = plt.subplots(1, 2, figsize=(8, 3))
    a.plot(epochs, [h["train_loss"] for h in history], "o-")
    a.set(title="training loss", xlabel="epoch")
    b.plot(epochs, [h["valid_auc"] for h in history], "o-", color="tab:green")
    b.set(title="validation ROC-AUC", xlabel="epoch")
    return _save(fig, path)


def latency_vs_batch(rows: list[dict], path: Path) -> Path:
    """p50 latency per call against batch size, one line per variant (log-log)."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(8, 5))
    for variant in dict.fromkeys(r["variant"] for r in rows):
        cells = sorted((r for r in rows if r["variant"] == variant), key=lambda r: r["batch_size"])
        ax.plot([r["batch_size"] for r in cells], [r["p50_ms"] for r in cells], "o-", ms=3, label=variant)
    ax.set(xscale="log", yscale="log", xlabel="batch size (rows)", ylabel="p50 latency per call (ms)",
           title="Latency vs batch size")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)
    return _save(fig, path)


def cost_vs_latency(rows: list[dict], front: list[int], chosen: dict, path: Path) -> Path:
    """Every (variant, batch size) cell: p99 latency per call vs cost per million predictions; the
    Pareto front joined, the recommended online and batch choices ringed."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(8, 5))
    for variant in dict.fromkeys(r["variant"] for r in rows):
        cells = [r for r in rows if r["variant"] == variant]
        ax.scatter([r["p99_ms"] for r in cells], [r["cost_per_million"] for r in cells], s=14, label=variant)
    pts = sorted((rows[i]["p99_ms"], rows[i]["cost_per_million"]) for i in front)
    ax.plot([p[0] for p in pts], [p[1] for p in pts], "k--", lw=1, label="Pareto front")
    for key, marker in (("online", "s"), ("batch", "D")):
        if (c := chosen.get(key)) is not None:
            ax.scatter([c["p99_ms"]], [c["cost_per_million"]], s=140, facecolors="none", edgecolors="red",
                       marker=marker, label=f"recommended {key}: {c['variant']} @ {c['batch_size']}")
    ax.set(xscale="log", yscale="log", xlabel="p99 latency per call (ms)", ylabel="USD per million predictions",
           title="Cost vs latency (all batch sizes)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=6)
    return _save(fig, path)


def _save(fig, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    _plt().close(fig)
    return path
