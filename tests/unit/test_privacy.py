"""Membership inference: a model that remembers its training rows is caught, one that generalises is
not, and the gate holds the attack's AUC under its ceiling."""

from types import SimpleNamespace

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier

from accelops.config import GateParams
from accelops.evaluation.privacy import membership_audit
from accelops.evaluation.schema import MembershipInference
from accelops.registry.rules import absolute_rules


def _data(n, rng):
    x = rng.normal(size=(n, 5))
    y = (x[:, 0] + rng.normal(scale=1.5, size=n) > 0).astype(int)     # noisy labels: memorising them leaks
    return x, y


@pytest.fixture(scope="module")
def split():
    rng = np.random.default_rng(0)
    return _data(3000, rng), _data(3000, rng)


@pytest.mark.parametrize("model,low,high", [(LogisticRegression(), 0.45, 0.55),
                                            (DecisionTreeClassifier(min_samples_leaf=1, random_state=0), 0.65, 1.0)])
def test_an_overfit_model_leaks_membership_and_a_simple_one_does_not(split, model, low, high):
    (xa, ya), (xb, yb) = split
    model.fit(xa, ya)
    audit = membership_audit(ya, model.predict_proba(xa)[:, 1], yb, model.predict_proba(xb)[:, 1], n_boot=50)
    assert low <= audit["roc_auc"] <= high, audit
    assert audit["low"] <= audit["roc_auc"] <= audit["high"] and audit["members"] == audit["non_members"] == 3000
    assert 0 <= audit["advantage"] <= 1


def test_too_few_rows_is_a_clear_error():
    with pytest.raises(ValueError, match="at least 20"):
        membership_audit(np.ones(5), np.ones(5) / 2, np.ones(5), np.ones(5) / 2)


def _evaluation(privacy, note=None):
    after = SimpleNamespace(ece=0.0, noise=0.0)
    return SimpleNamespace(overall=SimpleNamespace(roc_auc=0.8, pr_auc=0.5), privacy=privacy, privacy_note=note,
                           calibration=SimpleNamespace(after=after), robustness=None)


def test_the_gate_holds_the_attack_auc_under_its_ceiling():
    gate = GateParams(min_auc=None, max_ece=None, max_fairness_gap=None, max_robustness_drop=None,
                      max_membership_auc=0.6)
    leak = MembershipInference(attack="loss", roc_auc=0.71, low=0.69, high=0.73, advantage=0.3, members=100,
                               non_members=100)
    rule = {r.rule: r for r in absolute_rules(_evaluation(leak), None, False, gate)}["ceiling.membership_auc"]
    assert rule.verdict == "fail" and rule.value == 0.71 and "0.6" in rule.detail
    fine = leak.model_copy(update={"roc_auc": 0.51, "low": 0.49, "high": 0.53})
    assert absolute_rules(_evaluation(fine), None, False, gate)[0].verdict == "pass"
    missing = absolute_rules(_evaluation(None), None, False, gate)[0]
    assert missing.verdict == "fail" and "missing input" in missing.detail
    assert absolute_rules(_evaluation(leak), None, False, gate.model_copy(update={"max_membership_auc": None})) == []
    small = absolute_rules(_evaluation(None, "too few rows to audit: 17 held out"), None, False, gate)[0]
    assert small.verdict == "skip" and small.detail.startswith("too few rows")
    noisy = leak.model_copy(update={"roc_auc": 0.64, "low": 0.55, "high": 0.73})    # above, but not surely
    assert absolute_rules(_evaluation(noisy), None, False, gate)[0].verdict == "pass"


def test_the_audit_holdout_comes_from_the_training_period_and_is_never_fitted_on(params):
    import pandas as pd

    from accelops.training.split import split_rows

    df = pd.DataFrame({params.dataset.timestamp: pd.date_range("2026-01-01", periods=4000, freq="h", tz="UTC"),
                       params.dataset.label: np.arange(4000) % 2})
    plain = split_rows(df, params.dataset, (0.6, 0.2, 0.2), seed=3)
    audited = split_rows(df, params.dataset, (0.6, 0.2, 0.2), seed=3, audit_rows=5000)
    assert (audited == "audit").sum() == int(2400 * 0.05)                      # at most 5% of the train split
    assert set(plain[audited == "audit"]) == {"train"}                        # taken from the training period
    assert (audited[plain != "train"] == plain[plain != "train"]).all()       # valid and test untouched
    assert audited.equals(split_rows(df, params.dataset, (0.6, 0.2, 0.2), seed=3, audit_rows=5000))
    assert (split_rows(df, params.dataset, (0.6, 0.2, 0.2), seed=3, audit_rows=50) == "audit").sum() == 50
