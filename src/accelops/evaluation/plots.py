"""PNG plots for MLflow: reliability diagram, weakest slices, robustness curves (Agg backend)."""

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


def _save(fig, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    _plt().close(fig)
    return path
