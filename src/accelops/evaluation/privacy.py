"""Membership inference (OWASP ML04): how well an attacker who sees the served probability and the true
label can tell the rows the model was trained on from rows it never saw.

The attack is the loss threshold of Yeom et al. (2018, "Privacy risk in machine learning"): a row whose
log loss under the model is low is guessed a member. Its ROC-AUC over an equal number of training rows
(members) and non-members is the leak: 0.5 is none, 1.0 a model that remembers every row. The
non-members are rows of the training period held out of fitting (split "audit",
accelops.training.split): test rows come later in time, and telling them apart from training rows
measured drift, not memory (the demo's drift-triggered retraining read 0.60 that way). A percentile
bootstrap gives its 95% interval; the advantage is the attack's best TPR - FPR. The gate fails a model
whose interval lies above `register.gate.max_membership_auc`. This is the cheapest attack that works on
any model; shadow-model attacks can do better on small, overfit tables, so the figure is a lower
bound on the leak, never a proof of privacy."""

from __future__ import annotations

import numpy as np

ATTACK = "loss threshold (Yeom et al. 2018)"


def row_loss(y: np.ndarray, p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=np.float64), 1e-7, 1 - 1e-7)
    y = np.asarray(y).astype(int)
    return -(y * np.log(p) + (1 - y) * np.log(1 - p))


def membership_audit(y_members: np.ndarray, p_members: np.ndarray, y_others: np.ndarray, p_others: np.ndarray,
                     n_boot: int = 200, seed: int = 0) -> dict:
    """Attack AUC (members scored by -loss), its bootstrap 95% interval and the attack's advantage,
    on equal-sized samples of members and non-members (the larger side subsampled)."""
    from sklearn.metrics import roc_auc_score, roc_curve

    rng = np.random.default_rng(seed)
    n = min(len(y_members), len(y_others))
    if n < 20:
        raise ValueError(f"membership audit needs at least 20 members and 20 non-members, got {n}")
    mi = rng.choice(len(y_members), n, replace=False)
    oi = rng.choice(len(y_others), n, replace=False)
    score = -np.concatenate([row_loss(np.asarray(y_members)[mi], np.asarray(p_members)[mi]),
                             row_loss(np.asarray(y_others)[oi], np.asarray(p_others)[oi])])
    member = np.r_[np.ones(n, dtype=int), np.zeros(n, dtype=int)]
    auc = float(roc_auc_score(member, score))
    fpr, tpr, _ = roc_curve(member, score)
    boots = []
    for _ in range(n_boot):
        b = np.r_[rng.integers(0, n, n), n + rng.integers(0, n, n)]
        boots.append(roc_auc_score(member[b], score[b]))
    low, high = np.percentile(boots, [2.5, 97.5])
    return {"attack": ATTACK, "roc_auc": round(auc, 4), "low": round(float(low), 4), "high": round(float(high), 4),
            "advantage": round(float(np.max(tpr - fpr)), 4), "members": n, "non_members": n}
